from fastapi import FastAPI

from hopen_common.service import ServiceSpec, create_service_app
from hopen_reporting.consumers import HANDLERS, TOPICS
from hopen_reporting.settings import ReportingSettings
from hopen_reporting.syntheses.router import router as syntheses_router


def spec(settings: ReportingSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="reporting",
        title="HOP'EN 2 — reporting",
        settings=settings or ReportingSettings(),
        routers=[syntheses_router],
        handlers=HANDLERS,
        topics=TOPICS,
    )


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    return create_service_app(spec(settings))

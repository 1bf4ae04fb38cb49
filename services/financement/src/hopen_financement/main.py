from fastapi import FastAPI

from hopen_common.service import ServiceSpec, create_service_app
from hopen_financement.consumers import HANDLERS, TOPICS
from hopen_financement.financements.router import router as financements_router
from hopen_financement.settings import FinancementSettings


def spec(settings: FinancementSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="financement",
        title="HOP'EN 2 — financement",
        settings=settings or FinancementSettings(),
        routers=[financements_router],
        handlers=HANDLERS,
        topics=TOPICS,
    )


def create_app(settings: FinancementSettings | None = None) -> FastAPI:
    return create_service_app(spec(settings))

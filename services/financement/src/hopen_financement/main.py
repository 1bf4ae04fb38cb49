from fastapi import FastAPI

from hopen_common.service import ServiceSpec, create_service_app
from hopen_financement.aap.router import router as aap_router
from hopen_financement.consumers import HANDLERS, TOPICS
from hopen_financement.enveloppes.router import propositions_router
from hopen_financement.enveloppes.router import router as enveloppes_router
from hopen_financement.exports.router import router as exports_router
from hopen_financement.hospiconnect.router import router as hospiconnect_router
from hopen_financement.notifications.router import router as notifications_router
from hopen_financement.settings import FinancementSettings
from hopen_financement.simulations.router import router as simulations_router


def spec(settings: FinancementSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="financement",
        title="HOP'EN 2 — financement",
        settings=settings or FinancementSettings(),
        routers=[notifications_router, simulations_router, enveloppes_router, hospiconnect_router,
                 aap_router, exports_router, propositions_router],
        handlers=HANDLERS,
        topics=TOPICS,
    )


def create_app(settings: FinancementSettings | None = None) -> FastAPI:
    return create_service_app(spec(settings))

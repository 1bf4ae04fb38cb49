from fastapi import FastAPI

from hopen_candidature.candidatures.router import router as candidatures_router
from hopen_candidature.consumers import HANDLERS, TOPICS
from hopen_candidature.corrections.router import router as corrections_router
from hopen_candidature.courriels.router import router as courriels_router
from hopen_candidature.echeances.service import tache_rappels
from hopen_candidature.hospiconnect.router import router as hospiconnect_router
from hopen_candidature.messages.router import router as messages_router
from hopen_candidature.pieces.router import router as pieces_router
from hopen_candidature.pieces.service import stockage_du_service
from hopen_candidature.projets.router import router as projets_router
from hopen_candidature.settings import CandidatureSettings
from hopen_common.courriel import tache_expediteur
from hopen_common.service import ServiceSpec, create_service_app


def spec(settings: CandidatureSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="candidature",
        title="HOP'EN 2 — candidatures",
        settings=settings or CandidatureSettings(),
        routers=[candidatures_router, hospiconnect_router, projets_router, pieces_router, corrections_router,
                 messages_router, courriels_router],
        handlers=HANDLERS,
        topics=TOPICS,
        ressources=[stockage_du_service],
        taches=[tache_rappels, tache_expediteur],
    )


def create_app(settings: CandidatureSettings | None = None) -> FastAPI:
    return create_service_app(spec(settings))

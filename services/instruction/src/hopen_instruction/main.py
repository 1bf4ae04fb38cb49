from fastapi import FastAPI

from hopen_common.courriel import tache_expediteur
from hopen_common.service import ServiceSpec, create_service_app
from hopen_instruction.affectations.router import router as affectations_router
from hopen_instruction.avis.router import router as avis_router
from hopen_instruction.consumers import HANDLERS, TOPICS
from hopen_instruction.corrections.router import router as corrections_router
from hopen_instruction.dossiers.router import router as dossiers_router
from hopen_instruction.echeances.router import router as echeances_router
from hopen_instruction.echeances.service import tache_rappels
from hopen_instruction.enveloppes.router import router as enveloppes_router
from hopen_instruction.etats.router import router as etats_router
from hopen_instruction.hospiconnect.router import router as hospiconnect_router
from hopen_instruction.lots.router import router as lots_router
from hopen_instruction.lots.worker import lots
from hopen_instruction.messages.router import router as messages_router
from hopen_instruction.pieces.router import router as pieces_router
from hopen_instruction.projets.router import router as projets_router
from hopen_instruction.propositions.router import router as propositions_router
from hopen_instruction.settings import InstructionSettings
from hopen_instruction.webhooks.router import router as webhooks_router
from hopen_instruction.webhooks.worker import tache_consommateur_webhooks, tache_livraisons


def spec(settings: InstructionSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="instruction",
        title="HOP'EN 2 — instruction ARS",
        settings=settings or InstructionSettings(),
        routers=[dossiers_router, hospiconnect_router, projets_router, enveloppes_router, pieces_router,
                 etats_router, corrections_router, messages_router, affectations_router, avis_router,
                 lots_router, echeances_router, propositions_router, webhooks_router],
        handlers=HANDLERS,
        topics=TOPICS,
        ressources=[lots],
        taches=[tache_rappels, tache_expediteur, tache_consommateur_webhooks, tache_livraisons],
    )


def create_app(settings: InstructionSettings | None = None) -> FastAPI:
    return create_service_app(spec(settings))

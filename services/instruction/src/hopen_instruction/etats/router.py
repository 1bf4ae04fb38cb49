"""ARS transitions of candidatures' dossiers and AAP projects (ADR 0013):
POST /v1/dossiers/{id}/instruction (take into instruction), .../classement (close without a decision,
motivated), .../reouverture (reopen a dossier closed without a decision, motivated) and GET
.../historique; the same under /v1/projets/{id}."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hopen_common.auth import Ars, ArsOuDns, Principal
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent
from hopen_instruction.etats import service
from hopen_instruction.etats.rules import Action, TypeDossier
from hopen_instruction.etats.schemas import (
    EtatLu,
    PriseEnInstructionDemande,
    TransitionLue,
    TransitionMotiveeDemande,
)

router = APIRouter(tags=["états"])
Lecteur = ArsOuDns
Instructeur = Ars
PREFIXES: dict[TypeDossier, str] = {"candidature": "/v1/dossiers", "projet": "/v1/projets"}


async def etat(session: SessionDep, principal: Principal, dossier_type: TypeDossier, dossier_id: str
               ) -> EtatLu:
    objet = await service.charger(session, principal, dossier_type, dossier_id)
    passages = await service.historique(session, dossier_type, objet.id)
    return EtatLu(dossier_type=dossier_type, dossier_id=objet.id, statut=objet.statut,
                  historique=[TransitionLue.model_validate(t, from_attributes=True) for t in passages],
                  duree_instruction_secondes=service.duree(passages, datetime.now(UTC)))


async def _effectuer(session: SessionDep, principal: Principal, request: Request, dossier_type: TypeDossier,
                     dossier_id: str, action: Action, motivation: str | None) -> JSONResponse:
    async def executer() -> EtatLu:
        await service.effectuer(session, principal, dossier_type, dossier_id, action, motivation=motivation,
                                maintenant=datetime.now(UTC))
        return await etat(session, principal, dossier_type, dossier_id)
    return await idempotent(session, request, principal, executer, statut=200)


def _routes(dossier_type: TypeDossier) -> None:
    prefixe = PREFIXES[dossier_type]

    @router.get(f"{prefixe}/{{dossier_id}}/historique", response_model=EtatLu,
                name=f"historique_{dossier_type}")
    async def lire_historique(dossier_id: str, session: SessionDep, principal: Lecteur) -> EtatLu:
        """Every transition (who, when, from, to, why) and the processing time without the waits for a
        correction. Roles: ars (its region; another region's dossier answers 404), dns."""
        return await etat(session, principal, dossier_type, dossier_id)

    @router.post(f"{prefixe}/{{dossier_id}}/instruction", response_model=EtatLu,
                 name=f"prendre_en_instruction_{dossier_type}")
    async def prendre_en_instruction(dossier_id: str, session: SessionDep, principal: Instructeur,
                                     request: Request, demande: PriseEnInstructionDemande | None = None
                                     ) -> JSONResponse:
        """ARS of the region: a deposited dossier goes en_instruction (DossierPrisEnInstruction); 409
        `transition-interdite` from any other state. The body (an optional motivation) may be left
        out. Accepts an Idempotency-Key."""
        return await _effectuer(session, principal, request, dossier_type, dossier_id,
                                "prendre_en_instruction", None if demande is None else demande.motivation)

    @router.post(f"{prefixe}/{{dossier_id}}/classement", response_model=EtatLu,
                 name=f"classer_sans_suite_{dossier_type}")
    async def classer_sans_suite(dossier_id: str, demande: TransitionMotiveeDemande, session: SessionDep,
                                 principal: Instructeur, request: Request) -> JSONResponse:
        """ARS of the region, motivated: a dossier not decided yet is closed without a decision
        (DossierClasseSansSuite); no money follows. Accepts an Idempotency-Key."""
        return await _effectuer(session, principal, request, dossier_type, dossier_id,
                                "classer_sans_suite", demande.motivation)

    @router.post(f"{prefixe}/{{dossier_id}}/reouverture", response_model=EtatLu,
                 name=f"rouvrir_{dossier_type}")
    async def rouvrir(dossier_id: str, demande: TransitionMotiveeDemande, session: SessionDep,
                      principal: Instructeur, request: Request) -> JSONResponse:
        """ARS of the region, motivated: a dossier closed without a decision goes back en_instruction
        (DossierRouvert). A validated or refused one is changed by correcting its decision
        (`remplace`), never reopened: money may have followed. Accepts an Idempotency-Key."""
        return await _effectuer(session, principal, request, dossier_type, dossier_id, "rouvrir",
                                demande.motivation)


_routes("candidature")
_routes("projet")

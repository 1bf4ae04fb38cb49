"""Assignment of dossiers and projects to the region's agents (issue 9 item 7):
PUT/DELETE/GET /v1/dossiers/{id}/affectation and /v1/projets/{id}/affectation."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hopen_common.auth import Ars, ArsOuDns, Principal
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db import SessionDep
from hopen_instruction.affectations import service
from hopen_instruction.models import Affectation

router = APIRouter(tags=["affectation"])
Lecteur = ArsOuDns
Instructeur = Ars


class AffectationDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent: str = Field(min_length=1, max_length=200, pattern=r"^\S+$",
                       description="token subject of an ARS agent of the region (until issue 10's rights)")


class AffectationLue(BaseModel):
    agent: str | None
    precedent: str | None
    par: str
    le: datetime


class AffectationsLues(BaseModel):
    dossier_type: TypeDossier
    dossier_id: str
    agent: str | None = Field(description="the current assignee; null: unassigned")
    historique: list[AffectationLue]


def _lue(a: Affectation) -> AffectationLue:
    return AffectationLue(agent=a.agent, precedent=a.precedent, par=a.par, le=a.le)


def _routes(dossier_type: TypeDossier, prefixe: str) -> None:
    base = f"{prefixe}/{{dossier_id}}/affectation"

    async def _etat(session: SessionDep, principal: Principal, dossier_id: str) -> AffectationsLues:
        agent, lignes = await service.historique(session, principal, dossier_type, dossier_id)
        return AffectationsLues(dossier_type=dossier_type, dossier_id=dossier_id, agent=agent,
                                historique=[_lue(a) for a in lignes])

    @router.get(base, response_model=AffectationsLues, name=f"lire_affectation_{dossier_type}")
    async def lire(dossier_id: str, session: SessionDep, principal: Lecteur) -> AffectationsLues:
        """The current assignee and every (re)assignment, oldest first. ARS of the region, DNS."""
        return await _etat(session, principal, dossier_id)

    @router.put(base, response_model=AffectationsLues, name=f"affecter_{dossier_type}")
    async def affecter(dossier_id: str, demande: AffectationDemande, session: SessionDep,
                       principal: Instructeur) -> AffectationsLues:
        """Assigns to an agent (a reassignment names the previous one); the same agent again changes
        nothing. Audited. ARS of the region."""
        await service.affecter(session, principal, dossier_type, dossier_id, demande.agent,
                               maintenant=datetime.now(UTC))
        return await _etat(session, principal, dossier_id)

    @router.delete(base, response_model=AffectationsLues, name=f"desaffecter_{dossier_type}")
    async def desaffecter(dossier_id: str, session: SessionDep, principal: Instructeur) -> AffectationsLues:
        """Unassigns (audited). ARS of the region."""
        await service.affecter(session, principal, dossier_type, dossier_id, None,
                               maintenant=datetime.now(UTC))
        return await _etat(session, principal, dossier_id)


_routes("candidature", "/v1/dossiers")
_routes("projet", "/v1/projets")

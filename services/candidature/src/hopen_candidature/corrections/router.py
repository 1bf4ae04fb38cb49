"""The establishment's answer to correction requests (ADR 0013): PATCH /v1/candidatures/{id}/champs
(only the fields an open request names), then POST /v1/candidatures/{id}/redepot. New piece versions go
through the pieces slice (POST /v1/candidatures/{id}/pieces), only of the named types meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.candidatures.schemas import CandidatureLue
from hopen_candidature.corrections import rules, service
from hopen_candidature.corrections.schemas import (
    ChampsDemande,
    DecisionArsLue,
    DemandeCorrectionLue,
    PieceDemandeeLue,
    TransitionLue,
)
from hopen_candidature.etats import service as etats
from hopen_candidature.models import DemandeCorrectionRecue
from hopen_common.auth import Etablissement
from hopen_common.calendrier import aujourd_hui_paris
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent

router = APIRouter(prefix="/v1/candidatures", tags=["corrections"])


def demande_lue(d: DemandeCorrectionRecue) -> DemandeCorrectionLue:
    return DemandeCorrectionLue(
        correction_id=d.correction_id, pieces=[PieceDemandeeLue(**p) for p in d.pieces], champs=d.champs,
        motivation=d.motivation, echeance=d.echeance, demandee_par=d.demandee_par, demandee_le=d.demandee_le,
        repondue_le=d.repondue_le,
        en_retard=rules.en_retard(d.echeance, repondue=d.repondue_le is not None,
                                  aujourd_hui=aujourd_hui_paris()))


async def suivi(session: AsyncSession, dossier_type: str, dossier_id: str
                ) -> tuple[list[TransitionLue], list[DemandeCorrectionLue]]:
    """What instruction said of the dossier: its transitions and the correction requests (open first)."""
    transitions = [TransitionLue.model_validate(t, from_attributes=True)
                   for t in await etats.transitions_de(session, dossier_type, dossier_id)]
    demandes = sorted((demande_lue(d) for d in await etats.corrections_de(session, dossier_type, dossier_id)),
                      key=lambda d: d.repondue_le is not None)
    return transitions, demandes


class CandidatureSuivie(CandidatureLue):
    """The candidature as its establishment follows it: every ARS decision (motivation, date, the
    decision it replaces), every transition, and what is asked of it (open requests first)."""

    decisions_ars: list[DecisionArsLue]
    historique: list[TransitionLue]
    demandes_correction: list[DemandeCorrectionLue]


async def candidature_suivie(session: AsyncSession, candidature: object) -> CandidatureSuivie:
    lue = CandidatureLue.model_validate(candidature, from_attributes=True)
    historique, demandes = await suivi(session, "candidature", lue.id)
    return CandidatureSuivie(
        **lue.model_dump(), historique=historique, demandes_correction=demandes,
        decisions_ars=[DecisionArsLue.model_validate(d, from_attributes=True)
                       for d in await etats.decisions_de(session, lue.id)])


@router.patch("/{candidature_id}/champs", response_model=CandidatureSuivie)
async def modifier_champs(candidature_id: str, demande: ChampsDemande, session: SessionDep,
                          principal: Etablissement) -> CandidatureSuivie:
    """While a correction is asked: edits the fields the open requests name, by their name
    (`{"champs": {"criteres_ght.sdsi_date": "2025-03-01"}}`). Another field: 422 `champ-non-demande`
    naming it, nothing written; outside a correction: 409 `transition-interdite`."""
    candidature = await service.modifier_champs(session, principal, candidature_id, demande,
                                                aujourd_hui=aujourd_hui_paris())
    return await candidature_suivie(session, candidature)


@router.post("/{candidature_id}/redepot", response_model=CandidatureSuivie)
async def redeposer(candidature_id: str, session: SessionDep, principal: Etablissement,
                    request: Request) -> JSONResponse:
    """Answers every open correction request and re-deposits: back to `deposee`, CandidatureRedeposee
    (fields before/after, new piece versions). 422 `pieces-manquantes` while a named piece has no new
    version; 409 `transition-interdite` when no correction is asked. Accepts an Idempotency-Key."""
    async def executer() -> CandidatureSuivie:
        candidature = await service.redeposer(session, principal, candidature_id,
                                              maintenant=datetime.now(UTC))
        return await candidature_suivie(session, candidature)
    return await idempotent(session, request, principal, executer, statut=200)

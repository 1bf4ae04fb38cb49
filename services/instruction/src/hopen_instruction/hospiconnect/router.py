from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Ars, ArsOuDns, Principal
from hopen_common.calendrier import aujourd_hui_paris
from hopen_common.db import SessionDep
from hopen_common.pagination import Page, PaginationDep, page_de
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_instruction.dossiers.router import proposer
from hopen_instruction.dossiers.schemas import DecisionLue
from hopen_instruction.dossiers.service import charger
from hopen_instruction.hospiconnect import rules, service
from hopen_instruction.hospiconnect.schemas import (
    AnneeHospiconnect,
    DecisionAnnuelleDemande,
    EjAnnee,
    ObjectifEvalueHc,
    PreuveRecueLue,
)
from hopen_instruction.models import EtablissementConnu
from hopen_instruction.propositions import service as propositions
from hopen_instruction.propositions.schemas import PropositionLue

router = APIRouter(prefix="/v1/dossiers", tags=["hospiconnect"])
Lecteur = ArsOuDns
Instructeur = Ars


def _objectifs(evaluation: list[rules.EvaluationObjectifHc]) -> list[ObjectifEvalueHc]:
    return [ObjectifEvalueHc(**asdict(e)) for e in evaluation]


@router.get("/{dossier_id}/hospiconnect/preuves", response_model=Page[PreuveRecueLue])
async def lister_preuves(dossier_id: str, session: SessionDep, principal: Lecteur, pagination: PaginationDep,
                         annee: int | None = None) -> Page[PreuveRecueLue]:
    """Every piece of HospiConnect evidence received. Roles: ars (its region), dns."""
    dossier = await charger(session, principal, dossier_id)
    service.verifier_hospiconnect(dossier)
    return page_de([PreuveRecueLue.model_validate(p, from_attributes=True)
            for p in await service.preuves_de(session, dossier.id, annee)], pagination)


@router.get("/{dossier_id}/hospiconnect/{annee}", response_model=AnneeHospiconnect)
async def lire_annee(dossier_id: str, annee: int, session: SessionDep,
                     principal: Lecteur) -> AnneeHospiconnect:
    """Per EJ (GHU): the objectives with a target that year, the evidence received, the measured rates
    against the rate targets (2.1, 2.2; exact comparison), and the current decision. Roles: ars (its
    region; another region's file answers 404), dns."""
    programme = charger_programme_hospiconnect()
    dossier = await charger(session, principal, dossier_id)
    service.verifier_hospiconnect(dossier)
    programme.objectifs_de(annee)
    evaluations = await service.evaluer(session, dossier, annee, programme)
    decisions = await service.decisions_annee(session, dossier.id, annee)
    courantes = service.courantes(decisions)
    effectifs = {e.finess: e.effectifs for e in await session.scalars(
        select(EtablissementConnu).where(EtablissementConnu.finess.in_(list(evaluations))))}
    cal = programme.calendrier.annees[annee]
    return AnneeHospiconnect(
        dossier_id=dossier.id, annee=annee, fin_depot_preuves=cal.fin_depot_preuves.isoformat(),
        fin_instruction=cal.fin_instruction.isoformat(),
        entites=[EjAnnee(
            finess_ej=ej, effectifs=effectifs.get(ej), objectifs=_objectifs(evaluation),
            decision=None if ej not in courantes else DecisionLue.model_validate(courantes[ej],
                                                                                 from_attributes=True),
            historique=[DecisionLue.model_validate(d, from_attributes=True) for d in decisions
                        if d.finess_ej == ej],
        ) for ej, evaluation in evaluations.items()])


class DecisionAnnuelleLue(DecisionLue):
    objectifs: list[ObjectifEvalueHc]


@propositions.action("hospiconnect", DecisionAnnuelleDemande)
async def _annee(session: AsyncSession, principal: Principal, parametres: dict[str, Any],
                 demande: DecisionAnnuelleDemande, reglages: Any, maintenant: datetime,
                 proposee_par: str | None) -> tuple[str, DecisionAnnuelleLue]:
    decision, evaluation = await service.decider_annee(
        session, principal, parametres["dossier_id"], int(parametres["annee"]), demande,
        charger_programme_hospiconnect(), aujourd_hui_paris(), reglages.calendrier_ouvert, maintenant,
        proposee_par=proposee_par)
    return (f"dossier/{decision.dossier_id}/{decision.objet}/{decision.finess_ej}",
            DecisionAnnuelleLue(**DecisionLue.model_validate(decision, from_attributes=True).model_dump(),
                                objectifs=_objectifs(evaluation)))


@router.post("/{dossier_id}/hospiconnect/{annee}/decision", status_code=202, response_model=PropositionLue)
async def decider_annee(dossier_id: str, annee: int, demande: DecisionAnnuelleDemande, session: SessionDep,
                        principal: Instructeur, request: Request) -> JSONResponse:
    """ARS instructeur of the region: proposes which objectives one EJ (GHU) reached that year
    (HospiconnectAnneeDecidee once a valideur confirms, ADR 0023). Only objectives with a target that
    year, each backed by the evidence received; a second decision for the same EJ and year names the one
    it `remplace`. 202 with the proposal and its amounts. Accepts an Idempotency-Key."""
    return await proposer(session, principal, request, "hospiconnect",
                          {"dossier_id": dossier_id, "annee": annee}, demande)

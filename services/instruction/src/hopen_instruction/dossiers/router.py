from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Ars, ArsOuDns, Principal
from hopen_common.calendrier import aujourd_hui, aujourd_hui_paris
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_instruction.corrections import service as corrections
from hopen_instruction.dossiers import service
from hopen_instruction.dossiers.schemas import (
    DecisionCandidatureDemande,
    DecisionLue,
    DecisionObjectifDemande,
    DossierDetail,
    DossierLu,
    IndicateurEvalue,
    ObjectifEvalue,
)
from hopen_instruction.echeances.service import echeances, filtre_echeance
from hopen_instruction.etats import service as etats
from hopen_instruction.models import Decision, Dossier
from hopen_instruction.objectifs.rules import EvaluationObjectif
from hopen_instruction.propositions import service as propositions
from hopen_instruction.propositions.schemas import PropositionLue

router = APIRouter(prefix="/v1/dossiers", tags=["dossiers"])
Lecteur = ArsOuDns
Instructeur = Ars


def _dossier(d: Dossier) -> DossierLu:
    return DossierLu(id=d.id, candidature_id=d.id, dispositif=d.dispositif, finess=d.finess,
                     raison_sociale=d.raison_sociale, region=d.region, statut=d.statut,
                     objectifs=d.objectifs, perimetre=d.perimetre, deposee_le=d.deposee_le,
                     affecte_a=d.affecte_a)


def _evaluation(finess_ej: str, e: EvaluationObjectif, decision: str | None) -> ObjectifEvalue:
    return ObjectifEvalue(
        objectif=e.objectif, finess_ej=finess_ej, cible_atteinte=e.atteint, decision=decision,
        indicateurs=[IndicateurEvalue(**vars(i)) for i in e.indicateurs],
    )


def _decision(d: Decision) -> DecisionLue:
    return DecisionLue.model_validate(d, from_attributes=True)


@router.get("", response_model=Page[DossierLu])
async def lister(session: SessionDep, principal: Lecteur, pagination: PaginationDep, request: Request,
                 affectation: Annotated[str | None, Query(
                     max_length=200, description="`moi` (my dossiers), `aucune` (unassigned) or an agent's"
                                                 " subject")] = None,
                 echeance: Annotated[Literal["en_retard", "proche"] | None, Query(
                     description="en_retard: still undecided past its end of instruction; proche: due "
                                 "within echeance_jours_proche days")] = None) -> Page[DossierLu]:
    """ARS: the files of its region only. DNS: every region."""
    reglages = request.app.state.settings
    filtre = None if echeance is None else filtre_echeance(
        echeance, jour=aujourd_hui(reglages.date_du_jour), jours_proche=reglages.echeance_jours_proche,
        liste=echeances())
    dossiers, total = await service.lister(session, principal, pagination.limit, pagination.offset,
                                           affectation=affectation, filtre=filtre)
    return Page(items=[_dossier(d) for d in dossiers], total=total, limit=pagination.limit,
                offset=pagination.offset)


@router.get("/{dossier_id}", response_model=DossierDetail)
async def lire(dossier_id: str, session: SessionDep, principal: Lecteur) -> DossierDetail:
    dossier = await service.charger(session, principal, dossier_id)
    decisions = await service.decisions_de(session, dossier.id)
    # The current decision of each (objective, EJ): a correction replaces the one it names.
    remplacees = {d.remplace for d in decisions if d.remplace}
    courantes = {(d.objet, d.finess_ej or dossier.finess): d.decision for d in decisions
                 if d.id not in remplacees}
    evaluation = await service.evaluer(session, dossier, charger_programme_phase1())
    return DossierDetail(
        **_dossier(dossier).model_dump(),
        evaluation=[_evaluation(ej, e, courantes.get((e.objectif, ej))) for ej, e in evaluation],
        decisions=[_decision(d) for d in decisions],
        duree_instruction_secondes=etats.duree(await etats.historique(session, "candidature", dossier.id),
                                               datetime.now(UTC)),
        corrections_ouvertes=len(await corrections.ouvertes(session, "candidature", dossier.id)),
    )


class DecisionObjectifLue(DecisionLue):
    evaluation: ObjectifEvalue


@propositions.action("candidature", DecisionCandidatureDemande)
async def _candidature(session: AsyncSession, principal: Principal, parametres: dict[str, Any],
                       demande: DecisionCandidatureDemande, reglages: Any, maintenant: datetime,
                       proposee_par: str | None) -> tuple[str, DecisionLue]:
    decision = await service.decider_candidature(
        session, principal, parametres["dossier_id"], demande, charger_programme_phase1(),
        aujourd_hui_paris(), reglages.calendrier_ouvert, maintenant, charger_programme_hospiconnect(),
        proposee_par=proposee_par)
    return f"dossier/{decision.dossier_id}/candidature", _decision(decision)


@propositions.action("objectif", DecisionObjectifDemande)
async def _objectif(session: AsyncSession, principal: Principal, parametres: dict[str, Any],
                    demande: DecisionObjectifDemande, reglages: Any, maintenant: datetime,
                    proposee_par: str | None) -> tuple[str, DecisionObjectifLue]:
    decision, finess_ej, evaluation = await service.decider_objectif(
        session, principal, parametres["dossier_id"], parametres["objectif"], demande,
        charger_programme_phase1(), maintenant, proposee_par=proposee_par)
    return (f"dossier/{decision.dossier_id}/{decision.objet}/{finess_ej}",
            DecisionObjectifLue(**_decision(decision).model_dump(),
                                evaluation=_evaluation(finess_ej, evaluation, decision.decision)))


@router.post("/{dossier_id}/decision", status_code=202, response_model=PropositionLue)
async def decider(dossier_id: str, demande: DecisionCandidatureDemande, session: SessionDep,
                  principal: Instructeur, request: Request) -> JSONResponse:
    """ARS instructeur of the region: proposes to validate (CandidatureValidee) or refuse
    (CandidatureRefusee); 202 with the proposal and the amounts financement would compute. A valideur
    confirms it (POST /v1/propositions/{id}/confirmation, ADR 0023). Accepts an Idempotency-Key."""
    return await proposer(session, principal, request, "candidature", {"dossier_id": dossier_id}, demande)


async def proposer(session: AsyncSession, principal: Principal, request: Request, type_: str,
                    parametres: dict[str, Any], demande: BaseModel) -> JSONResponse:
    async def executer() -> PropositionLue:
        return await propositions.proposer(
            session, principal, type_, parametres, demande, reglages=request.app.state.settings,
            financement=request.app.state.financement, autorisation=request.headers["Authorization"])
    return await idempotent(session, request, principal, executer, statut=202)


@router.post("/{dossier_id}/objectifs/{objectif}/decision", status_code=202, response_model=PropositionLue)
async def decider_objectif(dossier_id: str, objectif: str, demande: DecisionObjectifDemande,
                           session: SessionDep, principal: Instructeur, request: Request) -> JSONResponse:
    """ARS instructeur of the region: proposes an objective reached or not, shown against the ES's
    target (for a GHT, per member EJ: `finess_ej`); 202 with the proposal and its amounts, confirmed by
    a valideur (ADR 0023). Accepts an Idempotency-Key."""
    return await proposer(session, principal, request, "objectif",
                           {"dossier_id": dossier_id, "objectif": objectif}, demande)

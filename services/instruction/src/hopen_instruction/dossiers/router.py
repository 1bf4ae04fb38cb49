from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from hopen_common.auth import Principal, Role, exiger_roles
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

router = APIRouter(prefix="/v1/dossiers", tags=["dossiers"])
Lecteur = Annotated[Principal, Depends(exiger_roles(Role.ARS, Role.DNS))]
Instructeur = Annotated[Principal, Depends(exiger_roles(Role.ARS))]


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


@router.post("/{dossier_id}/decision", status_code=201, response_model=DecisionLue)
async def decider(dossier_id: str, demande: DecisionCandidatureDemande, session: SessionDep,
                  principal: Instructeur, request: Request) -> JSONResponse:
    """ARS of the region: validates (CandidatureValidee) or refuses (CandidatureRefusee).
    Accepts an Idempotency-Key."""
    async def executer() -> DecisionLue:
        decision = await service.decider_candidature(
            session, principal, dossier_id, demande, charger_programme_phase1(), aujourd_hui_paris(),
            request.app.state.settings.calendrier_ouvert, datetime.now(UTC), charger_programme_hospiconnect(),
        )
        return _decision(decision)
    return await idempotent(session, request, principal.subject, executer)


class DecisionObjectifLue(DecisionLue):
    evaluation: ObjectifEvalue


@router.post("/{dossier_id}/objectifs/{objectif}/decision", status_code=201,
             response_model=DecisionObjectifLue)
async def decider_objectif(dossier_id: str, objectif: str, demande: DecisionObjectifDemande,
                           session: SessionDep, principal: Instructeur, request: Request) -> JSONResponse:
    """ARS of the region: objective reached or not, shown against the ES's target (for a GHT,
    per member EJ: `finess_ej`). Accepts an Idempotency-Key."""
    async def executer() -> DecisionObjectifLue:
        decision, finess_ej, evaluation = await service.decider_objectif(
            session, principal, dossier_id, objectif, demande, charger_programme_phase1(),
            datetime.now(UTC),
        )
        return DecisionObjectifLue(**_decision(decision).model_dump(),
                                   evaluation=_evaluation(finess_ej, evaluation, decision.decision))
    return await idempotent(session, request, principal.subject, executer)

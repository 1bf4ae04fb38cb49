from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Ars, ArsOuDns, Principal
from hopen_common.calendrier import aujourd_hui_paris
from hopen_common.db import SessionDep
from hopen_common.pagination import Page, PaginationDep
from hopen_common.programme.aap import charger_programme_aap
from hopen_instruction.dossiers.router import proposer
from hopen_instruction.enveloppes import service as enveloppes
from hopen_instruction.enveloppes.router import enveloppe_lue
from hopen_instruction.models import DecisionProjet, Projet
from hopen_instruction.projets import service
from hopen_instruction.projets.schemas import (
    AtteinteDemande,
    DecisionProjetLue,
    DepensePrevueLue,
    ProjetDetail,
    ProjetLu,
    SelectionDemande,
)
from hopen_instruction.propositions import service as propositions
from hopen_instruction.propositions.schemas import PropositionLue

router = APIRouter(prefix="/v1/projets", tags=["appel à projets"])
Lecteur = ArsOuDns
Instructeur = Ars


def _projet(p: Projet) -> ProjetLu:
    return ProjetLu(id=p.id, finess=p.finess, raison_sociale=p.raison_sociale, region=p.region, theme=p.theme,
                    titre=p.titre, statut=p.statut, objectifs=p.objectifs, participants=p.participants,
                    perimetre=p.perimetre, depenses_prevues_total=p.depenses_prevues, deposee_le=p.deposee_le,
                    affecte_a=p.affecte_a)


def _decision(d: DecisionProjet) -> DecisionProjetLue:
    return DecisionProjetLue.model_validate(d, from_attributes=True)


@router.get("", response_model=Page[ProjetLu])
async def lister(session: SessionDep, principal: Lecteur, pagination: PaginationDep,
                 affectation: Annotated[str | None, Query(
                     max_length=200, description="`moi`, `aucune` or an agent's subject")] = None
                 ) -> Page[ProjetLu]:
    """Deposited AAP projects. Roles: ars (its region only), dns (every region)."""
    projets, total = await service.lister(session, principal, pagination.limit, pagination.offset,
                                          affectation=affectation)
    return Page(items=[_projet(p) for p in projets], total=total, limit=pagination.limit,
                offset=pagination.offset)


@router.get("/{projet_id}", response_model=ProjetDetail)
async def lire(projet_id: str, session: SessionDep, principal: Lecteur) -> ProjetDetail:
    """The project, its decisions and the region's envelope a selection must respect. Roles: ars (its
    region; another region's project answers 404), dns."""
    projet = await service.charger(session, principal, projet_id)
    situation = await enveloppes.situation(session, projet.region)
    depenses = await service.depenses_de(session, projet.id)
    return ProjetDetail(
        **_projet(projet).model_dump(), description=projet.description, equipe=projet.equipe,
        lettres_partenaires=projet.lettres_partenaires, sans_versement_usage=projet.sans_versement_usage,
        depenses_prevues=[DepensePrevueLue(annee=a, montant=m) for a, m in depenses.items()],
        decisions=[_decision(d) for d in await service.decisions_de(session, projet.id)],
        maximum_theorique=await service.maximum_du_projet(session, projet),
        enveloppe=None if situation is None else enveloppe_lue(*situation))


@propositions.action("selection", SelectionDemande)
async def _selection(session: AsyncSession, principal: Principal, parametres: dict[str, Any],
                     demande: SelectionDemande, reglages: Any, maintenant: datetime,
                     proposee_par: str | None) -> tuple[str, DecisionProjetLue]:
    decision = await service.selectionner(
        session, principal, parametres["projet_id"], demande, charger_programme_aap(), aujourd_hui_paris(),
        reglages.calendrier_ouvert, maintenant, proposee_par=proposee_par)
    return f"projet/{decision.projet_id}/selection", _decision(decision)


@propositions.action("atteinte", AtteinteDemande)
async def _atteinte(session: AsyncSession, principal: Principal, parametres: dict[str, Any],
                    demande: AtteinteDemande, reglages: Any, maintenant: datetime,
                    proposee_par: str | None) -> tuple[str, DecisionProjetLue]:
    decision = await service.decider_atteinte(session, principal, parametres["projet_id"], demande,
                                              maintenant, proposee_par=proposee_par)
    return f"projet/{decision.projet_id}/atteinte", _decision(decision)


@router.post("/{projet_id}/selection", status_code=202, response_model=PropositionLue)
async def selectionner(projet_id: str, demande: SelectionDemande, session: SessionDep, principal: Instructeur,
                       request: Request) -> JSONResponse:
    """ARS instructeur of the region, until 2 October 2026, proposes: `selectionne` with
    `montant_accorde` (at most the forecast expenses 2026-2027, the theoretical maximum and what the
    regional envelope can still take) -> ProjetAapSelectionne with each participant's AC 2024; or
    `non_retenu` -> ProjetAapNonRetenu, once a valideur confirms (ADR 0023). 202 with the proposal, the
    halves financement would pay and the envelope before and after. Accepts an Idempotency-Key."""
    return await proposer(session, principal, request, "selection", {"projet_id": projet_id}, demande)


@router.post("/{projet_id}/atteinte", status_code=202, response_model=PropositionLue)
async def decider_atteinte(projet_id: str, demande: AtteinteDemande, session: SessionDep,
                           principal: Instructeur, request: Request) -> JSONResponse:
    """ARS instructeur of the region proposes: the selected project reached its objectives or not
    (AtteinteProjetAapDecidee once confirmed: the second half is paid, or released to the envelope).
    202 with the proposal and its amounts. Accepts an Idempotency-Key."""
    return await proposer(session, principal, request, "atteinte", {"projet_id": projet_id}, demande)

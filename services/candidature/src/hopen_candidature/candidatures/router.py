from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from hopen_candidature.candidatures import service
from hopen_candidature.candidatures.schemas import (
    CandidatureCreation,
    CandidatureLue,
    CriteresGhtDemande,
    DesistementDemande,
    IndicateurDepot,
    IndicateurLu,
)
from hopen_candidature.corrections.router import CandidatureSuivie, candidature_suivie
from hopen_candidature.exigences.repository import SourcePiecesDep
from hopen_candidature.models import IndicateurDeclare
from hopen_common.auth import CurrentPrincipal, Etablissement
from hopen_common.calendrier import aujourd_hui_paris
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep, page_de
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_common.programme.phase1 import charger_programme_phase1

router = APIRouter(prefix="/v1/candidatures", tags=["candidatures"])


def _ouvert(request: Request) -> bool:
    return bool(request.app.state.settings.calendrier_ouvert)


@router.post("", status_code=201, response_model=CandidatureLue)
async def creer(demande: CandidatureCreation, session: SessionDep, principal: Etablissement,
                request: Request) -> JSONResponse:
    """Role etablissement, for a FINESS of its token. The candidature starts as a draft.
    `dispositif`: "phase1" (objectives chosen; GHT support: optional perimeter) or "hospiconnect"
    (the whole dispositif, once per applicant = the referentiel's maille_hospiconnect; a GHT support
    applies for every eligible EJ of its GHT). Accepts an Idempotency-Key."""
    async def executer() -> CandidatureLue:
        candidature = await service.creer_candidature(
            session, principal, demande, charger_programme_phase1(), aujourd_hui_paris(),
            _ouvert(request), datetime.now(UTC), charger_programme_hospiconnect(),
        )
        return CandidatureLue.model_validate(candidature, from_attributes=True)
    return await idempotent(session, request, principal, executer)


@router.get("", response_model=Page[CandidatureLue])
async def lister(session: SessionDep, principal: CurrentPrincipal, pagination: PaginationDep
                 ) -> Page[CandidatureLue]:
    """An establishment sees its own files, an ARS its region's, the DNS every file."""
    candidatures, total = await service.lister(session, principal, pagination.limit, pagination.offset)
    return Page(items=[CandidatureLue.model_validate(c, from_attributes=True) for c in candidatures],
                total=total, limit=pagination.limit, offset=pagination.offset)


@router.get("/{candidature_id}", response_model=CandidatureSuivie)
async def lire(candidature_id: str, session: SessionDep, principal: CurrentPrincipal) -> CandidatureSuivie:
    """The establishment of the file, the ARS of its region, the DNS. With what instruction said of it
    (issue 9): every ARS decision with its motivation and date (`remplace` for a corrected one), every
    transition, and the correction requests (`en_retard` past their due date and unanswered)."""
    candidature = await service.charger_pour(session, principal, candidature_id)
    return await candidature_suivie(session, candidature)


@router.post("/{candidature_id}/depot", response_model=CandidatureLue)
async def deposer(candidature_id: str, session: SessionDep, principal: Etablissement,
                  request: Request, source: SourcePiecesDep) -> JSONResponse:
    """Submits the draft: publishes CandidatureDeposee to the ARS of the region. Refused (422
    `pieces-manquantes`, champ `pieces`) while a required piece is missing: the answer lists every
    one `{code, libelle, finess_ej, types}`; a phase-1 GHT support also needs every GHT criterion of
    annex 4 met (422 `criteres-ght-invalides`, each failing field in `criteres`). Accepts an
    Idempotency-Key."""
    async def executer() -> CandidatureLue:
        candidature = await service.deposer(
            session, principal, candidature_id, charger_programme_phase1(), aujourd_hui_paris(),
            _ouvert(request), datetime.now(UTC), charger_programme_hospiconnect(), source_pieces=source,
        )
        return CandidatureLue.model_validate(candidature, from_attributes=True)
    return await idempotent(session, request, principal, executer, statut=200)


@router.put("/{candidature_id}/criteres-ght", response_model=CandidatureLue)
async def definir_criteres_ght(candidature_id: str, demande: CriteresGhtDemande, session: SessionDep,
                               principal: Etablissement) -> CandidatureLue:
    """A phase-1 GHT support replaces its GHT criteria and capacity proof (annex 4) while the
    candidature is a draft (409 once deposited). Incomplete criteria are kept; wrong ones (a due date
    without a commitment letter or already past, an SDSI dated in the future) are 422."""
    candidature = await service.definir_criteres_ght(session, principal, candidature_id, demande,
                                                     aujourd_hui=aujourd_hui_paris())
    return CandidatureLue.model_validate(candidature, from_attributes=True)


@router.post("/{candidature_id}/desistement", response_model=CandidatureLue)
async def desister(candidature_id: str, demande: DesistementDemande, session: SessionDep,
                   principal: Etablissement, request: Request) -> JSONResponse:
    """The establishment withdraws its draft or deposited candidature (409 once the ARS decided, or
    while a withdrawal is pending). A draft becomes `desistee` at once and frees its applicant and EJ.
    A deposited one becomes `desistement_demande` and publishes CandidatureDesistee: it keeps holding
    its applicant and EJ until instruction answers, `desistee` (no decision will be taken) or the ARS
    decision already taken, which stands. Accepts an Idempotency-Key."""
    async def executer() -> CandidatureLue:
        candidature = await service.desister(session, principal, candidature_id, demande,
                                             datetime.now(UTC))
        return CandidatureLue.model_validate(candidature, from_attributes=True)
    return await idempotent(session, request, principal, executer, statut=200)


@router.post("/{candidature_id}/indicateurs", status_code=201, response_model=IndicateurLu)
async def deposer_indicateur(candidature_id: str, depot: IndicateurDepot, session: SessionDep,
                             principal: Etablissement, request: Request) -> JSONResponse:
    """Evidence: an indicator's numerator and denominator (IndicateurDepose). A later deposit
    of the same indicator supersedes the earlier one. Accepts an Idempotency-Key."""
    async def executer() -> IndicateurLu:
        declare = await service.deposer_indicateur(
            session, principal, candidature_id, depot, charger_programme_phase1(),
            aujourd_hui_paris(), _ouvert(request), datetime.now(UTC),
        )
        return IndicateurLu.model_validate(declare, from_attributes=True)
    return await idempotent(session, request, principal, executer)


@router.get("/{candidature_id}/indicateurs", response_model=Page[IndicateurLu])
async def lister_indicateurs(candidature_id: str, session: SessionDep,
                             principal: CurrentPrincipal, pagination: PaginationDep) -> Page[IndicateurLu]:
    await service.charger_pour(session, principal, candidature_id)
    lignes = await session.scalars(
        select(IndicateurDeclare).where(IndicateurDeclare.candidature_id == candidature_id)
        .order_by(IndicateurDeclare.id)
    )
    return page_de([IndicateurLu.model_validate(i, from_attributes=True) for i in lignes], pagination)

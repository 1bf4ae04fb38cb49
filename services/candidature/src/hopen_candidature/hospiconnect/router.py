from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hopen_candidature.candidatures.service import charger_pour
from hopen_candidature.hospiconnect import service
from hopen_candidature.hospiconnect.schemas import DepensesDeclaration, DepensesLue, PreuveDepot, PreuveLue
from hopen_candidature.models import DeclarationDepenses
from hopen_common.auth import CurrentPrincipal, Etablissement
from hopen_common.calendrier import aujourd_hui_paris
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep, page_de
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect

router = APIRouter(prefix="/v1/candidatures", tags=["hospiconnect"])


def _ouvert(request: Request) -> bool:
    return bool(request.app.state.settings.calendrier_ouvert)


def _depenses(d: DeclarationDepenses, courante: bool) -> DepensesLue:
    return DepensesLue(id=d.id, candidature_id=d.candidature_id, finess_ej=d.finess_ej, annee=d.annee,
                       montant=d.montant, remplace=d.remplace, declare_par=d.declare_par,
                       declare_le=d.declare_le, courante=courante)


@router.post("/{candidature_id}/depenses", status_code=201, response_model=DepensesLue)
async def declarer_depenses(candidature_id: str, demande: DepensesDeclaration, session: SessionDep,
                            principal: Etablissement, request: Request) -> JSONResponse:
    """HospiConnect eligible expenses of one EJ (GHT: a member of the perimeter) for one year
    (DepensesDeclarees). Declarations add up; a correction names the declaration it `remplace`.
    Role etablissement (the applicant's FINESS). Accepts an Idempotency-Key."""
    async def executer() -> DepensesLue:
        declaration = await service.declarer_depenses(
            session, principal, candidature_id, demande, charger_programme_hospiconnect(),
            aujourd_hui_paris(), _ouvert(request), datetime.now(UTC))
        return _depenses(declaration, True)
    return await idempotent(session, request, principal, executer)


@router.get("/{candidature_id}/depenses", response_model=Page[DepensesLue])
async def lister_depenses(candidature_id: str, session: SessionDep,
                          principal: CurrentPrincipal, pagination: PaginationDep) -> Page[DepensesLue]:
    """Every declaration, corrections included (`courante`: still counts). The establishment of the
    file, the ARS of its region, the DNS."""
    await charger_pour(session, principal, candidature_id)
    declarations = await service.declarations(session, candidature_id)
    return page_de([_depenses(d, courante) for d, courante in declarations], pagination)


@router.post("/{candidature_id}/preuves", status_code=201, response_model=PreuveLue)
async def deposer_preuve(candidature_id: str, depot: PreuveDepot, session: SessionDep,
                         principal: Etablissement, request: Request) -> JSONResponse:
    """HospiConnect evidence of one objective with a target that year, for one EJ: a document (1.0-1.4:
    `piece_id`, a piece uploaded on this candidature by POST .../pieces, about that EJ or the whole
    dossier) or a rate (2.1, 2.2: numerateur, denominateur) (PreuveHospiconnectDeposee, with the
    piece's id and hash). Role etablissement. Accepts an Idempotency-Key."""
    async def executer() -> PreuveLue:
        preuve = await service.deposer_preuve(
            session, principal, candidature_id, depot, charger_programme_hospiconnect(),
            aujourd_hui_paris(), _ouvert(request), datetime.now(UTC))
        return PreuveLue.model_validate(preuve, from_attributes=True)
    return await idempotent(session, request, principal, executer)


@router.get("/{candidature_id}/preuves", response_model=Page[PreuveLue])
async def lister_preuves(candidature_id: str, session: SessionDep,
                         principal: CurrentPrincipal, pagination: PaginationDep) -> Page[PreuveLue]:
    """The establishment of the file, the ARS of its region, the DNS."""
    await charger_pour(session, principal, candidature_id)
    return page_de([PreuveLue.model_validate(p, from_attributes=True)
                    for p in await service.preuves(session, candidature_id)], pagination)

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hopen_common.auth import Ars, ArsOuDns
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep
from hopen_instruction.lots import service
from hopen_instruction.lots.schemas import IssueDossier, LotDemande, LotLu, SimulationLot
from hopen_instruction.propositions import service as propositions
from hopen_instruction.propositions.schemas import PropositionLue

router = APIRouter(prefix="/v1/lots", tags=["décisions par lot"])
Lecteur = ArsOuDns
Instructeur = Ars


@router.post("", status_code=202, response_model=PropositionLue,
             responses={200: {"model": SimulationLot, "description": "?simulation=true"}})
async def creer(demande: LotDemande, session: SessionDep, principal: Instructeur, request: Request,
                simulation: Annotated[bool, Query(description="dry run: outcomes and amounts, nothing"
                                                              " written")] = False) -> JSONResponse:
    """ARS of the region: one decision (`candidature` validee/refusee, phase-1 `objectif`
    atteint/non_atteint, AAP `selection` selectionne/non_retenu) for 1 to 5 000 dossiers of its region,
    each id once (else 422/404 naming `dossiers.<i>`, nothing written).

    `?simulation=true`: 200, per dossier the outcome its decision would have (or the problem it would
    get), the amounts financement would compute and, for selections, the regional envelope before and
    after; nothing is written (an Idempotency-Key is ignored). Otherwise (an instructeur): 202 with the
    lot's proposal, its dry run as its amounts (ADR 0023); once a valideur confirms it, each dossier is
    decided in its own transaction, a refusal never stops the others; progress on GET /v1/lots/{id}.
    Accepts an Idempotency-Key."""
    if simulation:
        resultat = await service.simuler(
            session, principal, demande, ouvert=request.app.state.settings.calendrier_ouvert,
            financement=request.app.state.financement, autorisation=request.headers["Authorization"])
        return JSONResponse(resultat.model_dump(mode="json"))

    async def executer() -> PropositionLue:
        return await propositions.proposer_lot(
            session, principal, demande, ouvert=request.app.state.settings.calendrier_ouvert,
            financement=request.app.state.financement, autorisation=request.headers["Authorization"])
    return await idempotent(session, request, principal, executer, statut=202)


@router.get("/{lot_id}", response_model=LotLu)
async def lire(lot_id: str, session: SessionDep, principal: Lecteur, pagination: PaginationDep,
               statut: Annotated[Literal["en_attente", "ok", "refuse"] | None, Query()] = None) -> LotLu:
    """Progress of a lot (total, processed, ok, refused) and a page of per-dossier outcomes (decision
    id or problem). Roles: ars (its region's lots; another's answers 404), dns."""
    lot, comptes, dernier, lignes, total = await service.lire(
        session, principal, lot_id, statut=statut, limit=pagination.limit, offset=pagination.offset)
    ok, refuses = comptes.get("ok", 0), comptes.get("refuse", 0)
    termine = ok + refuses == lot.total
    return LotLu(
        id=lot.id, region=lot.region, type=lot.type, decision=lot.decision, demande_par=lot.demande_par,
        cree_le=lot.cree_le, statut="termine" if termine else "en_cours", total=lot.total,
        traites=ok + refuses, ok=ok, refuses=refuses, termine_le=dernier if termine else None,
        dossiers=Page(items=[IssueDossier.model_validate(ligne, from_attributes=True) for ligne in lignes],
                      total=total, limit=pagination.limit, offset=pagination.offset))

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from hopen_common.auth import ArsOuDns
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep
from hopen_common.propositions import StatutProposition
from hopen_instruction.models import Proposition
from hopen_instruction.propositions import service
from hopen_instruction.propositions.schemas import (
    ConfirmationDemande,
    ConfirmationLue,
    PropositionLue,
    RejetDemande,
)

router = APIRouter(prefix="/v1/propositions", tags=["règle des quatre yeux"])
Agent = ArsOuDns


@router.get("", response_model=Page[PropositionLue])
async def lister(session: SessionDep, principal: Agent, pagination: PaginationDep,
                 statut: Annotated[StatutProposition | None, Query()] = None) -> Page[PropositionLue]:
    """Proposals (`?statut=en_attente`: those waiting for a valideur), oldest first. Roles: ars (its
    region), dns (every region)."""
    lignes, total = await service.lister(session, principal, statut=None if statut is None else statut.value,
                                         limit=pagination.limit, offset=pagination.offset)
    return Page(items=[service.lue(p) for p in lignes], total=total, limit=pagination.limit,
                offset=pagination.offset)


@router.get("/{proposition_id}", response_model=PropositionLue)
async def lire(proposition_id: str, session: SessionDep, principal: Agent) -> PropositionLue:
    return service.lue(await service.charger(session, principal, proposition_id))


@router.post("/{proposition_id}/confirmation", status_code=201, response_model=ConfirmationLue,
             responses={202: {"model": ConfirmationLue, "description": "a lot, queued"},
                        503: {"description": "financement unreachable: the amounts cannot be re-checked"}})
async def confirmer(proposition_id: str, session: SessionDep, principal: Agent, request: Request,
                    demande: Annotated[ConfirmationDemande | None, Body()] = None) -> JSONResponse:
    """A valideur of the proposal's region who is not its proposer takes the decision, exactly as its
    endpoint took it before the rule (same checks, events, amounts): 201 with the proposal `confirmee`
    and the decision (a lot: 202, its dossiers then decided by the worker). 403 for the proposer, an
    instructeur, the DNS; 404 for another region; 409 once treated, or the decision's own 409 when the
    target changed since, or 409 `proposition-perimee` when the decision would now pay other amounts
    than the proposal showed (503 `montants-non-verifiables`: financement cannot recompute them); in
    all three the proposal stays waiting (a valideur rejects it). Accepts an Idempotency-Key."""
    existante = await session.get(Proposition, proposition_id)
    lot = existante is not None and existante.type == "lot"

    async def executer() -> ConfirmationLue:
        proposition, decision = await service.confirmer(
            session, principal, proposition_id, None if demande is None else demande.motivation,
            reglages=request.app.state.settings, financement=request.app.state.financement,
            autorisation=request.headers["Authorization"])
        return ConfirmationLue(proposition=proposition, decision=decision)
    reponse = await idempotent(session, request, principal, executer, statut=202 if lot else 201)
    if lot:
        # After the response, hence after the commit: the worker of this process starts at once.
        reponse.background = BackgroundTask(request.app.state.reveil_lots.set)
    return reponse


@router.post("/{proposition_id}/rejet", response_model=PropositionLue)
async def rejeter(proposition_id: str, demande: RejetDemande, session: SessionDep,
                  principal: Agent) -> PropositionLue:
    """A valideur of the region who is not the proposer rejects it, with a motivation: nothing decided."""
    return await service.rejeter(session, principal, proposition_id, demande.motivation)

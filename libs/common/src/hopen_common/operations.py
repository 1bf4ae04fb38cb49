"""Operator endpoints every service has: see the parked events, discard one, replay a key.

A poisoned event is parked with the events of its aggregate behind it (inbox/consumer.py);
nothing moves again until an operator decides. Both actions are audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from hopen_common.auth import Principal, Role, exiger_roles
from hopen_common.db import SessionDep
from hopen_common.db.messaging import DeadLetter, JournalAudit
from hopen_common.inbox.consumer import rejouer_lettres
from hopen_common.pagination import Page, PaginationDep, page_de
from hopen_common.problemes import LETTRE_NON_GAREE, REJEU_EN_ECHEC, introuvable

router = APIRouter(prefix="/v1/operations", tags=["operations"])
Operateur = Annotated[Principal, Depends(exiger_roles(Role.OPS))]


class LettreMorte(BaseModel):
    id: int
    consumer: str
    topic: str
    partition: int
    offset: int
    key: str | None
    event_id: str | None
    event_type: str | None
    error: str
    motif: str | None
    attempts: int
    status: str
    created_at: datetime


class Abandon(BaseModel):
    model_config = ConfigDict(extra="forbid")
    motivation: str = Field(min_length=3, max_length=2000)


class Rejeu(BaseModel):
    rejoues: int


class CompteLettres(BaseModel):
    motif: str | None
    status: str
    nombre: int


Statut = Literal["parked", "replayed", "discarded"]
Motif = Annotated[str | None, Query(max_length=50, pattern=r"^[a-z][a-z-]*$",
                                    description="e.g. paiement-en-double, echec-apres-essais")]


@router.get("/lettres-mortes", response_model=Page[LettreMorte])
async def lister(session: SessionDep, _: Operateur, pagination: PaginationDep,
                 statut: Statut = "parked", motif: Motif = None) -> Page[LettreMorte]:
    """Role ops. Parked events first in arrival order (statut: parked, replayed, discarded), of one
    reason for parking if `motif` is given."""
    query = select(DeadLetter).where(DeadLetter.status == statut)
    if motif is not None:
        query = query.where(DeadLetter.motif == motif)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(DeadLetter.id).limit(pagination.limit).offset(pagination.offset))
    return Page(items=[LettreMorte.model_validate(r, from_attributes=True) for r in rows], total=total,
                limit=pagination.limit, offset=pagination.offset)


@router.get("/lettres-mortes/comptes", response_model=Page[CompteLettres])
async def compter(session: SessionDep, _: Operateur, pagination: PaginationDep) -> Page[CompteLettres]:
    """Role ops. How many events were parked, by reason and status: a refused second payment
    (`paiement-en-double`) is counted here even after an operator discarded it."""
    rows = await session.execute(
        select(DeadLetter.motif, DeadLetter.status, func.count())
        .group_by(DeadLetter.motif, DeadLetter.status).order_by(DeadLetter.motif, DeadLetter.status))
    return page_de([CompteLettres(motif=m, status=s, nombre=n) for m, s, n in rows.all()], pagination)


@router.post("/lettres-mortes/{lettre_id}/abandon", response_model=LettreMorte)
async def abandonner(lettre_id: int, demande: Abandon, session: SessionDep, principal: Operateur
                     ) -> LettreMorte:
    """Role ops. The event will never be applied (e.g. a duplicate); the key's later events
    can then be replayed."""
    lettre = await session.get(DeadLetter, lettre_id, with_for_update=True)
    if lettre is None:
        raise introuvable("lettre morte", str(lettre_id))
    if lettre.status != "parked":
        raise LETTRE_NON_GAREE.erreur(f"statut {lettre.status}")
    lettre.status = "discarded"
    session.add(JournalAudit(
        acteur=principal.subject, role=principal.role, action="abandonner_evenement",
        objet_type="lettre_morte", objet_id=str(lettre.id), motivation=demande.motivation,
        details={"event_id": lettre.event_id, "key": lettre.key, "error": lettre.error,
                 "motif": lettre.motif}))
    await session.flush()
    return LettreMorte.model_validate(lettre, from_attributes=True)


@router.post("/cles/{cle}/rejeu", response_model=Rejeu)
async def rejouer(cle: Annotated[str, Path(max_length=200)], request: Request, session: SessionDep,
                  principal: Operateur) -> Rejeu:
    """Role ops. Re-apply the parked events of one aggregate, in order; stops at the first
    that fails again (problem+json with its error), leaving it and the rest parked."""
    app = request.app
    try:
        rejoues = await rejouer_lettres(app.state.spec.name, app.state.sessionmaker, app.state.spec.handlers,
                                        cle)
    except Exception as exc:
        raise REJEU_EN_ECHEC.erreur(f"{type(exc).__name__}: {exc}", champ="cle") from exc
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="rejouer_cle",
                             objet_type="cle", objet_id=cle, details={"rejoues": rejoues}))
    await session.flush()
    return Rejeu(rejoues=rejoues)

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from hopen_common.auth import CurrentPrincipal, Principal, Role
from hopen_common.db import SessionDep
from hopen_common.errors import ProblemError
from hopen_common.montants import Euros
from hopen_financement.models import LigneFinancement, Notification

router = APIRouter(prefix="/v1", tags=["financements"])


class LigneLue(BaseModel):
    objectif: str
    nature: str
    montant: Euros
    forfait: Euros
    candidature_id: str
    notification_id: str
    finess: str
    region: str
    calcul: dict[str, Any]
    cree_le: datetime


class NotificationLue(BaseModel):
    id: str
    candidature_id: str
    finess: str
    region: str
    nature: str
    montant_net: Euros
    decision_id: str
    decide_par: str
    motif: str
    notifie_le: datetime
    remplace: str | None


def _filtre_portee(principal: Principal, finess: str | None, region: str | None) -> None:
    if principal.role is Role.ETABLISSEMENT and (finess is None or finess not in principal.finess):
        raise ProblemError(403, "hors-perimetre", "Hors de votre périmètre",
                           "un établissement lit ses propres financements : précisez un FINESS"
                           " de votre jeton", champ="finess")
    if principal.role is Role.ARS and region not in (None, principal.region):
        raise ProblemError(403, "hors-perimetre", "Hors de votre périmètre",
                           f"région {region} hors de votre périmètre", champ="region")


@router.get("/financements", response_model=list[LigneLue])
async def lister_lignes(session: SessionDep, principal: CurrentPrincipal,
                        finess: Annotated[str | None, Query(pattern=r"^[0-9][0-9AB][0-9]{7}$")] = None,
                        region: str | None = None) -> list[LigneLue]:
    """Amount lines (amorcage, solde, reprise) with how each was computed."""
    _filtre_portee(principal, finess, region)
    query = select(LigneFinancement)
    if finess:
        query = query.where(LigneFinancement.finess == finess)
    if principal.role is Role.ARS:
        query = query.where(LigneFinancement.region == principal.region)
    elif region:
        query = query.where(LigneFinancement.region == region)
    rows = await session.scalars(query.order_by(LigneFinancement.id))
    return [LigneLue.model_validate(r, from_attributes=True) for r in rows]


@router.get("/notifications", response_model=list[NotificationLue])
async def lister_notifications(session: SessionDep, principal: CurrentPrincipal,
                               finess: Annotated[str | None, Query(pattern=r"^[0-9][0-9AB][0-9]{7}$")] = None,
                               region: str | None = None) -> list[NotificationLue]:
    _filtre_portee(principal, finess, region)
    query = select(Notification)
    if finess:
        query = query.where(Notification.finess == finess)
    if principal.role is Role.ARS:
        query = query.where(Notification.region == principal.region)
    elif region:
        query = query.where(Notification.region == region)
    rows = await session.scalars(query.order_by(Notification.notifie_le))
    return [NotificationLue.model_validate(r, from_attributes=True) for r in rows]

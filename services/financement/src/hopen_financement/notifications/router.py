from __future__ import annotations

from fastapi import APIRouter

from hopen_common.auth.portee import exiger_acces, filtre_liste, region_de_lecture
from hopen_common.db import SessionDep
from hopen_common.pagination import Page, PaginationDep
from hopen_common.problemes import introuvable
from hopen_financement.acces import FinessQuery, Lecteur, RegionQuery
from hopen_financement.notifications import repository
from hopen_financement.notifications.models import Notification
from hopen_financement.notifications.schemas import LigneLue, NotificationLue

router = APIRouter(prefix="/v1", tags=["financements"])

@router.get("/financements", response_model=Page[LigneLue])
async def lister_lignes(
    session: SessionDep, principal: Lecteur, pagination: PaginationDep, finess: FinessQuery = None,
    region: RegionQuery = None, dispositif: str | None = None, historique: bool = False,
) -> Page[LigneLue]:
    """Amount lines with how each was computed, in id order, a page at a time (follow `suivant`: lines
    written meanwhile come after, none is skipped). Roles: etablissement (a FINESS of its token: paid
    to it or computed for it), ars (its region), dns. Superseded lines only with `historique=true`."""
    filtre_liste(principal, finess=finess, region=region)
    rows, total, suivant = await repository.lignes(
        session, finess=finess, region=region_de_lecture(principal, region), dispositif=dispositif,
        historique=historique, pagination=pagination)
    return Page(items=[LigneLue.model_validate(ligne, from_attributes=True).model_copy(
        update={"remplacee": r}) for ligne, r in rows],
                total=total, limit=pagination.limit, offset=pagination.offset, suivant=suivant)


@router.get("/notifications", response_model=Page[NotificationLue])
async def lister_notifications(
    session: SessionDep, principal: Lecteur, pagination: PaginationDep, finess: FinessQuery = None,
    region: RegionQuery = None, dispositif: str | None = None,
) -> Page[NotificationLue]:
    """Notifications (superseded ones included, with who supersedes them). Roles as /v1/financements."""
    filtre_liste(principal, finess=finess, region=region)
    rows, total = await repository.notifications(
        session, finess=finess, region=region_de_lecture(principal, region), dispositif=dispositif,
        pagination=pagination)
    return Page(items=[NotificationLue.model_validate(n, from_attributes=True).model_copy(
        update={"remplacee_par": par}) for n, par in rows],
        total=total, limit=pagination.limit, offset=pagination.offset)


@router.get("/notifications/{notification_id}", response_model=NotificationLue)
async def lire_notification(session: SessionDep, principal: Lecteur, notification_id: str) -> NotificationLue:
    """One notification and its lines. Roles: etablissement (paid to it or computed for it), ars (its
    region), dns; 404 outside the caller's scope."""
    notification = await session.get(Notification, notification_id)
    if notification is None:
        raise introuvable("Notification", notification_id)
    exiger_acces(principal, region=notification.region, finess=(notification.finess, notification.finess_ej),
                 ressource="Notification", identifiant=notification_id)
    par = await repository.remplacee_par(session, notification_id)
    lignes = await repository.lignes_de(session, notification_id)
    return NotificationLue.model_validate(notification, from_attributes=True).model_copy(update={
        "remplacee_par": par,
        "lignes": [LigneLue.model_validate(li, from_attributes=True).model_copy(
            update={"remplacee": par is not None}) for li in lignes]})

"""Every query on notifications and their lines."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hopen_common.pagination import Pagination, page_par_cle
from hopen_financement.notifications.models import LigneFinancement, Notification


def lignes_non_remplacees() -> ColumnElement[bool]:
    """WHERE clause: lines no later version of their business key supersedes."""
    suivante = aliased(LigneFinancement)
    return ~exists().where(suivante.cle_metier == LigneFinancement.cle_metier,
                           suivante.version > LigneFinancement.version)


async def ligne_courante(session: AsyncSession, cle_metier: str) -> LigneFinancement | None:
    """The current line of a business key: its highest version (None: never paid)."""
    ligne: LigneFinancement | None = await session.scalar(
        select(LigneFinancement).where(LigneFinancement.cle_metier == cle_metier)
        .order_by(LigneFinancement.version.desc()).limit(1))
    return ligne


async def lignes(session: AsyncSession, *, finess: str | None, region: str | None, dispositif: str | None,
                 historique: bool, pagination: Pagination
                 ) -> tuple[list[tuple[LigneFinancement, bool]], int, str | None]:
    """One page of lines (paid to `finess` or computed for it) in id order, each with whether a later
    version of its business key supersedes it: (lines, total, next cursor)."""
    remplacee = ~lignes_non_remplacees()
    query = select(LigneFinancement, remplacee)
    if finess:
        query = query.where(or_(LigneFinancement.finess == finess, LigneFinancement.finess_ej == finess))
    if region:
        query = query.where(LigneFinancement.region == region)
    if dispositif:
        query = query.where(LigneFinancement.dispositif == dispositif)
    if not historique:
        query = query.where(lignes_non_remplacees())
    rows, total, suivant = await page_par_cle(session, query, pagination, cle=LigneFinancement.id,
                                              cle_de=lambda row: int(row[0].id))
    return [(ligne, bool(r)) for ligne, r in rows], total, suivant


async def notifications(session: AsyncSession, *, finess: str | None, region: str | None,
                        dispositif: str | None, pagination: Pagination
                        ) -> tuple[list[tuple[Notification, str | None]], int]:
    """One page of notifications, each with the id of the one that supersedes it (None: current), in
    notification order: (notifications, total)."""
    remplacante = aliased(Notification)
    query = select(Notification, remplacante.id).outerjoin(
        remplacante, remplacante.remplace == Notification.id)
    if finess:
        query = query.where(or_(Notification.finess == finess, Notification.finess_ej == finess))
    if region:
        query = query.where(Notification.region == region)
    if dispositif:
        query = query.where(Notification.dispositif == dispositif)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.execute(query.order_by(Notification.notifie_le, Notification.id)
                                 .offset(pagination.offset).limit(pagination.limit))
    return [(n, par) for n, par in rows.all()], total


async def remplacee_par(session: AsyncSession, notification_id: str) -> str | None:
    par: str | None = await session.scalar(
        select(Notification.id).where(Notification.remplace == notification_id))
    return par


async def lignes_de(session: AsyncSession, notification_id: str) -> Sequence[LigneFinancement]:
    return (await session.scalars(select(LigneFinancement).where(
        LigneFinancement.notification_id == notification_id).order_by(LigneFinancement.id))).all()


async def lignes_courantes(session: AsyncSession, region: str | None) -> Sequence[LigneFinancement]:
    """Every line no correction superseded, of a region (None: national)."""
    query = select(LigneFinancement).where(lignes_non_remplacees())
    if region is not None:
        query = query.where(LigneFinancement.region == region)
    return (await session.scalars(query.order_by(LigneFinancement.id))).all()


async def amorcages_sans_solde(session: AsyncSession, region: str | None) -> Sequence[LigneFinancement]:
    """Current phase-1 amorçage lines whose (EJ, objective) has no solde or reprise yet."""
    solde = aliased(LigneFinancement)
    query = (select(LigneFinancement).outerjoin(solde, and_(
        solde.dispositif == LigneFinancement.dispositif,
        solde.finess_ej == LigneFinancement.finess_ej, solde.objectif == LigneFinancement.objectif,
        solde.nature.in_(("solde", "reprise"))))
        .where(LigneFinancement.nature == "amorcage", solde.id.is_(None), lignes_non_remplacees()))
    if region is not None:
        query = query.where(LigneFinancement.region == region)
    return (await session.scalars(query.order_by(LigneFinancement.id))).all()

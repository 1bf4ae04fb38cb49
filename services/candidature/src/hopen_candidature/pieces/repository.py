"""Queries on the piece table."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.models import Piece


async def prochaine_version(session: AsyncSession, dossier_type: str, dossier_id: str, type_: str,
                            finess_ej: str | None) -> int:
    """1 + the highest version of (dossier, type, EJ). The caller holds the dossier's row lock, so
    two uploads of the same type cannot read the same maximum."""
    maximum = await session.scalar(select(func.max(Piece.version)).where(
        Piece.dossier_type == dossier_type, Piece.dossier_id == dossier_id, Piece.type == type_,
        Piece.finess_ej.is_(None) if finess_ej is None else Piece.finess_ej == finess_ej))
    return int(maximum or 0) + 1


def _du_dossier(dossier_type: str, dossier_id: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (Piece.dossier_type == dossier_type, Piece.dossier_id == dossier_id)


async def pieces_du_dossier(session: AsyncSession, dossier_type: str, dossier_id: str, *, limit: int,
                            offset: int) -> tuple[list[tuple[Piece, bool]], int]:
    """Every version, grouped by (type, finess_ej) in code order, newest version first in each group,
    with whether it is the current (latest) one."""
    conditions = _du_dossier(dossier_type, dossier_id)
    total = await session.scalar(select(func.count()).select_from(Piece).where(*conditions)) or 0
    derniere = func.max(Piece.version).over(partition_by=(Piece.type, Piece.finess_ej))
    lignes = await session.execute(
        select(Piece, (Piece.version == derniere).label("courante")).where(*conditions)
        .order_by(Piece.type, Piece.finess_ej.asc().nulls_first(), Piece.version.desc())
        .limit(limit).offset(offset))
    return [(p, bool(c)) for p, c in lignes.all()], int(total)


async def piece_du_dossier(session: AsyncSession, dossier_type: str, dossier_id: str,
                           piece_id: str) -> tuple[Piece, bool] | None:
    piece = await session.scalar(select(Piece).where(Piece.id == piece_id,
                                                     *_du_dossier(dossier_type, dossier_id)))
    if piece is None:
        return None
    derniere = await prochaine_version(session, dossier_type, dossier_id, piece.type, piece.finess_ej)
    return piece, piece.version == derniere - 1


async def cles_referencees(session: AsyncSession, cles: Sequence[str]) -> set[str]:
    """Which of these store keys a piece row points to (the orphan collector's question)."""
    return set(await session.scalars(select(Piece.cle).where(Piece.cle.in_(list(cles)))))

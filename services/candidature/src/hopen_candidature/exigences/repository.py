"""Where the deposit check reads the pieces a dossier holds.

The pieces slice's `piece` table (hopen_candidature.pieces, migration 0007): one row per uploaded
version, with dossier_type ('candidature' | 'projet'), dossier_id, type (the programme's piece type
code) and finess_ej (the member EJ of a per-EJ requirement, NULL for the dossier). The exigences API
tests inject a source of their own (`PiecesEnMemoire`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts.pieces import TypeDossier

TypesDeposes = set[tuple[str, str | None]]
SourcePieces = Callable[[AsyncSession, TypeDossier, str], Awaitable[TypesDeposes]]


async def types_deposes(session: AsyncSession, dossier_type: TypeDossier, dossier_id: str) -> TypesDeposes:
    """(type, finess_ej) of every piece deposited on the dossier, whatever its version. Read in the
    deposit's transaction: a piece uploaded after this read does not make a refused deposit pass."""
    lignes = await session.execute(
        text("SELECT DISTINCT type, finess_ej FROM piece WHERE dossier_type = :t AND dossier_id = :i"),
        {"t": dossier_type, "i": dossier_id})
    return {(str(t), None if ej is None else str(ej)) for t, ej in lignes.all()}


def source_pieces() -> SourcePieces | None:
    """The FastAPI dependency giving the deposit its source of pieces: the piece table."""
    return types_deposes


SourcePiecesDep = Annotated[SourcePieces | None, Depends(source_pieces)]

"""Where the deposit check reads the pieces a dossier holds.

MERGE CONTRACT with the pieces slice (branch i8-pieces): its `piece` table has at least the columns
(dossier_type: 'candidature' | 'projet', dossier_id, type: the programme's piece type code, finess_ej:
the member EJ for a per-EJ requirement, NULL for the dossier) — one row per uploaded version. Until
that table is in this branch, `source_pieces` gives no source and the deposit checks the GHT criteria
only; the merge makes it return `types_deposes` (one line), and the API tests inject their own.
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
    """The FastAPI dependency giving the deposit its source of pieces. MERGE: `return types_deposes`."""
    return None


SourcePiecesDep = Annotated[SourcePieces | None, Depends(source_pieces)]

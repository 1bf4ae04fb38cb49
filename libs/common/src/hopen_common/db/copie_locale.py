"""Local copies of another service's data, kept from its events (event-carried state transfer)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession


async def tenir_copie_locale(session: AsyncSession, modele: Any, payload: BaseModel,
                             cles: Sequence[str] = ("finess",)) -> None:
    """Insert or update the row of `modele` keyed on `cles` with the payload's fields that are
    columns of `modele`: each service keeps only what it needs of a published snapshot."""
    valeurs = payload.model_dump(include=set(modele.__table__.columns.keys()))
    await session.execute(insert(modele).values(**valeurs)
                          .on_conflict_do_update(index_elements=list(cles), set_=valeurs))

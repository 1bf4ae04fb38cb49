"""Local copies of another service's data, kept from its events (event-carried state transfer).

A copy is versioned by its snapshot's time (the event's `time`, set by the publisher when it wrote
the snapshot): an older snapshot arriving after a newer one (a replay under a new id, a republication
out of order: the fault matrix's F6) changes nothing, so the copy is the newest snapshot whatever the
order of arrival. A row copied before the version existed (`instantane_le` null) takes any snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import DateTime, or_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column


class CopieLocale:
    """Mixin of the models that hold such a copy: the time of the snapshot they hold."""

    instantane_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


async def tenir_copie_locale(session: AsyncSession, modele: Any, payload: BaseModel, *,
                             instantane_le: datetime, cles: Sequence[str] = ("finess",)) -> bool:
    """Insert or update the row of `modele` keyed on `cles` with the payload's fields that are
    columns of `modele` (each service keeps only what it needs of a published snapshot), unless the
    row holds a newer snapshot. True when the copy took it."""
    valeurs = {**payload.model_dump(include=set(modele.__table__.columns.keys())),
               "instantane_le": instantane_le}
    plus_recent = or_(modele.instantane_le.is_(None), modele.instantane_le <= instantane_le)
    ecrit = await session.execute(
        insert(modele).values(**valeurs)
        .on_conflict_do_update(index_elements=list(cles), set_=valeurs, where=plus_recent)
        .returning(modele.instantane_le))
    return ecrit.first() is not None

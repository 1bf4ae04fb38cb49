from __future__ import annotations

import uuid

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.db.messaging import OutboxMessage
from hopen_common.events.envelope import Evenement

OUTBOX_CHANNEL = "hopen_outbox"


async def publier(session: AsyncSession, topic: str, key: str, evenement: Evenement) -> None:
    """Write the event in the caller's transaction; the relay sends it after commit."""
    session.add(
        OutboxMessage(
            event_id=uuid.UUID(evenement.id),
            topic=topic,
            key=key,
            envelope=evenement.model_dump(mode="json"),
        )
    )
    # NOTIFY is transactional: the relay is woken only if this transaction commits.
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})


async def publier_lot(session: AsyncSession, topic: str, evenements: list[tuple[str, Evenement]]) -> int:
    """Write many (key, event) in the caller's transaction with one statement and one wake-up.

    For loads that publish thousands of events (reference-data imports); same guarantees as
    `publier`.
    """
    if not evenements:
        return 0
    await session.execute(
        insert(OutboxMessage),
        [
            {"event_id": uuid.UUID(ev.id), "topic": topic, "key": key,
             "envelope": ev.model_dump(mode="json")}
            for key, ev in evenements
        ],
    )
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
    return len(evenements)

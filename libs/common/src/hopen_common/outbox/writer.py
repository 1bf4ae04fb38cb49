from __future__ import annotations

import uuid

from sqlalchemy import text
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

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.db.messaging import OutboxMessage
from hopen_common.db.session import connexion_asyncpg
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


async def publier_lot(session: AsyncSession, topic: str,
                      evenements: Sequence[tuple[str, str, str]]) -> int:
    """Write many events in the caller's transaction with COPY and one wake-up: (key, event id,
    envelope as JSON text). For loads that publish tens of thousands of events (reference-data
    imports); same guarantees as `publier` (the outbox's defaults, txid included, apply)."""
    if not evenements:
        return 0
    cnx = await connexion_asyncpg(session)
    await cnx.copy_records_to_table(
        "outbox", columns=("event_id", "topic", "key", "envelope"),
        records=[(uuid.UUID(identifiant), topic, cle, texte) for cle, identifiant, texte in evenements],
    )
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
    return len(evenements)

"""Outbox relay: one per service (advisory lock), woken by LISTEN/NOTIFY, polling as fallback.

A row is marked sent only after the broker acknowledged it (idempotent producer,
acks=all), so a crash between send and mark re-sends it: consumers dedupe by
event id (inbox).

The relay builds its own producer, and a new one after any failure: a producer whose sender
task died (seen once in six broker restarts under load, the fault matrix's F3) accepts sends
and never acknowledges them, so reusing it would stall the relay for ever (ADR 0028).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from hopen_common.kafka import stop_with_timeout
from hopen_common.outbox.writer import OUTBOX_CHANNEL
from hopen_common.pannes import point_de_panne
from hopen_common.reveil import attendre_reveil

log = logging.getLogger(__name__)

BATCH_SIZE = 200

# Only rows whose writing transaction is older than every transaction still
# running: a row with a smaller id that commits later can never be skipped,
# and the batch is in id order per aggregate.
_SELECT_READY = """
SELECT id, topic, key, envelope::text AS envelope
FROM outbox
WHERE sent_at IS NULL
  AND txid < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
ORDER BY id
LIMIT $1
"""


_RETENUES = "SELECT EXISTS (SELECT 1 FROM outbox WHERE sent_at IS NULL)"
_PEU = 0.02  # seconds


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


class OutboxRelay:
    def __init__(
        self,
        *,
        database_url: str,
        producteur: Callable[[], AIOKafkaProducer],
        lock_key: int,
        poll_interval: float = 1.0,
        send_timeout: float = 10.0,
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._nouveau_producteur = producteur
        self._lock_key = lock_key
        self._poll_interval = poll_interval
        self._send_timeout = send_timeout
        self._wake = asyncio.Event()
        self.sent_count = 0
        self.producteurs_construits = 0

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            try:
                await self._run_once_connected()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; restarting in 2 s")
                await asyncio.sleep(2)

    async def _run_once_connected(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn)
        try:
            # Single relay per service: other replicas wait here until we die.
            while not await conn.fetchval(  # noqa: ASYNC110 (a DB lock: nothing to wait on but polling)
                "SELECT pg_try_advisory_lock($1)", self._lock_key
            ):
                await asyncio.sleep(self._poll_interval)
            await conn.add_listener(OUTBOX_CHANNEL, self._on_notify)
            producer = self._nouveau_producteur()
            self.producteurs_construits += 1
            try:
                await producer.start()
                await self._relayer(conn, producer)
            finally:
                await stop_with_timeout(producer, 2.0)  # a dead sender never flushes: do not wait
        finally:
            await conn.close()

    async def _relayer(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> None:
        while True:
            # Clear before draining: a NOTIFY arriving while we drain must wake us again.
            self._wake.clear()
            sent = await self.drain(conn, producer)
            if sent:
                continue
            # Rows committed but still above the xmin horizon (another transaction was
            # open) get no second NOTIFY: look again soon rather than at the next poll.
            attente = _PEU if await conn.fetchval(_RETENUES) else self._poll_interval
            await attendre_reveil(self._wake, attente)

    async def drain(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> int:
        """Send every ready row, in order; returns how many were sent."""
        total = 0
        while True:
            rows = await conn.fetch(_SELECT_READY, BATCH_SIZE)
            if not rows:
                return total
            for row in rows:
                async with asyncio.timeout(self._send_timeout):  # not wait_for: hopen_common.reveil
                    await producer.send_and_wait(
                        row["topic"],
                        value=row["envelope"].encode(),
                        key=row["key"].encode(),
                        headers=_headers(row["envelope"]),
                    )
                point_de_panne("relais-apres-ack")  # the fault matrix's F1 (off unless armed)
                await conn.execute(
                    "UPDATE outbox SET sent_at = $2 WHERE id = $1", row["id"], datetime.now(UTC)
                )
                total += 1
                self.sent_count += 1


def _headers(envelope_json: str) -> list[tuple[str, bytes]]:
    # Binary-mode style headers too, so tools can route without parsing the body.
    env = json.loads(envelope_json)
    return [
        ("ce_type", env["type"].encode()),
        ("ce_id", env["id"].encode()),
        ("content-type", b"application/cloudevents+json"),
    ]

"""A real Kafka broker and a real PostgreSQL: the tests publish the producers' events to the broker,
financement's own consumer (EventConsumer + HANDLERS, as in production) applies them."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hopen_common.contracts.topics import topic_dead_letter
from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.devstack.kafka import ensure_topics_async
from hopen_common.events import Evenement
from hopen_common.inbox import EventConsumer
from hopen_common.kafka import build_consumer, build_producer, stop_with_timeout
from hopen_financement.consumers import HANDLERS

SUJETS = ("etablissement", "candidature", "dossier", "projet")


@dataclass
class Bus:
    producer: AIOKafkaProducer
    topics: dict[str, str]
    sessions: async_sessionmaker[AsyncSession]
    consumer: EventConsumer
    publies: list[tuple[str, str, Evenement]]

    async def publier(self, sujet: str, cle: str, evenement: Evenement) -> None:
        await self.producer.send_and_wait(self.topics[sujet], evenement.to_bytes(), key=cle.encode())
        self.publies.append((sujet, cle, evenement))

    async def republier_tout(self) -> None:
        """The broker redelivers: every event published so far, once more, in the same order."""
        for sujet, cle, evenement in list(self.publies):
            await self.producer.send_and_wait(self.topics[sujet], evenement.to_bytes(), key=cle.encode())

    async def attendre(self, condition: Callable[[AsyncSession], Awaitable[Any]], *, en: float = 120.0,
                       quoi: str = "condition") -> Any:
        loop = asyncio.get_running_loop()
        limite = loop.time() + en
        while True:
            async with self.sessions() as s:
                valeur = await condition(s)
            if valeur:
                return valeur
            assert loop.time() < limite, f"{quoi}: not reached within {en:.0f} s"
            await asyncio.sleep(0.2)

    async def compter(self, modele: Any, *where: Any) -> int:
        async with self.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(modele).where(*where)) or 0)

    async def somme(self, colonne: Any, *where: Any) -> Decimal:
        async with self.sessions() as s:
            return Decimal(await s.scalar(select(func.coalesce(func.sum(colonne), 0)).where(*where)))


async def _superviser(consumer: EventConsumer) -> None:
    """Restart the loop after a crash, as the service's supervisor does (hopen_common.service)."""
    while True:
        try:
            await consumer.run_forever()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - logged by aiokafka/the consumer; the loop goes on
            await asyncio.sleep(0.5)


@pytest.fixture
async def bus(fresh_database: Callable[[str], str], kafka_bootstrap: str) -> AsyncIterator[Bus]:
    url = fresh_database("financement")
    engine = build_engine(url)
    sessions = build_sessionmaker(engine)
    suffixe = uuid.uuid4().hex[:10]
    topics = {s: f"test.{suffixe}.{s}" for s in SUJETS}
    # The dead-letter topic too: parking must not wait for the broker to auto-create it.
    await ensure_topics_async(kafka_bootstrap, [*topics.values(), topic_dead_letter("financement")])
    producer = build_producer(kafka_bootstrap, client_id=f"test-{suffixe}")
    await producer.start()
    kafka = build_consumer(kafka_bootstrap, *topics.values(), group_id=f"financement-{suffixe}")
    await kafka.start()
    consumer = EventConsumer(name="financement", consumer=kafka, producer=producer, sessionmaker=sessions,
                             handlers=HANDLERS, max_attempts=3, retry_backoff=0.05)
    tache = asyncio.create_task(_superviser(consumer))
    try:
        yield Bus(producer, topics, sessions, consumer, [])
    finally:
        tache.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await tache
        await stop_with_timeout(kafka)
        await stop_with_timeout(producer)
        await engine.dispose()

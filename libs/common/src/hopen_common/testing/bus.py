"""A service's own consumer (EventConsumer + its HANDLERS, as in production) on the real Kafka
broker and its real database, with private topics and group: the test is the producer."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hopen_common.contracts.topics import topic_dead_letter
from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.devstack.kafka import ensure_topics_async
from hopen_common.events import Evenement
from hopen_common.inbox import EventConsumer, Handler
from hopen_common.kafka import ProducteurReconstruit, build_consumer, build_producer, stop_with_timeout
from hopen_common.service import superviser


@dataclass
class Bus:
    producer: AIOKafkaProducer
    topics: dict[str, str]  # subject (e.g. "dossier") -> this test's private topic
    sessions: async_sessionmaker[AsyncSession]
    consumer: EventConsumer
    publies: list[tuple[str, str, Evenement]] = field(default_factory=list)

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


@asynccontextmanager
async def bus_de_test(*, nom: str, handlers: Mapping[str, Handler], database_url: str, kafka_bootstrap: str,
                      sujets: Iterable[str], max_attempts: int = 3) -> AsyncIterator[Bus]:
    """Private topics (one per subject) and consumer group, so that nothing else on the broker
    (another test, a running stack) reads or writes them."""
    engine = build_engine(database_url)
    sessions = build_sessionmaker(engine)
    suffixe = uuid.uuid4().hex[:10]
    topics = {s: f"test.{suffixe}.{s}" for s in sujets}
    # The dead-letter topic too: parking must not wait for the broker to auto-create it.
    await ensure_topics_async(kafka_bootstrap, [*topics.values(), topic_dead_letter(nom)])
    producer = build_producer(kafka_bootstrap, client_id=f"test-{suffixe}")
    await producer.start()
    kafka = build_consumer(kafka_bootstrap, *topics.values(), group_id=f"{nom}-{suffixe}")
    await kafka.start()
    parking = ProducteurReconstruit(lambda: build_producer(kafka_bootstrap,
                                                           client_id=f"test-{suffixe}-parking"))
    consumer = EventConsumer(name=nom, consumer=kafka, producer=parking, sessionmaker=sessions,
                             handlers=handlers, max_attempts=max_attempts, retry_backoff=0.05)
    tache = asyncio.create_task(superviser(consumer, pause=0.5))
    try:
        yield Bus(producer, topics, sessions, consumer)
    finally:
        tache.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await tache
        await stop_with_timeout(kafka)
        await stop_with_timeout(producer)
        await parking.arreter()
        await engine.dispose()


async def lire_topic(bootstrap: str, topic: str, attendus: int, en: float = 30.0) -> list[Any]:
    """Read a topic from the beginning until `attendus` records are there (or time runs out)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    records: list[Any] = []
    try:
        loop = asyncio.get_running_loop()
        limite = loop.time() + en
        while len(records) < attendus and loop.time() < limite:
            lot = await consumer.getmany(timeout_ms=500)
            for recs in lot.values():
                records.extend(recs)
    finally:
        await stop_with_timeout(consumer)
    return records

"""Kafka client factories with the settings our guarantees rely on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

log = logging.getLogger(__name__)


def build_producer(bootstrap_servers: str, *, client_id: str) -> AIOKafkaProducer:
    # enable_idempotence implies acks=all: the default acks=1 can lose an acked event.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        request_timeout_ms=15000,
    )


def build_consumer(bootstrap_servers: str, *topics: str, group_id: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,  # the offset is committed after the effect (inbox)
        auto_offset_reset="earliest",
        metadata_max_age_ms=5000,  # topics auto-created later are picked up quickly
    )


async def stop_with_timeout(client: AIOKafkaProducer | AIOKafkaConsumer, seconds: float = 10.0) -> None:
    # aiokafka issue #1101: stop() can hang while the broker is down.
    try:
        async with asyncio.timeout(seconds):  # not wait_for: it may swallow a stop (hopen_common.reveil)
            await client.stop()
    except TimeoutError:
        pass


class ProducteurReconstruit:
    """A process's producer for its occasional sends (a consumer's parking, `/ready`), rebuilt after
    any failure, as the outbox relay rebuilds its own (ADR 0028): a producer whose sender task died
    under a hard broker restart answers metadata requests but never acknowledges a send, so keeping it
    would make every parking time out until the process restarts. A failed send drops the producer
    and raises; the next call builds and starts a new one (`fabrique`)."""

    def __init__(self, fabrique: Callable[[], AIOKafkaProducer], *, delai_envoi: float = 15.0) -> None:
        self._fabrique = fabrique
        self._delai_envoi = delai_envoi
        self._producteur: AIOKafkaProducer | None = None
        self._verrou = asyncio.Lock()
        self.construits = 0

    async def demarrer(self) -> AIOKafkaProducer:
        """The current producer, built and started first if there is none (raises if the broker
        cannot be reached: nothing is kept)."""
        async with self._verrou:
            if self._producteur is None:
                producteur = self._fabrique()
                self.construits += 1
                try:
                    await producteur.start()
                except BaseException:
                    await stop_with_timeout(producteur, 2.0)
                    raise
                self._producteur = producteur
            return self._producteur

    async def envoyer(self, topic: str, *, value: bytes | None, key: bytes | None,
                      headers: Sequence[tuple[str, bytes]] = ()) -> None:
        """Send one record and wait for the broker's acknowledgement, building the producer first if
        needed, all within `delai_envoi` seconds."""
        producteur: AIOKafkaProducer | None = None
        try:
            async with asyncio.timeout(self._delai_envoi):  # not wait_for (hopen_common.reveil)
                producteur = await self.demarrer()
                await producteur.send_and_wait(topic, value=value, key=key, headers=list(headers))
        except Exception:  # not a cancellation: the producer is not at fault then
            await self._abandonner(producteur)
            raise

    async def verifier(self, secondes: float = 3.0) -> None:
        """Raises unless the broker answers a metadata request within `secondes` (readiness). A failed
        check keeps the producer: a slow probe must not close it under a parking in progress, and a
        producer whose sender died still answers metadata (only a failed send tells, `envoyer`)."""
        async with asyncio.timeout(secondes):
            producteur = await self.demarrer()
            await producteur.client.fetch_all_metadata()

    async def arreter(self) -> None:
        async with self._verrou:
            producteur, self._producteur = self._producteur, None
        if producteur is not None:
            await stop_with_timeout(producteur)

    async def _abandonner(self, producteur: AIOKafkaProducer | None) -> None:
        if producteur is None:  # it did not start: `demarrer` kept nothing
            return
        async with self._verrou:
            if self._producteur is not producteur:  # another call dropped it already
                return
            self._producteur = None
        log.warning("Kafka producer dropped after a failure; the next send builds a new one")
        await stop_with_timeout(producteur, 2.0)  # a dead sender never flushes: do not wait

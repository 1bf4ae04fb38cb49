"""Kafka client factories with the settings our guarantees rely on."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


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

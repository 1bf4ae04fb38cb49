from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from hopen_common.kafka import build_producer, stop_with_timeout


@pytest.fixture
async def topic(kafka_bootstrap: str) -> str:
    """A fresh topic, created before any consumer subscribes (as the dev stack does)."""
    from hopen_common.devstack.kafka import ensure_topics_async

    name = f"test.{uuid.uuid4().hex[:12]}"
    await ensure_topics_async(kafka_bootstrap, [name])
    return name


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    p = build_producer(kafka_bootstrap, client_id="tests")
    await p.start()
    yield p
    await stop_with_timeout(p)


async def read_topic(bootstrap: str, topic: str, expected: int, within: float = 30.0) -> list:
    """Read a topic from the beginning until `expected` records are there (or time runs out)."""
    import asyncio

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    records: list = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(records) < expected and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
    finally:
        await stop_with_timeout(consumer)
    return records

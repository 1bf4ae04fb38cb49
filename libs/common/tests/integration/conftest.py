from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer

from hopen_common.kafka import ProducteurReconstruit, build_producer, stop_with_timeout


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


@pytest.fixture
async def parking(kafka_bootstrap: str) -> AsyncIterator[ProducteurReconstruit]:
    """A consumer's producer for parking, as the services build it (`service.producteur_du_service`)."""
    p = ProducteurReconstruit(lambda: build_producer(kafka_bootstrap, client_id="tests-parking"))
    yield p
    await p.arreter()

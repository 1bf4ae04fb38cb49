"""The dev stack's infrastructure is real: PostgreSQL answers SQL, Kafka round-trips."""

from __future__ import annotations

import uuid

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from hopen_common.testing.plugin import PostgresServerInfo


async def test_postgres_answers_select_1(postgres_server: PostgresServerInfo) -> None:
    conn = await asyncpg.connect(postgres_server.admin_dsn)
    try:
        assert await conn.fetchval("select 1") == 1
        assert await conn.fetchval("select 1 from pg_roles where rolname = 'hopen'") == 1
    finally:
        await conn.close()


async def test_application_role_can_create_and_use_a_database(
    postgres_server: PostgresServerInfo,
) -> None:
    name = f"t_devstack_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(postgres_server.dsn("postgres"))
    try:
        await conn.execute(f'create database "{name}"')
    finally:
        await conn.close()
    conn = await asyncpg.connect(postgres_server.dsn(name))
    try:
        assert await conn.fetchval("select current_user") == "hopen"
    finally:
        await conn.close()


async def test_kafka_round_trips_a_message(kafka_bootstrap: str) -> None:
    topic = f"hopen.test.devstack-{uuid.uuid4().hex[:8]}"  # auto-created (3 partitions)
    key, value = b"agg-1", b'{"hello": "kafka"}'
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        meta = await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"devstack-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        msg = await consumer.getone()
        await consumer.commit()
    finally:
        await consumer.stop()
    assert (msg.key, msg.value, msg.partition, msg.offset) == (key, value, meta.partition, 0)
    assert meta.topic == topic


async def test_ensure_topics_creates_missing_topics(kafka_bootstrap: str) -> None:
    from hopen_common.devstack.kafka import ensure_topics_async, list_topics

    names = [f"hopen.test.topic-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    await ensure_topics_async(kafka_bootstrap, names)
    await ensure_topics_async(kafka_bootstrap, names)  # idempotent
    assert set(names) <= set(await list_topics(kafka_bootstrap))

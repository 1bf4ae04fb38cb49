"""The outbox delivers what was committed, even when the writer dies right after commit."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap

from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from hopen_common.db import build_engine
from hopen_common.events import Evenement
from hopen_common.kafka import build_producer
from hopen_common.outbox import OutboxRelay
from hopen_common.testing.bus import lire_topic

WRITER = textwrap.dedent("""
    import asyncio, os, signal, sys
    from hopen_common.contracts import EtablissementPublie
    from hopen_common.db import build_engine, build_sessionmaker, session_scope
    from hopen_common.events import nouvel_evenement
    from hopen_common.outbox import publier

    async def main(url, topic):
        engine = build_engine(url)
        async with session_scope(build_sessionmaker(engine)) as session:
            payload = EtablissementPublie(
                finess="010000024", finess_ej="010780054", raison_sociale="CH DE FLEYRIAT",
                region="84", departement="01", secteur="public", categorie="355", niveau="EG",
                ght_code=None, ght_role=None, finess_pmsi="010780054", activite_combinee=None,
                eligible_phase1=True, maille_phase1="010780054", domaines_sun_es=[], ferme=False)
            ev = nouvel_evenement(payload, source="/test", subject="etablissement/010000024")
            await publier(session, topic, "010000024", ev)
        print(ev.id, flush=True)
        # Die at once after the commit: no relay ever ran in this process.
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
""")


async def test_event_committed_before_sigkill_is_delivered(fresh_database, kafka_bootstrap, topic):
    url = fresh_database("candidature")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, url, topic, env=os.environ.copy(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == -signal.SIGKILL, stderr.decode()
    event_id = stdout.decode().strip()
    assert event_id

    relay = OutboxRelay(database_url=url, producteur=lambda: build_producer(kafka_bootstrap, client_id="t"),
                        lock_key=4242, poll_interval=0.2)
    task = asyncio.create_task(relay.run_forever())
    engine = build_engine(url)

    async def non_envoyes() -> int:
        async with engine.connect() as conn:
            return int(await conn.scalar(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")) or 0)

    try:
        records = await lire_topic(kafka_bootstrap, topic, attendus=1)
        # The row is marked sent just after the broker's ack: give the relay that moment.
        for _ in range(100):
            if await non_envoyes() == 0:
                break
            await asyncio.sleep(0.1)
        assert await non_envoyes() == 0
    finally:
        task.cancel()
        await engine.dispose()
    assert [Evenement.from_bytes(r.value).id for r in records] == [event_id]
    assert records[0].key == b"010000024"


async def test_late_committing_transaction_is_not_skipped(fresh_database, kafka_bootstrap, topic):
    """Row 1 is written by a transaction that commits after row 2's: both are delivered."""
    from hopen_common.contracts import CandidatureRefusee
    from hopen_common.db import build_sessionmaker
    from hopen_common.events import nouvel_evenement
    from hopen_common.outbox import publier

    url = fresh_database("candidature")
    engine = build_engine(url)
    sessions = build_sessionmaker(engine)

    def evenement(n: int) -> Evenement:
        from datetime import UTC, datetime
        return nouvel_evenement(CandidatureRefusee(
            decision_id=str(n), candidature_id=f"c{n}", finess="010000024", region="84",
            decide_par="ars", decide_le=datetime.now(UTC), motivation="test", dispositif="phase1",
        ), source="/test", subject=f"candidature/c{n}")

    relay = OutboxRelay(database_url=url, producteur=lambda: build_producer(kafka_bootstrap, client_id="t"),
                        lock_key=4243, poll_interval=0.1)
    task = asyncio.create_task(relay.run_forever())
    try:
        slow = sessions()
        await publier(slow, topic, "k", evenement(1))
        await slow.flush()  # row 1 exists, uncommitted, with the older txid
        async with sessions() as fast:
            await publier(fast, topic, "k", evenement(2))
            await fast.commit()
        await asyncio.sleep(1.0)  # the relay had every chance to send row 2 and move on
        await slow.commit()
        await slow.close()
        records = await lire_topic(kafka_bootstrap, topic, attendus=2)
    finally:
        task.cancel()
        await engine.dispose()
    # Held back until the older transaction committed, then sent in id order.
    assert [Evenement.from_bytes(r.value).data["candidature_id"] for r in records] == ["c1", "c2"]


async def test_a_producer_whose_sender_died_is_replaced(fresh_database, kafka_bootstrap, topic):
    """F3's stall (ADR 0028): a producer whose sender task died takes sends and never acks them.
    The relay times the send out, drops that producer and sends the row with a new one."""
    from hopen_common.db import build_sessionmaker
    from hopen_common.outbox import publier

    url = fresh_database("candidature")
    engine = build_engine(url)
    construits: list[AIOKafkaProducer] = []

    class ProducteurSansExpediteur(AIOKafkaProducer):
        async def start(self) -> None:
            await super().start()
            self._sender.sender_task.cancel()  # what a broker restart did once: the sender is gone

    def fabrique() -> AIOKafkaProducer:
        classe = ProducteurSansExpediteur if not construits else AIOKafkaProducer
        construits.append(classe(bootstrap_servers=kafka_bootstrap, enable_idempotence=True))
        return construits[-1]

    from datetime import UTC, datetime

    from hopen_common.contracts import CandidatureRefusee
    from hopen_common.events import nouvel_evenement
    evenement = nouvel_evenement(CandidatureRefusee(
        decision_id="1", candidature_id="c1", finess="010000024", region="84", decide_par="ars",
        decide_le=datetime.now(UTC), motivation="test", dispositif="phase1",
    ), source="/test", subject="candidature/c1")
    async with build_sessionmaker(engine)() as session:
        await publier(session, topic, "k", evenement)
        await session.commit()
    relay = OutboxRelay(database_url=url, producteur=fabrique, lock_key=4244, poll_interval=0.1,
                        send_timeout=3.0)  # the dead sender's wait; the good producer's ack within it
    task = asyncio.create_task(relay.run_forever())
    try:
        records = await lire_topic(kafka_bootstrap, topic, attendus=1)
    finally:
        task.cancel()
        await engine.dispose()
    assert [Evenement.from_bytes(r.value).id for r in records] == [evenement.id]
    assert relay.producteurs_construits == 2
    assert isinstance(construits[0], ProducteurSansExpediteur)

"""Idempotent consumer: redelivery changes nothing; poison goes to the dead letters; parking."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select

from hopen_common.contracts import CandidatureRefusee
from hopen_common.contracts.topics import topic_dead_letter
from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.db.messaging import DeadLetter, InboxMessage, JournalAudit
from hopen_common.events import Evenement, decoder_payload, nouvel_evenement
from hopen_common.inbox import EventConsumer
from hopen_common.kafka import build_consumer, stop_with_timeout
from hopen_common.testing.bus import lire_topic


def refus(candidature: str) -> Evenement:
    return nouvel_evenement(CandidatureRefusee(
        decision_id="d-" + candidature, candidature_id=candidature, finess="010000024", region="84",
        decide_par="ars", decide_le=datetime.now(UTC), motivation="test", dispositif="phase1",
    ), source="/test", subject=f"candidature/{candidature}")


async def journaliser(session, evenement, payload) -> None:
    """A real effect: one audit row per applied event."""
    if payload.motivation == "boum":
        raise RuntimeError("handler failure")
    session.add(JournalAudit(acteur="test", role="test", action="vu", objet_type="candidature",
                             objet_id=payload.candidature_id))


async def run_until(consumer: EventConsumer, condition, within: float = 40.0) -> None:
    task = asyncio.create_task(consumer.run_forever())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not await condition():
            if task.done():  # the loop died: show why instead of waiting for the deadline
                task.result()
            assert loop.time() < deadline, "condition not reached in time"
            await asyncio.sleep(0.2)
    finally:
        task.cancel()


async def _setup(fresh_database, kafka_bootstrap, parking, topic, name, lot=1, handler_lot=None):
    from hopen_common.devstack.kafka import ensure_topics_async

    await ensure_topics_async(kafka_bootstrap, [topic_dead_letter(name)])
    url = fresh_database("candidature")
    engine = build_engine(url)
    sessions = build_sessionmaker(engine)
    kafka = build_consumer(kafka_bootstrap, topic, group_id=f"g-{topic}")
    await kafka.start()
    consumer = EventConsumer(name=name, consumer=kafka, producer=parking, sessionmaker=sessions,
                             handlers={"CandidatureRefusee": journaliser}, max_attempts=2,
                             retry_backoff=0.05, lot=lot, handler_lot=handler_lot)
    return engine, sessions, kafka, consumer


async def count(sessions, model, *where) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.mark.parametrize("lot", [1, 50])
async def test_redelivered_event_changes_nothing(fresh_database, kafka_bootstrap, producer, parking, topic,
                                                 lot):
    engine, sessions, kafka, consumer = await _setup(fresh_database, kafka_bootstrap, parking,
                                                     topic, f"redelivery-{lot}", lot=lot)
    ev = refus("c1")
    for _ in range(3):  # the broker redelivers the very same event
        await producer.send_and_wait(topic, ev.to_bytes(), key=b"c1")
    await producer.send_and_wait(topic, refus("c2").to_bytes(), key=b"c2")

    async def done() -> bool:
        # All four deliveries went through the consumer (the two duplicates included).
        return await count(sessions, InboxMessage) == 2 and consumer.processed >= 4

    try:
        await run_until(consumer, done)
        assert await count(sessions, JournalAudit, JournalAudit.objet_id == "c1") == 1
        assert await count(sessions, JournalAudit, JournalAudit.objet_id == "c2") == 1
        # Applying it once more by hand is refused by the inbox too.
        assert await consumer.apply(ev, decoder_payload(ev), journaliser) is False
    finally:
        await stop_with_timeout(kafka)
        await engine.dispose()


@pytest.mark.parametrize("lot", [1, 50])
async def test_poison_goes_to_dead_letters_and_consumer_goes_on(fresh_database, kafka_bootstrap,
                                                               producer, parking, topic, lot):
    engine, sessions, kafka, consumer = await _setup(fresh_database, kafka_bootstrap, parking,
                                                     topic, f"poison-{lot}", lot=lot)
    inconnu = refus("c9").model_copy(update={"dataschema": "CandidatureRefusee/v99"})
    await producer.send_and_wait(topic, b"\x00 not json at all", key=b"x")
    await producer.send_and_wait(topic, inconnu.to_bytes(), key=b"c9")
    await producer.send_and_wait(topic, refus("c3").to_bytes(), key=b"c3")

    async def done() -> bool:
        return (await count(sessions, JournalAudit, JournalAudit.objet_id == "c3") == 1
                and await count(sessions, DeadLetter) == 2)

    try:
        await run_until(consumer, done)
        async with sessions() as s:
            letters = {dl.key: dl for dl in await s.scalars(select(DeadLetter))}
        # The three keys may sit on different partitions: no order between them.
        assert set(letters) == {"x", "c9"}
        assert "undecodable" in letters["x"].error
        assert "v99" in letters["c9"].error
        dlq = await lire_topic(kafka_bootstrap, topic_dead_letter(f"poison-{lot}"), attendus=2)
        assert sorted(r.key for r in dlq) == [b"c9", b"x"]
    finally:
        await stop_with_timeout(kafka)
        await engine.dispose()


async def test_parking_builds_a_new_producer_after_one_lost_its_sender(fresh_database, kafka_bootstrap,
                                                                       producer, topic):
    """A producer whose sender task died (what a hard broker restart did once, ADR 0028) never
    acknowledges: the consumer's parking times out, the consumer restarts, and the parking producer
    it then uses is a new one, so the poison is parked and the key behind it flows (before, every
    restart parked with the same dead producer until the process restarted). The crash comes before
    the new group's first commit: the consumer must seek back to the records it did not finish (aiokafka's
    `seek_to_committed` leaves a partition without a committed offset where it is: this test lost both
    records with it)."""
    from aiokafka import AIOKafkaProducer

    from hopen_common.kafka import ProducteurReconstruit, build_producer
    from hopen_common.service import superviser

    construits: list[AIOKafkaProducer] = []

    class ProducteurSansExpediteur(AIOKafkaProducer):
        async def start(self) -> None:
            await super().start()
            self._sender.sender_task.cancel()

    def fabrique() -> AIOKafkaProducer:
        if construits:
            construits.append(build_producer(kafka_bootstrap, client_id="tests-parking"))
        else:
            construits.append(ProducteurSansExpediteur(bootstrap_servers=kafka_bootstrap,
                                                       enable_idempotence=True))
        return construits[-1]

    parking = ProducteurReconstruit(fabrique, delai_envoi=5.0)  # the good one: start, then the ack
    nom = f"parking-expediteur-perdu-{topic[-6:]}"  # its own dead-letter topic, whatever ran before
    engine, sessions, kafka, consumer = await _setup(fresh_database, kafka_bootstrap, parking, topic, nom)
    await producer.send_and_wait(topic, b"\x00 not json at all", key=b"x")
    await producer.send_and_wait(topic, refus("c4").to_bytes(), key=b"x")
    tache = asyncio.create_task(superviser(consumer, pause=0.2))
    try:
        limite = asyncio.get_running_loop().time() + 40
        while await count(sessions, DeadLetter) < 2:  # the poison, then the event parked behind it
            assert not tache.done(), tache
            assert asyncio.get_running_loop().time() < limite, "nothing parked in 40 s"
            await asyncio.sleep(0.2)
        dlq = await lire_topic(kafka_bootstrap, topic_dead_letter(nom), attendus=2)
        assert {r.key for r in dlq} == {b"x"}  # a timed-out send may have been written too
        # The dead one first, then working ones (one unless a loaded machine timed a send out).
        assert isinstance(construits[0], ProducteurSansExpediteur)
        assert not any(isinstance(p, ProducteurSansExpediteur) for p in construits[1:])
        assert len(construits) == parking.construits >= 2
    finally:
        tache.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await tache
        await parking.arreter()
        await stop_with_timeout(kafka)
        await engine.dispose()


@pytest.mark.parametrize("lot", [1, 50])
async def test_failing_key_is_parked_others_flow_then_replay(fresh_database, kafka_bootstrap,
                                                             producer, parking, topic, lot):
    engine, sessions, kafka, consumer = await _setup(fresh_database, kafka_bootstrap, parking,
                                                     topic, f"parking-{lot}", lot=lot)
    boum = refus("c5").model_copy(update={"data": {**refus("c5").data, "motivation": "boum"}})
    suite = refus("c5")  # a later event of the same aggregate must wait behind the parked one
    await producer.send_and_wait(topic, boum.to_bytes(), key=b"c5")
    await producer.send_and_wait(topic, suite.to_bytes(), key=b"c5")
    await producer.send_and_wait(topic, refus("c6").to_bytes(), key=b"c6")

    async def done() -> bool:
        return (await count(sessions, JournalAudit, JournalAudit.objet_id == "c6") == 1
                and await count(sessions, DeadLetter) == 2)

    try:
        await run_until(consumer, done)
        assert await count(sessions, JournalAudit, JournalAudit.objet_id == "c5") == 0
        async with sessions() as s:
            letters = list(await s.scalars(select(DeadLetter).order_by(DeadLetter.id)))
        assert letters[0].attempts == 2
        assert "handler failure" in letters[0].error
        assert "parked behind" in letters[1].error
        # The operator fixes the cause (here: the handler) and replays the key, in order.
        consumer._handlers = {"CandidatureRefusee": lambda s, e, p: journaliser(
            s, e, p.model_copy(update={"motivation": "corrige"}))}
        assert await consumer.replay_parked("c5") == 2
        assert await count(sessions, JournalAudit, JournalAudit.objet_id == "c5") == 2
        assert await count(sessions, DeadLetter, DeadLetter.status == "parked") == 0
    finally:
        await stop_with_timeout(kafka)
        await engine.dispose()


async def test_a_lot_is_one_transaction_and_applies_each_event_once(fresh_database, kafka_bootstrap,
                                                                   producer, parking, topic):
    """With `lot`, what a fetch brought is applied in one transaction: far fewer commits
    than events, each event once (a duplicate inside the lot included), in order."""
    engine, sessions, kafka, consumer = await _setup(fresh_database, kafka_bootstrap, parking,
                                                     topic, "lots", lot=50)
    commits = []
    event.listen(engine.sync_engine, "commit", lambda _conn: commits.append(1))
    evenements = [refus(f"l{i}") for i in range(30)]
    for ev in [*evenements, evenements[3]]:  # one key: one partition, in this order
        await producer.send_and_wait(topic, ev.to_bytes(), key=b"meme-cle")

    async def done() -> bool:
        return consumer.processed >= 31

    try:
        await run_until(consumer, done)
        assert await count(sessions, InboxMessage) == 30
        async with sessions() as s:
            vus = list(await s.scalars(select(JournalAudit.objet_id).order_by(JournalAudit.id)))
        assert vus == [f"l{i}" for i in range(30)]
        assert len(commits) < 10  # one per lot (a fetch may cut the 31 records in a few)
    finally:
        await stop_with_timeout(kafka)
        await engine.dispose()


def refus_boum(candidature: str) -> Evenement:
    """An event whose effect fails every time (`journaliser`): parked after the attempts."""
    evenement = refus(candidature)
    return evenement.model_copy(update={"data": {**evenement.data, "motivation": "boum"}})


async def test_a_lot_takes_several_partitions_and_one_call_of_the_lot_handler(fresh_database, kafka_bootstrap,
                                                                             producer, parking, topic):
    """With `handler_lot`, what a fetch brought of several partitions is one transaction and one call
    with the new events only (a redelivery after its lot is not passed again), each key's events in
    their order (ADR 0026: a transaction per partition made the webhook consumer the bottleneck at a
    paced flow); a parked key's records go one at a time (parked behind it) while the other keys of the
    same fetch, its partition's included, still go in one lot."""
    appels: list[list[str]] = []

    async def journaliser_lot(session, evenements) -> None:
        for evenement, payload in evenements:
            await journaliser(session, evenement, payload)
        appels.append([e.id for e, _ in evenements])

    engine, sessions, kafka, consumer = await _setup(fresh_database, kafka_bootstrap, parking, topic,
                                                     "lots-partitions", lot=100, handler_lot=journaliser_lot)
    partition_de: dict[str, int] = {}

    async def envoyer(cle: str, ev: Evenement) -> None:
        partition_de[ev.id] = (await producer.send_and_wait(topic, ev.to_bytes(), key=cle.encode())).partition

    try:
        # First, key "garee" is parked (its effect fails) and one event of key "avant" applied.
        avant, boum = refus("avant-0"), refus_boum("garee-0")
        await envoyer("garee", boum)
        await envoyer("avant", avant)

        async def garee() -> bool:
            return (consumer.processed >= 1
                    and await count(sessions, DeadLetter, DeadLetter.status == "parked") == 1)

        await run_until(consumer, garee)
        appels.clear()
        # Then, before the consumer runs again: six keys of five events, two more of the parked key,
        # and the first lot's event again.
        cles = [f"cle-{k}" for k in range(6)]
        par_cle = {c: [refus(f"{c}-{i}") for i in range(5)] for c in cles}
        for i in range(5):
            for c in cles:
                await envoyer(c, par_cle[c][i])
            if i < 2:
                await envoyer("garee", refus(f"garee-{i + 1}"))
        await envoyer("avant", avant)
        partition_garee = partition_de[boum.id]
        assert len({partition_de[e.id] for c in cles for e in par_cle[c]}) > 1
        assert partition_garee in {partition_de[e.id] for c in cles for e in par_cle[c]}

        async def fini() -> bool:
            return (consumer.processed >= 1 + 31
                    and await count(sessions, DeadLetter, DeadLetter.status == "parked") == 3)

        await run_until(consumer, fini)
        vus_par_appel = [i for appel in appels for i in appel]
        attendus = {e.id for c in cles for e in par_cle[c]}
        assert sorted(vus_par_appel) == sorted(attendus)  # each once, not the redelivered one
        assert await count(sessions, InboxMessage) == 31
        async with sessions() as s:
            vus = list(await s.scalars(select(JournalAudit.objet_id).order_by(JournalAudit.id)))
            motifs = list(await s.scalars(select(DeadLetter.motif).order_by(DeadLetter.id)))
        assert motifs == ["echec-apres-essais", "derriere-evenement-gare", "derriere-evenement-gare"]
        assert not [v for v in vus if v.startswith("garee")]
        assert vus.count("avant-0") == 1
        for cle in cles:  # each key in its order
            assert [v for v in vus if v.startswith(cle + "-")] == [f"{cle}-{i}" for i in range(5)]
        # Sent before the consumer ran again, the records come in one or two fetches: a lot took
        # several partitions' records, the parked key's partition's among them.
        assert max(len({partition_de[i] for i in appel}) for appel in appels) > 1
        assert any(partition_de[i] == partition_garee for appel in appels for i in appel)
        assert len(appels) < 10
    finally:
        await stop_with_timeout(kafka)
        await engine.dispose()

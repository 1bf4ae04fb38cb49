"""Idempotent consumer: inbox row + effect in one transaction, offset committed after.

Failures are retried a bounded number of times, then the event is parked in the
dead letters (table, visible to operators, and topic). A parked key parks every
later event of the same aggregate, so a correction can never overtake the
decision it corrects; other keys keep flowing. A database outage is not a failure
of the event: it is not counted, the record is read again once the database is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hopen_common.contracts.topics import topic_dead_letter
from hopen_common.db.base import table_de
from hopen_common.db.messaging import DeadLetter, InboxMessage
from hopen_common.db.session import connexion_perdue, session_scope
from hopen_common.events.envelope import Evenement
from hopen_common.events.registry import decoder_payload
from hopen_common.kafka import ProducteurReconstruit
from hopen_common.pannes import point_de_panne

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Evenement, Any], Awaitable[None]]
# Several new events (each with its decoded payload), in order, in the caller's transaction: for a
# consumer whose effect is cheap and many (the webhook store), one statement for all of them instead
# of a few per event.
LotHandler = Callable[[AsyncSession, Sequence[tuple[Evenement, Any]]], Awaitable[None]]


class EvenementRefuse(Exception):
    """A handler's verdict that the event must never be applied as it is (e.g. it would pay a second
    time): parked at once, without retries, with `motif` as the code operators filter and count."""

    def __init__(self, motif: str, message: str) -> None:
        super().__init__(message)
        self.motif = motif


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        consumer: AIOKafkaConsumer,
        producer: ProducteurReconstruit,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: Mapping[str, Handler],
        max_attempts: int = 3,
        retry_backoff: float = 0.2,
        lot: int = 1,
        handler_lot: LotHandler | None = None,
    ) -> None:
        self.name = name
        # Records of one fetch applied in one transaction (at most `lot`): for a consumer whose effects
        # are cheap and many (the webhook store), one commit per event was the limit. 1 (the default)
        # keeps one transaction per event. With `handler_lot` (it must handle every type of
        # `handlers`), a lot's new events are applied by one call of it.
        self._lot = lot
        self._handler_lot = handler_lot
        self._consumer = consumer
        self._producer = producer
        self._sessionmaker = sessionmaker
        self._handlers = handlers
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self.processed = 0

    async def run_forever(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=500, max_records=100)
            # Each partition's records in their order, one partition after the other: records of two
            # partitions have no order between them (a key lives in one partition), so one lot, one
            # transaction and one offset commit may take what a fetch brought of several (at a paced
            # flow a fetch brings a few records of each partition: a transaction per partition made
            # the webhook consumer the bottleneck, ADR 0026).
            records = [record for partition in batches.values() for record in partition]
            # Where each partition of this fetch starts again if we stop before its end: its first
            # record, then past each lot committed.
            reprise = {tp: partition[0].offset for tp, partition in batches.items() if partition}
            try:
                for debut in range(0, len(records), self._lot):
                    lot = records[debut:debut + self._lot]
                    seuls = await self.process_lot(lot) if self._lot > 1 else lot
                    for record in seuls:  # one at a time: a failure is retried, then parked, alone
                        await self.process(record)
                    point_de_panne("consommateur-apres-commit")  # fault matrix F2 (off unless armed)
                    positions = _positions_suivantes(lot)
                    await self._consumer.commit(positions)
                    reprise.update(positions)
            except BaseException:
                # The fetch position is past records we did not finish: go back to the first of them
                # so that whoever runs the loop next starts there (what was applied meanwhile is in
                # the inbox: applied again, it changes nothing). Not `seek_to_committed`: it leaves a
                # partition with no committed offset yet where it is, past the records (a crash on a
                # new group's first event skipped it until the process restarted).
                self._revenir(reprise)
                raise

    def _revenir(self, reprise: Mapping[TopicPartition, int]) -> None:
        for tp, offset in reprise.items():
            try:
                self._consumer.seek(tp, offset)
            except Exception:  # revoked meanwhile: its new owner starts from the committed offset
                log.warning("%s: %s no longer assigned, not sought back", self.name, tp)

    async def process_lot(self, records: list[ConsumerRecord[bytes, bytes]]
                          ) -> list[ConsumerRecord[bytes, bytes]]:
        """Several records (each partition's in order), each with its inbox row, in one transaction, in
        order; returns those left to the one-at-a-time path (`process`), in order: every record of a key
        that is parked or has a record that does not decode or whose payload is invalid (so parking keeps
        the key's order), such a record without a key, and all of them when applying failed (nothing
        written: retries and outages then behave exactly as without lots). The others' keys flow on."""
        a_part: set[int] = set()  # positions in `records`
        cles_a_part: set[str] = set()
        lus: list[tuple[int, str | None, Evenement, BaseModel, Handler]] = []
        for i, record in enumerate(records):
            cle = record.key.decode() if record.key else None
            try:
                evenement = Evenement.from_bytes(record.value)
                handler = self._handlers.get(evenement.type)
                if handler is None:
                    continue  # another consumer's business: nothing to apply, as in `process`
                payload = decoder_payload(evenement)
            except Exception:
                a_part.add(i)
                if cle is not None:
                    cles_a_part.add(cle)
                continue
            lus.append((i, cle, evenement, payload, handler))
        cles = {cle for _, cle, _, _, _ in lus if cle is not None}
        if cles:
            cles_a_part |= await self._cles_garees(cles)
        a_appliquer: dict[str, tuple[Evenement, BaseModel, Handler]] = {}  # the first record of each id
        appliques = 0
        for i, cle, evenement, payload, handler in lus:
            if cle in cles_a_part:
                a_part.add(i)
            else:
                a_appliquer.setdefault(evenement.id, (evenement, payload, handler))
                appliques += 1
        if a_appliquer:
            try:
                async with session_scope(self._sessionmaker) as session:
                    await _appliquer_lot(session, self.name, list(a_appliquer.values()),
                                         handler_lot=self._handler_lot)
            except Exception as exc:
                log.info("%s: lot of %d not applied (%s), one at a time", self.name, len(records), exc)
                return records
        self.processed += appliques
        return [r for i, r in enumerate(records) if i in a_part]

    async def _cles_garees(self, cles: set[str]) -> set[str]:
        async with self._sessionmaker() as session:
            garees = await session.scalars(select(DeadLetter.key).distinct().where(
                DeadLetter.consumer == self.name, DeadLetter.key.in_(cles), DeadLetter.status == "parked"))
            return {cle for cle in garees if cle is not None}

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        key = record.key.decode() if record.key else None
        try:
            evenement = Evenement.from_bytes(record.value)
        except Exception as exc:  # not even an envelope: poison by construction
            await self._park(record, key, None, f"undecodable envelope: {exc}", attempts=1,
                             motif="enveloppe-illisible")
            return
        handler = self._handlers.get(evenement.type)
        if handler is None:
            return  # another consumer's business: the topic carries several types
        try:
            payload = decoder_payload(evenement)
        except Exception as exc:  # unknown version or invalid payload: never guessed
            await self._park(record, key, evenement, str(exc), attempts=1, motif="contenu-invalide")
            return
        if key is not None and await self._key_parked(key):
            await self._park(record, key, evenement, "aggregate parked behind an earlier event", 0,
                             motif="derriere-evenement-gare")
            return
        await self._apply_with_retries(record, key, evenement, payload, handler)

    async def _apply_with_retries(
        self,
        record: ConsumerRecord[bytes, bytes],
        key: str | None,
        evenement: Evenement,
        payload: BaseModel,
        handler: Handler,
    ) -> None:
        last_error = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self.apply(evenement, payload, handler)
                self.processed += 1
                return
            except EvenementRefuse as refus:
                # A verdict, not a failure: retrying cannot change it (the transaction rolled back).
                log.error("%s: %s refused (%s): %s", self.name, evenement.id, refus.motif, refus)
                await self._park(record, key, evenement, f"{refus.motif}: {refus}", attempt,
                                 motif=refus.motif)
                return
            except Exception as exc:
                if connexion_perdue(exc):
                    # The database is out, not the event wrong: counted as attempts, an outage longer
                    # than the retries parked the event and with it every later event of its key (the
                    # fault matrix's F4, ADR 0028). Out of the loop instead: run_forever goes back to
                    # the committed offset and its supervisor starts again, until the database is back.
                    log.warning("%s: %s not applied, database unreachable: %s", self.name, evenement.id, exc)
                    raise
                last_error = f"{type(exc).__name__}: {exc}"
                log.warning("%s: %s failed (attempt %d): %s", self.name, evenement.id, attempt, exc)
                await asyncio.sleep(self._retry_backoff * attempt)
        await self._park(record, key, evenement, last_error, self._max_attempts,
                         motif="echec-apres-essais")

    async def apply(self, evenement: Evenement, payload: BaseModel, handler: Handler) -> bool:
        """Apply once: returns False when the event was already applied (redelivery)."""
        async with session_scope(self._sessionmaker) as session:
            return await _appliquer(session, self.name, evenement, payload, handler)

    async def _key_parked(self, key: str) -> bool:
        return key in await self._cles_garees({key})

    async def _park(
        self,
        record: ConsumerRecord[bytes, bytes],
        key: str | None,
        evenement: Evenement | None,
        error: str,
        attempts: int,
        *,
        motif: str | None = None,
    ) -> None:
        log.error("%s: parking event at %s[%d]@%d: %s", self.name, record.topic,
                  record.partition, record.offset, error)
        # Topic first, table second, offset commit last: a crash in between parks the same
        # record again on redelivery, which the table's unique position absorbs (at least once).
        await self._producer.envoyer(
            topic_dead_letter(self.name),
            value=record.value,
            key=record.key,
            headers=[("error", error.encode()[:1000]), ("source_topic", record.topic.encode())],
        )
        async with session_scope(self._sessionmaker) as session:
            await session.execute(
                insert(DeadLetter).values(
                    consumer=self.name,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    key=key,
                    event_id=evenement.id if evenement else None,
                    event_type=evenement.type if evenement else None,
                    raw=record.value or b"",  # a tombstone has no value
                    error=error,
                    motif=motif,
                    attempts=attempts,
                    status="parked",
                ).on_conflict_do_nothing(constraint="uq_dead_letter_position")
            )

    async def replay_parked(self, key: str | None = None) -> int:
        """Operator action: re-apply parked events in arrival order; returns how many took."""
        return await rejouer_lettres(self.name, self._sessionmaker, self._handlers, key)


async def rejouer_lettres(
    consumer: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    handlers: Mapping[str, Handler],
    key: str | None = None,
) -> int:
    """Re-apply the parked events of `consumer` (of one key, or all), oldest first.

    Stops at the first one that fails again: it and those behind it stay parked, so order
    within an aggregate is kept. The inbox still guards against applying one twice.
    """
    async with sessionmaker() as session:
        query = select(DeadLetter).where(DeadLetter.consumer == consumer, DeadLetter.status == "parked")
        if key is not None:
            query = query.where(DeadLetter.key == key)
        letters = list((await session.scalars(query.order_by(DeadLetter.id))).all())
    replayed = 0
    for letter in letters:
        evenement = Evenement.model_validate_json(letter.raw)
        handler = handlers[evenement.type]
        payload = decoder_payload(evenement)
        async with session_scope(sessionmaker) as session:
            await _appliquer(session, consumer, evenement, payload, handler)
            dl = await session.get(DeadLetter, letter.id)
            assert dl is not None
            dl.status = "replayed"
        replayed += 1
    return replayed


# Built once, on the table (not the ORM's bulk path): the hot path of every consumer.
_INBOX = (
    insert(table_de(InboxMessage))
    .on_conflict_do_nothing()
    .returning(table_de(InboxMessage).c.event_id)
)


def _positions_suivantes(records: Sequence[ConsumerRecord[bytes, bytes]]) -> dict[TopicPartition, int]:
    """The offsets to commit once `records` are applied: past the last of each partition."""
    return {TopicPartition(r.topic, r.partition): r.offset + 1 for r in records}  # in order: the last wins


async def _appliquer(session: AsyncSession, consumer: str, evenement: Evenement, payload: BaseModel,
                     handler: Handler) -> bool:
    """Inbox row and effect in the caller's transaction; False when already applied."""
    return bool(await _appliquer_lot(session, consumer, [(evenement, payload, handler)]))


async def _appliquer_lot(session: AsyncSession, consumer: str,
                         evenements: Sequence[tuple[Evenement, BaseModel, Handler]], *,
                         handler_lot: LotHandler | None = None) -> set[str]:
    """Inbox rows (one statement) and effects, in order, in the caller's transaction, for events of
    distinct ids; those already applied (a redelivery) get no row back and are not applied again.
    Returns the ids applied."""
    nouveaux = set(await session.scalars(_INBOX, [
        {"consumer": consumer, "event_id": e.id, "event_type": e.type} for e, _, _ in evenements]))
    a_faire = [(e, p, h) for e, p, h in evenements if e.id in nouveaux]
    if handler_lot is not None:
        if a_faire:
            await handler_lot(session, [(e, p) for e, p, _ in a_faire])
    else:
        for evenement, payload, handler in a_faire:
            await handler(session, evenement, payload)
    return nouveaux

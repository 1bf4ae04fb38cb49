"""Tables every service has: outbox, inbox, dead letters, audit journal, idempotency keys, the rights
of the persons it knows.

They live on the shared declarative Base; each service's first migration creates
them with ``hopen_common.db.migrations.creer_tables_communes`` (explicit DDL, so a
later change to these models is a new migration, never a silent create_all).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    DateTime,
    FetchedValue,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from hopen_common.db.base import MessagingBase


class OutboxMessage(MessagingBase):
    __tablename__ = "outbox"
    # The relay only ever reads unsent rows in id order: keep that index small.
    __table_args__ = (Index("ix_outbox_a_envoyer", "id", postgresql_where=text("sent_at IS NULL")),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Writer's transaction id: the relay publishes only rows below the snapshot's
    # xmin, so a transaction that commits late is never overtaken (outbox skip bug).
    txid: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id()::text)::bigint")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InboxMessage(MessagingBase):
    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeadLetter(MessagingBase):
    """An event that could not be applied; its key stays parked until an operator acts."""

    __tablename__ = "dead_letter"
    # A record is parked once, even when a crash makes the consumer see it again.
    __table_args__ = (UniqueConstraint("consumer", "topic", "partition", "offset",
                                       name="uq_dead_letter_position"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(200))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str | None] = mapped_column(String(200), index=True)
    event_id: Mapped[str | None] = mapped_column(String(100))
    event_type: Mapped[str | None] = mapped_column(String(100))
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # as received: a poison may not even be text
    error: Mapped[str] = mapped_column(Text)
    # Why it was parked, as a code an operator can filter and count (e.g. "paiement-en-double"):
    # None for an ordinary failure after retries.
    motif: Mapped[str | None] = mapped_column(String(50), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), server_default="parked")  # parked | replayed | discarded
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class JournalAudit(MessagingBase):
    """Who did what, when, why, on what: written in the same transaction as the change.

    ``sequence``, ``hash_precedent`` and ``hash`` are set by the database's trigger (ADR 0024,
    ``hopen_common.audit``): whatever the code passes for them is overwritten."""

    __tablename__ = "journal_audit"
    __table_args__ = (Index("ix_journal_audit_objet", "objet_type", "objet_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    acteur: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(100))
    objet_type: Mapped[str] = mapped_column(String(100))
    objet_id: Mapped[str] = mapped_column(String(200))
    motivation: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    horodatage: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The region of the audited object when it has one: what an ARS may read (GET /v1/audit).
    region: Mapped[str | None] = mapped_column(String(3))
    sequence: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue(), unique=True)
    hash_precedent: Mapped[str] = mapped_column(String(64), server_default=FetchedValue())
    hash: Mapped[str] = mapped_column(String(64), server_default=FetchedValue())


class PointDeControleAudit(MessagingBase):
    """The chain's head signed with the service's Ed25519 key (at least every minute)."""

    __tablename__ = "point_de_controle_audit"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    horodatage: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cle_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(Text)


class RequeteIdempotente(MessagingBase):
    """A POST replayed with the same Idempotency-Key gets the first answer back, not a second effect."""

    __tablename__ = "requete_idempotente"

    cle: Mapped[str] = mapped_column(String(200), primary_key=True)
    # The key is scoped to its caller, a person: (issuer, subject). Two callers may pick the same key,
    # and two issuers may hand out the same subject. Before revision 3 of the common tables the scope
    # was the subject alone; those rows got the issuer and rights '' (matched by nobody).
    emetteur: Mapped[str] = mapped_column(String(500), primary_key=True)
    appelant: Mapped[str] = mapped_column(String(200), primary_key=True)  # the subject
    # And the rights it came with (sha256 of role, region, FINESS, profiles, idempotence.droits): a
    # replay skips the use case's scope checks, so other rights are another scope.
    droits: Mapped[str] = mapped_column(String(64), primary_key=True)
    route: Mapped[str] = mapped_column(String(300))
    empreinte: Mapped[str] = mapped_column(String(64))  # sha256 of the request body
    statut: Mapped[int] = mapped_column(Integer)
    reponse: Mapped[dict[str, Any]] = mapped_column(JSONB)
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class HabilitationConnue(MessagingBase):
    """What one person (an identity provider's `iss` + `sub`) may do on the platform (ADR 0022).

    The referentiel owns these rows (`/v1/habilitations`, with their history and audit); the other
    services keep a copy from its `HabilitationModifiee` events, a row replaced only by a later
    `version`. `hopen_common.habilitations` turns a row into the request's Principal."""

    __tablename__ = "habilitation_connue"
    __table_args__ = (UniqueConstraint("id", name="uq_habilitation_connue_id"),)

    emetteur: Mapped[str] = mapped_column(String(500), primary_key=True)
    sujet: Mapped[str] = mapped_column(String(200), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    role: Mapped[str] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(3))
    finess: Mapped[list[str]] = mapped_column(ARRAY(String(9)))
    profils: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    referent: Mapped[bool] = mapped_column(Boolean)
    actif: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    modifie_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))

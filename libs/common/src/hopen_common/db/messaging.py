"""Tables every service has: outbox, inbox, dead letters, audit journal.

They live on the shared declarative Base; each service's first migration
creates them with ``creer_tables_messagerie``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from hopen_common.db.base import MessagingBase


class OutboxMessage(MessagingBase):
    __tablename__ = "outbox"

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
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class InboxMessage(MessagingBase):
    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeadLetter(MessagingBase):
    """An event that could not be applied; its key stays parked until an operator acts."""

    __tablename__ = "dead_letter"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(200))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str | None] = mapped_column(String(200), index=True)
    event_id: Mapped[str | None] = mapped_column(String(100))
    event_type: Mapped[str | None] = mapped_column(String(100))
    raw: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="parked")  # parked | replayed | discarded
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class JournalAudit(MessagingBase):
    """Who did what, when, why, on what: written in the same transaction as the change."""

    __tablename__ = "journal_audit"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    acteur: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(100))
    objet_type: Mapped[str] = mapped_column(String(100))
    objet_id: Mapped[str] = mapped_column(String(200))
    motivation: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    horodatage: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def creer_tables_messagerie(op: Any) -> None:
    """Alembic helper: create the shared tables in a service's first migration."""
    MessagingBase.metadata.create_all(op.get_bind())


def supprimer_tables_messagerie(op: Any) -> None:
    MessagingBase.metadata.drop_all(op.get_bind())

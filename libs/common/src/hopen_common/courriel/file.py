"""The `courriel` outbox table (a mixin each sending service maps on its own Base), queuing a mail in
the caller's transaction, and chaining the mail handlers after a service's own event handlers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from hopen_common.courriel.modeles import rendre
from hopen_common.events import Evenement
from hopen_common.inbox import Handler


class CourrielMixin:
    """One mail to one recipient. Unique on (cause, destinataire): the event (or reminder) that
    caused it, so a redelivery or a second replica never queues it twice."""

    __tablename__ = "courriel"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            UniqueConstraint("cause", "destinataire", name="uq_courriel_cause_destinataire"),
            sa.Index("ix_courriel_a_envoyer", "id", postgresql_where=text("envoye_le IS NULL")),
        )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=True)
    cause: Mapped[str] = mapped_column(String(200))  # event id, or reminder id
    destinataire: Mapped[str] = mapped_column(String(320))
    modele: Mapped[str] = mapped_column(String(100))
    # Rendered when queued: the mail says what the template said that day.
    sujet: Mapped[str] = mapped_column(Text)
    corps: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    tentatives: Mapped[int] = mapped_column(Integer, server_default="0")
    reserve_jusqu_a: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    envoye_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erreur: Mapped[str | None] = mapped_column(Text)


def creer_table_courriel(op: Any) -> None:
    """Explicit DDL of CourrielMixin, for the migration of each sending service."""
    op.create_table(
        "courriel",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.Column("destinataire", sa.String(length=320), nullable=False),
        sa.Column("modele", sa.String(length=100), nullable=False),
        sa.Column("sujet", sa.Text(), nullable=False),
        sa.Column("corps", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("cree_le", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tentatives", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reserve_jusqu_a", sa.DateTime(timezone=True), nullable=True),
        sa.Column("envoye_le", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erreur", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courriel")),
        sa.UniqueConstraint("cause", "destinataire", name="uq_courriel_cause_destinataire"),
        sa.UniqueConstraint("message_id", name=op.f("uq_courriel_message_id")),
    )
    op.create_index("ix_courriel_a_envoyer", "courriel", ["id"], unique=False,
                    postgresql_where=sa.text("envoye_le IS NULL"))


def identifiant_message(cause: str, destinataire: str, domaine: str) -> str:
    """Deterministic Message-ID: a resend after a crash carries the same one (ADR 0017)."""
    empreinte = hashlib.sha256(f"{cause}\n{destinataire.lower()}".encode()).hexdigest()[:40]
    return f"<{empreinte}@{domaine}>"


async def mettre_en_file(session: AsyncSession, table: type[CourrielMixin], *, cause: str,
                         destinataires: Iterable[str], modele: str, variables: Mapping[str, object],
                         domaine: str) -> int:
    """Queue one mail per recipient in the caller's transaction; returns how many were new."""
    sujet, corps = rendre(modele, variables)
    lignes = [{"cause": cause, "destinataire": d, "modele": modele, "sujet": sujet, "corps": corps,
               "message_id": identifiant_message(cause, d, domaine)}
              for d in dict.fromkeys(d.strip() for d in destinataires if d and d.strip())]
    if not lignes:
        return 0
    requete: Any = insert(table).values(lignes).on_conflict_do_nothing(
        index_elements=["cause", "destinataire"]).returning(sa.literal_column("id"))
    return len((await session.execute(requete)).all())


def combiner(*tables: Mapping[str, Handler]) -> dict[str, Handler]:
    """One handler per event type that runs each table's handler in order, in the same inbox
    transaction (a service's state handler, then its mail handler)."""
    par_type: dict[str, list[Handler]] = {}
    for table in tables:
        for type_, handler in table.items():
            par_type.setdefault(type_, []).append(handler)

    def chaine(handlers: list[Handler]) -> Handler:
        if len(handlers) == 1:
            return handlers[0]

        async def tous(session: AsyncSession, evenement: Evenement, payload: Any) -> None:
            for h in handlers:
                await h(session, evenement, payload)
        return tous

    return {t: chaine(hs) for t, hs in par_type.items()}

"""A dossier's message thread (issue 9 item 3, ADR 0015): what candidature and instruction share, the
bounds of a message, when a thread is closed to new messages and what both APIs answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, Index, String, Text, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from hopen_common.auth.principal import Principal
from hopen_common.contracts.collaboration import CoteMessage, MessageEnvoye, MessageLu, PieceJointe
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.contracts.topics import Topics
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.problemes import DOSSIER_CLOS, REGLE_METIER, introuvable

TEXTE_MAX = 5000
EXTRAIT_MAX = 200  # what a notification quotes (e-mail of MessageEnvoye)
PIECES_MAX = 10
# A withdrawn or closed dossier keeps its thread readable but takes no new message: nobody instructs it
# any more, and a message would wait for an answer that never comes. A decided dossier stays open
# (evidence, payments and corrections follow a decision). Both vocabularies (candidature, AAP project).
STATUTS_FERMES = frozenset({"desistee", "desiste", "classee_sans_suite", "classe_sans_suite"})


def extrait(texte: str) -> str:
    """The first EXTRAIT_MAX characters, on one line."""
    ligne = " ".join(texte.split())
    return ligne if len(ligne) <= EXTRAIT_MAX else ligne[:EXTRAIT_MAX - 1] + "…"


def verifier_fil_ouvert(statut: str, dossier_id: str) -> None:
    if statut in STATUTS_FERMES:
        raise DOSSIER_CLOS.erreur(f"le dossier {dossier_id} est {statut} : son fil se lit, il ne reçoit"
                                  " plus de message", champ="statut")


class MessageDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texte: str = Field(min_length=1, max_length=TEXTE_MAX)


class MessageDuFil(BaseModel):
    """A message as both APIs answer it."""

    id: str
    dossier_type: TypeDossier
    dossier_id: str
    auteur: str
    auteur_role: CoteMessage
    texte: str
    pieces: list[PieceJointe]
    envoye_le: datetime
    lu_le: datetime | None = Field(description="the recipient's read receipt (POST .../lecture)")
    lu_par: str | None


async def copier_message(session: AsyncSession, table: Any, e: MessageEnvoye) -> None:
    """The other side's message into this service's copy of the thread (`table`: its Message model,
    the same columns in candidature and instruction). A redelivery writes nothing (the message id)."""
    await session.execute(insert(table).values(
        id=e.message_id, dossier_type=e.dossier_type, dossier_id=e.dossier_id, finess=e.finess,
        region=e.region, auteur=e.auteur, auteur_role=e.auteur_role, texte=e.texte,
        pieces=[p.model_dump() for p in e.pieces], envoye_le=e.envoye_le,
    ).on_conflict_do_nothing(index_elements=["id"]))


async def copier_lecture(session: AsyncSession, table: Any, e: MessageLu) -> None:
    """The other side read one of this side's messages: its receipt, set once (a redelivery or a
    later receipt leaves the first). The message was written here before its event left: a receipt
    of an unknown message is a bug to park, not to drop."""
    if await session.get(table, e.message_id) is None:
        raise LookupError(f"message {e.message_id} inconnu")
    await session.execute(update(table).where(table.id == e.message_id, table.lu_le.is_(None))
                          .values(lu_le=e.lu_le, lu_par=e.lu_par))


class DossierDuFil(Protocol):
    """What the thread needs of a dossier, as each service's scope check returns it."""

    @property
    def dossier_type(self) -> TypeDossier: ...
    @property
    def id(self) -> str: ...
    @property
    def finess(self) -> str: ...
    @property
    def region(self) -> str: ...


@dataclass(frozen=True)
class Cote:
    """One side of the thread, as the service that writes it sees it: who writes there, the event
    types it publishes (one topic per type), and the recipient's role (whose receipts it records)."""

    role: CoteMessage
    envoye: type[MessageEnvoye]
    lu: type[MessageLu]
    topic: Topics
    source: str

    @property
    def autre(self) -> CoteMessage:
        return "ars" if self.role == "etablissement" else "etablissement"


async def lister(session: AsyncSession, table: Any, dossier: DossierDuFil, *, limit: int, offset: int
                 ) -> tuple[list[Any], int]:
    """The thread, oldest first (both sides' messages: the other's copied from its events)."""
    query = select(table).where(table.dossier_type == dossier.dossier_type,
                                table.dossier_id == dossier.id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(table.envoye_le, table.id).limit(limit).offset(offset))
    return list(rows), total


async def envoyer(session: AsyncSession, table: Any, cote: Cote, principal: Principal,
                  dossier: DossierDuFil, *, texte: str, pieces: list[PieceJointe],
                  maintenant: datetime) -> Any:
    """The row, its event (this side's type and topic) and the audit row, in the caller's transaction;
    the caller checked the scope and the dossier's state."""
    message = table(id=str(uuid.uuid4()), dossier_type=dossier.dossier_type, dossier_id=dossier.id,
                    finess=dossier.finess, region=dossier.region, auteur=principal.subject,
                    auteur_role=cote.role, texte=texte, pieces=[p.model_dump() for p in pieces],
                    envoye_le=maintenant)
    session.add(message)
    evenement = nouvel_evenement(cote.envoye(
        message_id=message.id, dossier_type=dossier.dossier_type, dossier_id=dossier.id,
        finess=dossier.finess,
        region=dossier.region, auteur=principal.subject, auteur_role=cote.role, texte=texte,
        extrait=extrait(texte), pieces=pieces, envoye_le=maintenant,
    ), source=cote.source, subject=f"{dossier.dossier_type}/{dossier.id}")
    await publier(session, cote.topic, dossier.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="envoyer_message",
                             objet_type="message", objet_id=message.id, region=dossier.region,
                             details={"dossier_type": dossier.dossier_type, "dossier_id": dossier.id,
                                      "pieces": [p.piece_id for p in pieces], "event_id": evenement.id}))
    await session.flush()
    return message


async def marquer_lu(session: AsyncSession, table: Any, cote: Cote, principal: Principal,
                     dossier: DossierDuFil, message_id: str, *, maintenant: datetime) -> Any:
    """This side read a message of the other: `lu_le` set once, with its event and audit row. Again:
    unchanged, nothing published. A message of this side is not its to mark (422)."""
    message = await session.scalar(select(table).where(
        table.id == message_id, table.dossier_type == dossier.dossier_type, table.dossier_id == dossier.id,
    ).with_for_update())
    if message is None:
        raise introuvable("message", message_id)
    if message.auteur_role != cote.autre:
        raise REGLE_METIER.erreur("l'accusé de lecture est celui du destinataire : ce message vient de votre"
                                  " côté du fil", champ="message")
    if message.lu_le is not None:
        return message
    await session.execute(update(table).where(table.id == message.id)
                          .values(lu_le=maintenant, lu_par=principal.subject))
    evenement = nouvel_evenement(cote.lu(
        message_id=message.id, dossier_type=dossier.dossier_type, dossier_id=dossier.id,
        finess=dossier.finess,
        region=dossier.region, lu_par=principal.subject, lu_role=cote.role, lu_le=maintenant,
    ), source=cote.source, subject=f"{dossier.dossier_type}/{dossier.id}")
    await publier(session, cote.topic, dossier.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="lire_message",
                             objet_type="message", objet_id=message.id, region=dossier.region,
                             details={"dossier_type": dossier.dossier_type, "dossier_id": dossier.id,
                                      "event_id": evenement.id}))
    await session.flush()
    await session.refresh(message)
    return message


class MessageMixin:
    """The columns of a thread's `message` table, the same in candidature and instruction (each side
    writes its own messages and copies the other's from its events). `lu_le`: the recipient's read
    receipt, set once; `pieces`: PieceJointe dicts."""

    __tablename__ = "message"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index]:
        # A new Index per mapped class: an Index belongs to one table, and both services' models may
        # be imported in one process (the tests).
        return (Index("ix_message_dossier", "dossier_type", "dossier_id", "envoye_le"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_type: Mapped[str] = mapped_column(String(20))  # candidature | projet
    dossier_id: Mapped[str] = mapped_column(String(36))
    finess: Mapped[str] = mapped_column(String(9))
    region: Mapped[str] = mapped_column(String(3))
    auteur: Mapped[str] = mapped_column(String(200))
    auteur_role: Mapped[str] = mapped_column(String(20))  # etablissement | ars
    texte: Mapped[str] = mapped_column(Text)
    pieces: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    envoye_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lu_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lu_par: Mapped[str | None] = mapped_column(String(200))

def creer_table_message(op: Any) -> None:
    """Explicit DDL of MessageMixin (the same thread table in candidature and instruction), for each
    service's migration."""
    op.create_table(
        "message",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dossier_type", sa.String(length=20), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("auteur", sa.String(length=200), nullable=False),
        sa.Column("auteur_role", sa.String(length=20), nullable=False),
        sa.Column("texte", sa.Text(), nullable=False),
        sa.Column("pieces", JSONB(), nullable=False),
        sa.Column("envoye_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lu_le", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lu_par", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
    )
    op.create_index("ix_message_dossier", "message", ["dossier_type", "dossier_id", "envoye_le"])

"""A dossier's message thread (issue 9 item 3, ADR 0015): what candidature and instruction share, the
bounds of a message, when a thread is closed to new messages and what both APIs answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts.collaboration import CoteMessage, MessageEnvoye, MessageLu, PieceJointe
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.problemes import DOSSIER_CLOS

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

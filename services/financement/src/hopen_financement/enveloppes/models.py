from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hopen_financement.db import Base, Montant

NATURES = ("allocation", "transfert_entrant", "transfert_sortant", "engagement", "desengagement", "paiement",
           "reprise")


class CompteEnveloppe(Base):
    """One envelope (dispositif, region). Its row is what writers lock (SELECT ... FOR UPDATE) so that
    concurrent engagements are serialised per account; the figures are sums over the entries."""

    __tablename__ = "compte_enveloppe"

    dispositif: Mapped[str] = mapped_column(String(20), primary_key=True)
    region: Mapped[str] = mapped_column(String(3), primary_key=True)
    libelle_region: Mapped[str] = mapped_column(String(100))
    ouvert_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EcritureEnveloppe(Base):
    """An append-only ledger entry with its cause. `cle_metier` is unique: the same engagement or
    payment can never be written twice, whatever the delivery guarantees upstream."""

    __tablename__ = "ecriture_enveloppe"
    __table_args__ = (
        ForeignKeyConstraint(["dispositif", "region"],
                             ["compte_enveloppe.dispositif", "compte_enveloppe.region"],
                             name="fk_ecriture_enveloppe_compte"),
        CheckConstraint("montant > 0", name="montant_positif"),
        CheckConstraint("nature IN ('" + "', '".join(NATURES) + "')", name="nature_connue"),
        Index("ix_ecriture_enveloppe_compte", "dispositif", "region"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    dispositif: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(3))
    nature: Mapped[str] = mapped_column(String(20))
    montant: Mapped[Decimal] = mapped_column(Montant)
    cle_metier: Mapped[str] = mapped_column(String(200), unique=True)
    projet_id: Mapped[str | None] = mapped_column(String(36), index=True)
    transfert_id: Mapped[str | None] = mapped_column(String(36))
    decision_id: Mapped[str | None] = mapped_column(String(36))
    notification_id: Mapped[str | None] = mapped_column(String(36))
    donnees_version: Mapped[str | None] = mapped_column(String(20))  # allocation: data file version
    motif: Mapped[str] = mapped_column(String(500))
    ecrit_par: Mapped[str] = mapped_column(String(200))
    ecrit_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A DNS transfer (issue 10): the two persons of the two-person rule; ecrit_par is the confirmer.
    proposition_id: Mapped[str | None] = mapped_column(String(36))
    propose_par: Mapped[str | None] = mapped_column(String(200))
    confirme_par: Mapped[str | None] = mapped_column(String(200))


STATUTS = ("en_attente", "confirmee", "rejetee")


class PropositionTransfert(Base):
    """A DNS transfer proposed by one DNS person, waiting for another to confirm or reject it (issue 10,
    ADR 0025). Only its treatment is ever written after the insert (a trigger refuses any other update):
    the transfer itself is the ledger's two entries, written at confirmation."""

    __tablename__ = "proposition_transfert"
    __table_args__ = (
        CheckConstraint("statut IN ('" + "', '".join(STATUTS) + "')", name="statut_connu"),
        CheckConstraint("montant > 0", name="montant_positif"),
        # One waiting proposal per move: a second one is 409 proposition-en-attente.
        Index("uq_proposition_transfert_en_attente", "source_dispositif", "source_region",
              "destination_dispositif", "destination_region", unique=True,
              postgresql_where=text("statut = 'en_attente'")),
    )

    proposition_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_dispositif: Mapped[str] = mapped_column(String(20))
    source_region: Mapped[str] = mapped_column(String(3))
    destination_dispositif: Mapped[str] = mapped_column(String(20))
    destination_region: Mapped[str] = mapped_column(String(3))
    montant: Mapped[Decimal] = mapped_column(Montant)
    motif: Mapped[str] = mapped_column(String(500))
    statut: Mapped[str] = mapped_column(String(12), index=True)
    proposee_par: Mapped[str] = mapped_column(String(200))
    emetteur_proposeur: Mapped[str] = mapped_column(String(500))
    proposee_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The available amounts of both envelopes before and after the move, as seen at the proposal,
    # then as written at the confirmation.
    disponibles: Mapped[dict[str, Any]] = mapped_column(JSONB)
    traitee_par: Mapped[str | None] = mapped_column(String(200))
    emetteur_traitant: Mapped[str | None] = mapped_column(String(500))
    traitee_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    motivation: Mapped[str | None] = mapped_column(String(5000))  # a rejection's
    transfert_id: Mapped[str | None] = mapped_column(String(36), unique=True)

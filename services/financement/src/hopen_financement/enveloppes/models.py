from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    String,
)
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

"""Read models fed by events. Totals are derived from stored lines, never incremented blindly."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hopen_common.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class MontantNotifie(Base):
    """One line of a FinancementNotifie, keyed by its notification: replay-safe."""

    __tablename__ = "montant_notifie"

    notification_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    objectif: Mapped[str] = mapped_column(String(10), primary_key=True)
    nature: Mapped[str] = mapped_column(String(20), primary_key=True)
    candidature_id: Mapped[str] = mapped_column(String(36), index=True)
    finess: Mapped[str] = mapped_column(String(9))
    region: Mapped[str] = mapped_column(String(3), index=True)
    dispositif: Mapped[str] = mapped_column(String(20))
    montant: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    notifie_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EtatCandidature(Base):
    """Where each candidature stands, per region, for the counts of the synthesis."""

    __tablename__ = "etat_candidature"

    candidature_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    finess: Mapped[str] = mapped_column(String(9))
    dispositif: Mapped[str] = mapped_column(String(20))
    statut: Mapped[str] = mapped_column(String(20))
    # Rank of the state: 1 deposee, 2 decided. Lets out-of-order events only move it forward.
    version: Mapped[int] = mapped_column(BigInteger, default=0)


metadata = Base.metadata

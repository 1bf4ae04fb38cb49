"""Read models fed by events. Totals are derived from stored lines at read time, never
incremented: a redelivered or corrected event can only replace what it said before."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Integer, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hopen_common.db import new_metadata
from hopen_common.db.copie_locale import CopieLocale

Montant = Numeric(14, 2)


class Base(DeclarativeBase):
    metadata = new_metadata()


class EtablissementVu(CopieLocale, Base):
    """What the breakdowns need of an establishment (fed by EtablissementPublie)."""

    __tablename__ = "etablissement_vu"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    raison_sociale: Mapped[str] = mapped_column(String(300))
    region: Mapped[str] = mapped_column(String(3))
    secteur: Mapped[str] = mapped_column(String(30))
    niveau: Mapped[str] = mapped_column(String(2))


class NotificationVue(Base):
    """One FinancementNotifie. A later one that `remplace` it takes its place in every total."""

    __tablename__ = "notification_vue"

    notification_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    candidature_id: Mapped[str] = mapped_column(String(36), index=True)
    finess: Mapped[str] = mapped_column(String(9))
    region: Mapped[str] = mapped_column(String(3), index=True)
    dispositif: Mapped[str] = mapped_column(String(20))
    nature: Mapped[str] = mapped_column(String(20))
    montant_net: Mapped[Decimal] = mapped_column(Montant)
    annee: Mapped[int | None] = mapped_column(Integer)
    remplace: Mapped[str | None] = mapped_column(String(36), index=True)
    notifie_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MontantNotifie(Base):
    """One line of a FinancementNotifie, keyed by its notification: replay-safe. A line of a higher
    version of the same business key (financement's `cle_metier`) takes its place in every total,
    whichever arrives first."""

    __tablename__ = "montant_notifie"

    notification_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    finess_ej: Mapped[str] = mapped_column(String(9), primary_key=True)
    objectif: Mapped[str] = mapped_column(String(20), primary_key=True)
    nature: Mapped[str] = mapped_column(String(20), primary_key=True)
    candidature_id: Mapped[str] = mapped_column(String(36), index=True)
    finess: Mapped[str] = mapped_column(String(9))
    region: Mapped[str] = mapped_column(String(3), index=True)
    dispositif: Mapped[str] = mapped_column(String(20))
    montant: Mapped[Decimal] = mapped_column(Montant)
    notifie_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cle_metier: Mapped[str | None] = mapped_column(String(120), index=True)  # None: before issue 7
    version: Mapped[int | None] = mapped_column(Integer)


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


class CompteEnveloppe(Base):
    """The four figures of a regional envelope after its latest ledger entry."""

    __tablename__ = "compte_enveloppe"

    region: Mapped[str] = mapped_column(String(3), primary_key=True)
    dispositif: Mapped[str] = mapped_column(String(20), primary_key=True)
    alloue: Mapped[Decimal] = mapped_column(Montant)
    engage: Mapped[Decimal] = mapped_column(Montant)
    consomme: Mapped[Decimal] = mapped_column(Montant)
    disponible: Mapped[Decimal] = mapped_column(Montant)
    derniere_ecriture: Mapped[int] = mapped_column(BigInteger)


metadata = Base.metadata

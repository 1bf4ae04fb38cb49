"""ORM models of the financement service. Amounts are NUMERIC(14,2) euros; nothing is updated."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hopen_common.db import new_metadata

Montant = Numeric(14, 2)


class Base(DeclarativeBase):
    metadata = new_metadata()


class EtablissementConnu(Base):
    """Local copy of the referentiel (AC and eligibility), fed by EtablissementPublie."""

    __tablename__ = "etablissement_connu"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    finess_ej: Mapped[str] = mapped_column(String(9))
    raison_sociale: Mapped[str] = mapped_column(String(300))
    region: Mapped[str] = mapped_column(String(3))
    activite_combinee: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    eligible_phase1: Mapped[bool] = mapped_column(Boolean)


class CandidatureFinancee(Base):
    """A validated candidature, with the AC and national maximum frozen at validation."""

    __tablename__ = "candidature_financee"

    candidature_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dispositif: Mapped[str] = mapped_column(String(20))
    finess: Mapped[str] = mapped_column(String(9), index=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    objectifs: Mapped[list[str]] = mapped_column(JSONB)
    activite_combinee: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    activite_combinee_max: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    programme_version: Mapped[str] = mapped_column(String(20))
    validee_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ObjectifDecide(Base):
    __tablename__ = "objectif_decide"

    candidature_id: Mapped[str] = mapped_column(
        ForeignKey("candidature_financee.candidature_id"), primary_key=True)
    objectif: Mapped[str] = mapped_column(String(10), primary_key=True)
    atteint: Mapped[bool] = mapped_column(Boolean)
    decision_id: Mapped[str] = mapped_column(String(36))
    decide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """An amount decided and notified: immutable; a correction is a new row that `remplace` it."""

    __tablename__ = "notification"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    candidature_id: Mapped[str] = mapped_column(String(36), index=True)
    finess: Mapped[str] = mapped_column(String(9), index=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    nature: Mapped[str] = mapped_column(String(20))  # amorcage | solde
    montant_net: Mapped[Decimal] = mapped_column(Montant)
    decision_id: Mapped[str] = mapped_column(String(36))
    decide_par: Mapped[str] = mapped_column(String(200))
    motif: Mapped[str] = mapped_column(String(500))
    notifie_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    remplace: Mapped[str | None] = mapped_column(String(36))


class LigneFinancement(Base):
    """One amount per (candidature, objective, nature): the unique key is the money guard."""

    __tablename__ = "ligne_financement"
    __table_args__ = (UniqueConstraint("candidature_id", "objectif", "nature",
                                       name="uq_ligne_financement_cle_metier"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    notification_id: Mapped[str] = mapped_column(ForeignKey("notification.id"), index=True)
    candidature_id: Mapped[str] = mapped_column(String(36))
    finess: Mapped[str] = mapped_column(String(9), index=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    objectif: Mapped[str] = mapped_column(String(10))
    nature: Mapped[str] = mapped_column(String(20))  # amorcage | solde | reprise
    montant: Mapped[Decimal] = mapped_column(Montant)
    forfait: Mapped[Decimal] = mapped_column(Montant)
    # How it was computed: tranche, bounds, AC, maximum, formula inputs, programme version.
    calcul: Mapped[dict[str, Any]] = mapped_column(JSONB)
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


metadata = Base.metadata

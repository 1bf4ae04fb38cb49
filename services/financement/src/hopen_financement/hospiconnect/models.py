from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hopen_financement.db import Base, Montant


class DecisionHospiconnect(Base):
    """The ARS yearly decision on one EJ (objectives reached). Immutable; a correction names the
    decision it replaces, and a decision is replaced at most once."""

    __tablename__ = "decision_hospiconnect"

    decision_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    candidature_id: Mapped[str] = mapped_column(String(36))
    finess: Mapped[str] = mapped_column(String(9))  # applicant, paid
    finess_ej: Mapped[str] = mapped_column(String(9), index=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    annee: Mapped[int] = mapped_column(Integer)
    objectifs_atteints: Mapped[list[str]] = mapped_column(JSONB)
    effectifs: Mapped[int | None] = mapped_column(Integer)  # producer's value, a fallback only
    decide_par: Mapped[str] = mapped_column(String(200))
    decide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    motivation: Mapped[str] = mapped_column(String(2000))
    remplace: Mapped[str | None] = mapped_column(ForeignKey("decision_hospiconnect.decision_id"), unique=True)


class DeclarationDepenses(Base):
    """Eligible expenses declared for one EJ and one year by one candidature. One current declaration
    per (candidature, EJ, year): a correction names the one it replaces, and only one names none
    (ADR 0010: declarations never add up, so the same expense sent twice cannot count twice)."""

    __tablename__ = "declaration_depenses"
    __table_args__ = (Index("uq_declaration_depenses_premiere", "candidature_id", "finess_ej", "annee",
                            unique=True, postgresql_where=text("remplace IS NULL")),)

    declaration_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    candidature_id: Mapped[str] = mapped_column(String(36))
    finess: Mapped[str] = mapped_column(String(9))
    finess_ej: Mapped[str] = mapped_column(String(9), index=True)
    region: Mapped[str] = mapped_column(String(3))
    annee: Mapped[int] = mapped_column(Integer)
    montant: Mapped[Decimal] = mapped_column(Montant)
    declare_par: Mapped[str] = mapped_column(String(200))
    declare_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    remplace: Mapped[str | None] = mapped_column(
        ForeignKey("declaration_depenses.declaration_id"), unique=True)


class MontantHospiconnect(Base):
    """The amount of one EJ for one year, as computed from the decision and declarations then current.
    (finess_ej, annee, rang) is unique: rang 1 is the first amount, each correction the next rank."""

    __tablename__ = "montant_hospiconnect"
    __table_args__ = (UniqueConstraint("finess_ej", "annee", "rang", name="uq_montant_hospiconnect_rang"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    finess_ej: Mapped[str] = mapped_column(String(9))
    annee: Mapped[int] = mapped_column(Integer)
    rang: Mapped[int] = mapped_column(Integer)
    candidature_id: Mapped[str] = mapped_column(String(36))
    finess: Mapped[str] = mapped_column(String(9), index=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decision_hospiconnect.decision_id"))
    declarations: Mapped[list[str]] = mapped_column(JSONB)
    effectifs: Mapped[int] = mapped_column(Integer)
    objectifs_atteints: Mapped[list[str]] = mapped_column(JSONB)
    plafond: Mapped[Decimal] = mapped_column(Montant)
    taux: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    montant_theorique: Mapped[Decimal] = mapped_column(Montant)
    depenses_eligibles: Mapped[Decimal] = mapped_column(Montant)
    montant: Mapped[Decimal] = mapped_column(Montant)
    regressions: Mapped[list[str]] = mapped_column(JSONB)  # reached the year before, not this year
    calcul: Mapped[dict[str, Any]] = mapped_column(JSONB)
    notification_id: Mapped[str] = mapped_column(ForeignKey("notification.id"))
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))

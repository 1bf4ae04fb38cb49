from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, DateTime, ForeignKey, ForeignKeyConstraint, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hopen_financement.db import Activite, Base


class CandidatureFinancee(Base):
    """A validated phase-1 candidature, with the national maximum AC frozen at validation."""

    __tablename__ = "candidature_financee"

    candidature_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dispositif: Mapped[str] = mapped_column(String(20))
    finess: Mapped[str] = mapped_column(String(9), index=True)  # who applies and is paid
    region: Mapped[str] = mapped_column(String(3), index=True)
    objectifs: Mapped[list[str]] = mapped_column(JSONB)
    ght: Mapped[bool] = mapped_column(Boolean)  # applied by a GHT support ES for its member EJ
    activite_combinee_max: Mapped[Decimal] = mapped_column(Activite)
    programme_version: Mapped[str] = mapped_column(String(20))
    decision_id: Mapped[str] = mapped_column(String(36))
    validee_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PerimetreFinance(Base):
    """One EJ of a candidature (the candidature's own FINESS outside a GHT): its frozen AC and objectives."""

    __tablename__ = "perimetre_finance"

    candidature_id: Mapped[str] = mapped_column(
        ForeignKey("candidature_financee.candidature_id"), primary_key=True)
    finess_ej: Mapped[str] = mapped_column(String(9), primary_key=True)
    # The FINESS the funding attaches to, frozen at validation: the key of its amounts
    # (notifications/cles.py), so that two applicants sharing one FINESS PMSI are paid once.
    finess_pmsi: Mapped[str] = mapped_column(String(9))
    raison_sociale: Mapped[str] = mapped_column(String(300))
    activite_combinee: Mapped[Decimal] = mapped_column(Activite)
    source_activite: Mapped[str] = mapped_column(String(20))  # referentiel | candidature
    objectifs: Mapped[list[str]] = mapped_column(JSONB)


class ObjectifDecide(Base):
    """The ARS decision on one (EJ, objective) of a candidature; immutable. A correction is a new row
    naming the decision it replaces (each replaced at most once); only one decision per (candidature,
    EJ, objective) names none, so the current decision is the one no other replaces."""

    __tablename__ = "objectif_decide"
    __table_args__ = (
        ForeignKeyConstraint(
            ["candidature_id", "finess_ej"],
            ["perimetre_finance.candidature_id", "perimetre_finance.finess_ej"],
            name="fk_objectif_decide_perimetre"),
        Index("uq_objectif_decide_premiere_decision", "candidature_id", "finess_ej", "objectif", unique=True,
              postgresql_where=text("remplace IS NULL")),
    )

    decision_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    candidature_id: Mapped[str] = mapped_column(String(36))
    finess_ej: Mapped[str] = mapped_column(String(9))
    objectif: Mapped[str] = mapped_column(String(10))
    atteint: Mapped[bool] = mapped_column(Boolean)
    remplace: Mapped[str | None] = mapped_column(ForeignKey("objectif_decide.decision_id"), unique=True)
    decide_par: Mapped[str] = mapped_column(String(200))
    decide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DecisionCandidatureRecue(Base):
    """The ARS decision on a phase-1 candidature (validation or refusal), as financement received it;
    immutable. A correction names the decision it replaces (each replaced at most once); one decision
    per candidature names none: the current one is the decision no other replaces (ADR 0014)."""

    __tablename__ = "decision_candidature"
    __table_args__ = (
        Index("uq_decision_candidature_premiere", "candidature_id", unique=True,
              postgresql_where=text("remplace IS NULL")),
    )

    decision_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    candidature_id: Mapped[str] = mapped_column(String(36), index=True)
    validee: Mapped[bool] = mapped_column(Boolean)
    remplace: Mapped[str | None] = mapped_column(ForeignKey("decision_candidature.decision_id"), unique=True)
    decide_par: Mapped[str] = mapped_column(String(200))
    decide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))

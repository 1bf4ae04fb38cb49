from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hopen_financement.db import Activite, Base, Montant


class ProjetAap(Base):
    """A selected project with the amount granted and how it was checked. Immutable."""

    __tablename__ = "projet_aap"

    projet_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(36), unique=True)
    finess: Mapped[str] = mapped_column(String(9), index=True)  # lead ES, paid
    region: Mapped[str] = mapped_column(String(3), index=True)
    theme: Mapped[str] = mapped_column(String(50))
    objectifs: Mapped[list[str]] = mapped_column(JSONB)
    participants: Mapped[list[dict[str, str]]] = mapped_column(JSONB)
    perimetre: Mapped[list[str]] = mapped_column(JSONB)
    activite_combinee_cumulee: Mapped[Decimal] = mapped_column(Activite)
    depenses_prevues: Mapped[Decimal] = mapped_column(Montant)
    maximum_theorique: Mapped[Decimal] = mapped_column(Montant)
    montant_accorde: Mapped[Decimal] = mapped_column(Montant)
    calcul: Mapped[dict[str, Any]] = mapped_column(JSONB)
    decide_par: Mapped[str] = mapped_column(String(200))
    decide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    motivation: Mapped[str] = mapped_column(String(2000))


class AtteinteProjetAap(Base):
    """The ARS 2027 decision on a project's objectives (one per project). Immutable."""

    __tablename__ = "atteinte_projet_aap"

    projet_id: Mapped[str] = mapped_column(ForeignKey("projet_aap.projet_id"), primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(36), unique=True)
    atteint: Mapped[bool] = mapped_column(Boolean)
    decide_par: Mapped[str] = mapped_column(String(200))
    decide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    motivation: Mapped[str] = mapped_column(String(2000))


class DecisionProjetAapRecue(Base):
    """An ARS decision on an AAP project as financement received it (issue 9, ADR 0014): its selection
    (`objet` "selection": retained or not, with the amount granted) or its attainment ("atteinte").
    Immutable. A correction names the decision it replaces (each replaced at most once); one decision
    per (project, objet) names none: the current one is the decision no other replaces."""

    __tablename__ = "decision_projet_aap"
    __table_args__ = (
        Index("uq_decision_projet_aap_premiere", "projet_id", "objet", unique=True,
              postgresql_where=text("remplace IS NULL")),
    )

    decision_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    projet_id: Mapped[str] = mapped_column(String(36), index=True)
    objet: Mapped[str] = mapped_column(String(20))  # selection | atteinte
    retenu: Mapped[bool] = mapped_column(Boolean)  # selection: selectionne; atteinte: atteint
    montant_accorde: Mapped[Decimal | None] = mapped_column(Montant)  # a retained selection only
    calcul: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # how that amount was checked
    remplace: Mapped[str | None] = mapped_column(ForeignKey("decision_projet_aap.decision_id"), unique=True)
    decide_par: Mapped[str] = mapped_column(String(200))
    decide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))

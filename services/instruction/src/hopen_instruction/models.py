"""ORM models of the instruction service. Decisions are append-only: never updated in place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hopen_common.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Dossier(Base):
    """A deposited candidature to instruct; its id is the candidature's id."""

    __tablename__ = "dossier"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dispositif: Mapped[str] = mapped_column(String(20))
    finess: Mapped[str] = mapped_column(String(9), index=True)
    raison_sociale: Mapped[str] = mapped_column(String(300))
    region: Mapped[str] = mapped_column(String(3), index=True)
    objectifs: Mapped[list[str]] = mapped_column(JSONB)
    domaines_sun_es: Mapped[list[str]] = mapped_column(JSONB)
    # GHT candidature: [{finess_ej, raison_sociale, activite_combinee, domaines_sun_es, objectifs}].
    perimetre: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    statut: Mapped[str] = mapped_column(String(20))  # a_instruire | validee | refusee
    deposee_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IndicateurRecu(Base):
    __tablename__ = "indicateur_recu"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossier.id"), index=True)
    finess_ej: Mapped[str] = mapped_column(String(9))  # the EJ measured (GHT member or the applicant)
    objectif: Mapped[str] = mapped_column(String(10))
    indicateur: Mapped[str] = mapped_column(String(20))
    numerateur: Mapped[int] = mapped_column(BigInteger)
    denominateur: Mapped[int] = mapped_column(BigInteger)
    depose_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[str] = mapped_column(String(64), unique=True)


class Decision(Base):
    """Who decided what, when, why, on which evidence. `objet` is "candidature" or an objective."""

    __tablename__ = "decision"
    # One initial decision per object (and per member EJ of a GHT); a correction is a new row
    # that `remplace` it.
    __table_args__ = (
        Index("uq_decision_initiale", "dossier_id", "objet", "finess_ej", unique=True,
              postgresql_where=text("remplace IS NULL"), postgresql_nulls_not_distinct=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossier.id"), index=True)
    objet: Mapped[str] = mapped_column(String(20))
    finess_ej: Mapped[str | None] = mapped_column(String(9))  # GHT: the member EJ judged
    decision: Mapped[str] = mapped_column(String(20))
    motivation: Mapped[str] = mapped_column(Text)
    decide_par: Mapped[str] = mapped_column(String(200))
    decide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Evidence the decision was taken on (indicator rates and targets), frozen.
    elements: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)
    remplace: Mapped[str | None] = mapped_column(String(36))


metadata = Base.metadata

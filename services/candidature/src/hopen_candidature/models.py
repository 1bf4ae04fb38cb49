"""ORM models of the candidature service (persistence only; rules live in candidatures/rules.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, Numeric, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hopen_common.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class EtablissementConnu(Base):
    """Local copy of the referentiel's establishments (fed by EtablissementPublie)."""

    __tablename__ = "etablissement_connu"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    finess_ej: Mapped[str] = mapped_column(String(9), index=True)
    raison_sociale: Mapped[str] = mapped_column(String(300))
    region: Mapped[str] = mapped_column(String(3))
    secteur: Mapped[str] = mapped_column(String(30))
    niveau: Mapped[str] = mapped_column(String(2))
    ght_code: Mapped[str | None] = mapped_column(String(20))
    ght_role: Mapped[str | None] = mapped_column(String(1))
    finess_pmsi: Mapped[str] = mapped_column(String(9))
    activite_combinee: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    eligible_phase1: Mapped[bool] = mapped_column(Boolean)
    maille_phase1: Mapped[str | None] = mapped_column(String(9))
    domaines_sun_es: Mapped[list[str]] = mapped_column(JSONB, default=list)
    ferme: Mapped[bool] = mapped_column(Boolean)
    mis_a_jour_le: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Candidature(Base):
    __tablename__ = "candidature"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dispositif: Mapped[str] = mapped_column(String(20))
    finess: Mapped[str] = mapped_column(String(9), index=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    statut: Mapped[str] = mapped_column(String(20))  # brouillon | deposee
    objectifs: Mapped[list[str]] = mapped_column(JSONB)
    # GHT candidature: [{finess_ej, raison_sociale, activite_combinee, domaines_sun_es, objectifs}].
    perimetre: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    cree_par: Mapped[str] = mapped_column(String(200))
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deposee_par: Mapped[str | None] = mapped_column(String(200))
    deposee_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IndicateurDeclare(Base):
    """Evidence: append-only, the latest declaration of an indicator is the one instructed."""

    __tablename__ = "indicateur_declare"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    candidature_id: Mapped[str] = mapped_column(ForeignKey("candidature.id"), index=True)
    finess_ej: Mapped[str] = mapped_column(String(9))  # the EJ measured (GHT member or the applicant)
    objectif: Mapped[str] = mapped_column(String(10))
    indicateur: Mapped[str] = mapped_column(String(20))
    numerateur: Mapped[int] = mapped_column(BigInteger)
    denominateur: Mapped[int] = mapped_column(BigInteger)
    depose_par: Mapped[str] = mapped_column(String(200))
    depose_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


metadata = Base.metadata

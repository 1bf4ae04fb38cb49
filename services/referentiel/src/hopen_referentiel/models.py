"""ORM models of the referentiel: what the sources said (facts) and the computed fiches.

Facts are stored as received (one table per kind of source record); `fiche_etablissement`
is derived from them by `etablissements.fiches.calculer_fiches` after every load, and is
what the API serves and what is published to the other services.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, Numeric, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hopen_common.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class EntiteJuridique(Base):
    __tablename__ = "entite_juridique"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    raison_sociale: Mapped[str] = mapped_column(String(300))
    statut_juridique: Mapped[str] = mapped_column(String(2))
    departement: Mapped[str] = mapped_column(String(3))
    date_fermeture: Mapped[date | None] = mapped_column(Date)
    ferme: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(100))
    mis_a_jour_le: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EtablissementGeographique(Base):
    __tablename__ = "etablissement_geographique"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    finess_ej: Mapped[str] = mapped_column(ForeignKey("entite_juridique.finess"), index=True)
    raison_sociale: Mapped[str] = mapped_column(String(300))
    categorie: Mapped[str] = mapped_column(String(3))
    agregat_categorie: Mapped[str] = mapped_column(String(4))
    departement: Mapped[str] = mapped_column(String(3))
    date_fermeture: Mapped[date | None] = mapped_column(Date)
    ferme: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(100))
    mis_a_jour_le: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Ght(Base):
    __tablename__ = "ght"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    libelle: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(100))


class MembreGht(Base):
    """An EJ belongs to at most one GHT; exactly one member is its support (checked on load)."""

    __tablename__ = "membre_ght"

    finess_ej: Mapped[str] = mapped_column(String(9), primary_key=True)
    ght_code: Mapped[str] = mapped_column(ForeignKey("ght.code"), index=True)
    role: Mapped[str] = mapped_column(String(1))  # S | M


class ActiviteCombinee(Base):
    """AC per FINESS PMSI and campaign (2022: phase 1; 2024: phase 2), frozen once loaded."""

    __tablename__ = "activite_combinee"

    finess_pmsi: Mapped[str] = mapped_column(String(9), primary_key=True)
    campagne: Mapped[int] = mapped_column(Integer, primary_key=True)
    valeur: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    composantes: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    source: Mapped[str] = mapped_column(String(100))


class EffectifSae(Base):
    __tablename__ = "effectif_sae"

    finess_eg: Mapped[str] = mapped_column(String(9), primary_key=True)
    annee: Mapped[int] = mapped_column(Integer, primary_key=True)
    effectif: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(100))


class DomaineSunEs(Base):
    __tablename__ = "domaine_sun_es"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    domaine: Mapped[str] = mapped_column(String(10), primary_key=True)
    source: Mapped[str] = mapped_column(String(100))


class FicheEtablissement(Base):
    """The computed view of one FINESS. `empreinte` (sha256 of the published payload) tells
    whether a recomputation changed anything: only changed fiches are republished."""

    __tablename__ = "fiche_etablissement"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    niveau: Mapped[str] = mapped_column(String(2))
    finess_ej: Mapped[str] = mapped_column(String(9), index=True)
    raison_sociale: Mapped[str] = mapped_column(String(300))
    departement: Mapped[str] = mapped_column(String(3), index=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    secteur: Mapped[str] = mapped_column(String(30), index=True)
    categorie: Mapped[str | None] = mapped_column(String(3), index=True)
    ght_code: Mapped[str | None] = mapped_column(String(20), index=True)
    finess_pmsi: Mapped[str] = mapped_column(String(9))
    activite_combinee: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    eligible_phase1: Mapped[bool] = mapped_column(Boolean, index=True)
    ferme: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)  # everything the API shows
    empreinte: Mapped[str] = mapped_column(String(64))
    calcule_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


metadata = Base.metadata

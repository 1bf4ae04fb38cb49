"""ORM models of the referentiel: what the sources said (facts) and the computed fiches.

Facts are stored as received (one table per kind of source record); `fiche_etablissement`
is derived from them by `etablissements.fiches.calculer_fiches` after every load, and is
what the API serves and what is published to the other services.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hopen_common.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class EntiteJuridique(Base):
    __tablename__ = "entite_juridique"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    raison_sociale: Mapped[str] = mapped_column(String(300))
    raison_sociale_longue: Mapped[str | None] = mapped_column(String(300))
    statut_juridique: Mapped[str] = mapped_column(String(3))
    commune: Mapped[str | None] = mapped_column(String(5))
    departement: Mapped[str] = mapped_column(String(3))
    siren: Mapped[str | None] = mapped_column(String(9))
    date_creation: Mapped[date | None] = mapped_column(Date)
    date_fermeture: Mapped[date | None] = mapped_column(Date)
    ferme: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who last changed the row: "demo", or "<kind of import>:<import id>" (see import_fichier).
    source: Mapped[str] = mapped_column(String(100))
    mis_a_jour_le: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EtablissementGeographique(Base):
    __tablename__ = "etablissement_geographique"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    finess_ej: Mapped[str] = mapped_column(ForeignKey("entite_juridique.finess"), index=True)
    raison_sociale: Mapped[str] = mapped_column(String(300))
    raison_sociale_longue: Mapped[str | None] = mapped_column(String(300))
    categorie: Mapped[str] = mapped_column(String(3))
    # None for a catégorie outside the HOP'EN sanitary table (social, medico-social).
    agregat_categorie: Mapped[str | None] = mapped_column(String(4))
    commune: Mapped[str | None] = mapped_column(String(5))
    departement: Mapped[str] = mapped_column(String(3))
    siret: Mapped[str | None] = mapped_column(String(14))
    date_ouverture: Mapped[date | None] = mapped_column(Date)
    date_fermeture: Mapped[date | None] = mapped_column(Date)
    ferme: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(100))
    mis_a_jour_le: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Ght(Base):
    __tablename__ = "ght"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    libelle: Mapped[str] = mapped_column(String(300))
    # FINESS+ only: typeGcc (TRE_R371) and numFinessGcc; `code` is then the feed's gccId.
    type_groupement: Mapped[str | None] = mapped_column(String(3))
    numero_gcc: Mapped[str | None] = mapped_column(String(20))
    actif: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(100))


class MembreGht(Base):
    """An EJ belongs to at most one GHT; exactly one member is its support (checked on load)."""

    __tablename__ = "membre_ght"

    finess_ej: Mapped[str] = mapped_column(String(9), primary_key=True)
    ght_code: Mapped[str] = mapped_column(ForeignKey("ght.code"), index=True)
    role: Mapped[str] = mapped_column(String(1))  # S | M
    source: Mapped[str] = mapped_column(String(100), default="demo")


class ActiviteCombinee(Base):
    """AC per FINESS PMSI and campaign (2022: phase 1 and AAP list; 2024: HospiConnect).

    `valeur` is the AC that counts: the imported one when given, else the one computed from the
    components; `valeur_calculee` keeps the computed one so a difference stays reportable."""

    __tablename__ = "activite_combinee"

    finess_pmsi: Mapped[str] = mapped_column(String(9), primary_key=True)
    campagne: Mapped[int] = mapped_column(Integer, primary_key=True)
    valeur: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    origine: Mapped[str] = mapped_column(String(10), default="importee")  # importee | calculee
    valeur_calculee: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    composantes: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    source: Mapped[str] = mapped_column(String(100))


class EffectifSae(Base):
    __tablename__ = "effectif_sae"

    finess_eg: Mapped[str] = mapped_column(String(9), primary_key=True)
    annee: Mapped[int] = mapped_column(Integer, primary_key=True)
    effectif: Mapped[int] = mapped_column(Integer)  # salaried + liberal
    salaries: Mapped[int | None] = mapped_column(Integer)
    liberaux: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(100))


class DomaineSunEs(Base):
    __tablename__ = "domaine_sun_es"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    domaine: Mapped[str] = mapped_column(String(10), primary_key=True)
    source: Mapped[str] = mapped_column(String(100))


class RattachementGhu(Base):
    """AP-HP (phase 2): an EG belongs to a GHU, whose FINESS géographique is its FINESS PMSI."""

    __tablename__ = "rattachement_ghu"

    finess_eg: Mapped[str] = mapped_column(String(9), primary_key=True)
    finess_ghu: Mapped[str] = mapped_column(String(9), index=True)
    libelle_ghu: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(100))


class ExceptionFinessPmsi(Base):
    """A private EJ whose PMSI is declared at another level than the rule (domain 2.2).

    Imported exceptions win over data/programme/exceptions_finess_pmsi.csv for the same EJ."""

    __tablename__ = "exception_finess_pmsi"

    finess_ej: Mapped[str] = mapped_column(String(9), primary_key=True)
    niveau_pmsi: Mapped[str] = mapped_column(String(2))  # EJ | EG
    motif: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(100))


class ImportFichier(Base):
    """One import that committed: who, when, which file, what it changed (traceability)."""

    __tablename__ = "import_fichier"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    type: Mapped[str] = mapped_column(String(30), index=True)  # finess_plus | finess_etalab | ...
    nom_fichier: Mapped[str] = mapped_column(String(300))
    taille: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))  # of the bytes received
    # Of the records (extraction date left out): equal to the last import's, nothing changed.
    empreinte_contenu: Mapped[str] = mapped_column(String(64))
    demande_par: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(50))
    debut: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fin: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # {"entites_juridiques": {"crees": .., "modifies": .., "inchanges": .., "fermes": ..}, ...,
    #  "rejets": {code: n}, "avertissements": {code: n}, "fiches": {...}, "evenements": n}
    compteurs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Same bytes as an earlier import: nothing was read again (the earlier import's figures hold).
    identique_a: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class SignalementImport(Base):
    """A rejection (record not imported) or a warning (imported, to look at) of one import."""

    __tablename__ = "signalement_import"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("import_fichier.id"), index=True)
    nature: Mapped[str] = mapped_column(String(20))  # rejet | avertissement
    code: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    ligne: Mapped[int | None] = mapped_column(Integer)
    feuille: Mapped[str | None] = mapped_column(String(100))
    chemin: Mapped[str | None] = mapped_column(String(200))
    finess: Mapped[str | None] = mapped_column(String(40))
    champ: Mapped[str | None] = mapped_column(String(100))
    valeur: Mapped[str | None] = mapped_column(Text)


class VersionProgramme(Base):
    """One version of a programme document (objectives, targets, tariffs, calendars, envelopes).

    Versions are never edited: the DNS publishes a new one; the latest published is current."""

    __tablename__ = "version_programme"

    document: Mapped[str] = mapped_column(String(50), primary_key=True)  # phase1, hospiconnect, ...
    version: Mapped[str] = mapped_column(String(30), primary_key=True)
    contenu: Mapped[dict[str, Any]] = mapped_column(JSONB)
    empreinte: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical JSON
    publie_par: Mapped[str] = mapped_column(String(200))
    publie_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    motivation: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))


class FicheEtablissement(Base):
    """The computed view of one FINESS. `empreinte` (sha256 of the published payload and the API
    detail) tells whether a recomputation changed anything: only changed fiches are written, and
    only changed ones inside the programme's perimeter are republished."""

    __tablename__ = "fiche_etablissement"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    niveau: Mapped[str] = mapped_column(String(2))
    finess_ej: Mapped[str] = mapped_column(String(9), index=True)
    raison_sociale: Mapped[str] = mapped_column(String(300))
    departement: Mapped[str] = mapped_column(String(3))
    region: Mapped[str] = mapped_column(String(3), index=True)
    secteur: Mapped[str | None] = mapped_column(String(30))
    categorie: Mapped[str | None] = mapped_column(String(3))
    ght_code: Mapped[str | None] = mapped_column(String(20), index=True)
    finess_pmsi: Mapped[str | None] = mapped_column(String(9))
    activite_combinee: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # Filters without an index of their own: a national perimeter is some 10 000 to 150 000
    # rows, scanned in milliseconds, while every index costs on each of an import's writes.
    eligible_phase1: Mapped[bool] = mapped_column(Boolean)
    eligible_hospiconnect: Mapped[bool] = mapped_column(Boolean)
    eligible_aap: Mapped[bool] = mapped_column(Boolean)
    ferme: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)  # everything the API shows
    empreinte: Mapped[str] = mapped_column(String(64))
    calcule_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


metadata = Base.metadata


class FicheHabilitation(Base):
    """Who a habilitation is for, as the DNS or the ARS wrote it: what a person reads to recognise a
    colleague (annex 3: "le profil et nom d'un référent"). Kept here only: never published, the other
    services authorize on `habilitation_connue` alone (ADR 0022)."""

    __tablename__ = "fiche_habilitation"

    habilitation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    nom: Mapped[str | None] = mapped_column(String(200))
    courriel: Mapped[str | None] = mapped_column(String(254))
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cree_par: Mapped[str] = mapped_column(String(200))
    modifie_par: Mapped[str] = mapped_column(String(200))


class HistoriqueHabilitation(Base):
    """Every change of a habilitation, immutable: who, when, why, the state before and after."""

    __tablename__ = "historique_habilitation"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    habilitation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))  # creation | modification | revocation
    avant: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    apres: Mapped[dict[str, Any]] = mapped_column(JSONB)
    par_emetteur: Mapped[str] = mapped_column(String(500))
    par_sujet: Mapped[str] = mapped_column(String(200))
    par_role: Mapped[str] = mapped_column(String(20))
    le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    motivation: Mapped[str] = mapped_column(Text)

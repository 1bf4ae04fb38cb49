"""Typed records the import parsers produce, ready to be written by the database step.

Codes stay text (leading zeros: `01`, `2A`, `9A`); dates are `datetime.date`; quantities are
`Decimal` or `int`, never float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from hopen_referentiel.etablissements.rules import NiveauFiness, Secteur


@dataclass(frozen=True, slots=True)
class EntiteJuridique:
    """A FINESS juridique (EJ, `pmej` in FINESS+)."""

    finess: str
    raison_sociale: str
    raison_sociale_longue: str | None
    statut_juridique: str
    # None when the statut is a valid FINESS code outside the programme's secteur table (social
    # and medico-social statuts): the eligibility rules refuse it later, the import does not guess.
    secteur: Secteur | None
    commune: str | None  # INSEE code of the address' commune
    departement: str  # FINESS coding (2A, 9A...)
    region: str  # INSEE region code
    siren: str | None
    date_creation: date | None
    date_fermeture: date | None
    ferme: bool


@dataclass(frozen=True, slots=True)
class EtablissementGeographique:
    """A FINESS geographique (EG/ET, `ege` in FINESS+, `structureet` in the etalab CSV)."""

    finess: str
    finess_ej: str
    raison_sociale: str
    raison_sociale_longue: str | None
    categorie: str
    # From the file when it carries one (etalab `categagretab`), else from the HOP'EN
    # categorie -> agregat table; None for a categorie outside that (sanitary) table.
    agregat_categorie: str | None
    commune: str | None
    departement: str
    region: str
    siret: str | None
    date_ouverture: date | None
    date_fermeture: date | None
    ferme: bool


@dataclass(frozen=True, slots=True)
class GroupementGht:
    """A GHT: its support EJ and its member EJ (the support is not repeated among members)."""

    code: str
    nom: str
    finess_support: str
    finess_membres: tuple[str, ...]
    actif: bool = True
    # FINESS+ only: typeGcc (TRE_R371) and numFinessGcc; `code` is then the feed's gccId.
    type_groupement: str | None = None
    numero_gcc: str | None = None


@dataclass(frozen=True, slots=True)
class EnteteEtalab:
    """The first line of an etalab extraction: `finess;etalab;<numero>;<date>`."""

    numero: str
    date_extraction: date


@dataclass(frozen=True, slots=True)
class EtablissementSae:
    """One row of the DREES SAE identification file (bordereau ID)."""

    annee: int
    finess: str
    finess_ej: str
    raison_sociale: str
    statut_juridique: str
    secteur: Secteur | None
    categorie: str | None  # None on the rows where an EJ answers for itself (SAE `cat` 999)
    agregat_categorie: str | None
    departement: str
    region: str


# --- eligible base ---------------------------------------------------------------------------


class OrigineActivite(StrEnum):
    IMPORTEE = "importee"
    CALCULEE = "calculee"


@dataclass(frozen=True, slots=True)
class ComposantesActivite:
    """PMSI (and SAE) volumes the activite combinee is computed from (domain 2.3)."""

    journees_mco: Decimal
    seances_mco: Decimal
    hdj_chirurgie_ambulatoire: Decimal
    hdj_autres: Decimal
    journees_smr: Decimal
    journees_psy: Decimal
    journees_had: Decimal
    journees_usld: Decimal


@dataclass(frozen=True, slots=True)
class ActiviteCombinee:
    finess_pmsi: str
    annee: int
    activite_combinee: Decimal  # the value that counts: imported when given, else computed
    origine: OrigineActivite
    composantes: ComposantesActivite | None
    activite_calculee: Decimal | None  # from the components, when they were given


@dataclass(frozen=True, slots=True)
class EffectifsSae:
    finess_eg: str
    annee: int
    effectifs_total: int
    effectifs_salaries: int | None
    effectifs_liberaux: int | None


@dataclass(frozen=True, slots=True)
class RattachementGhu:
    """AP-HP (phase 2): an EG belongs to a GHU whose FINESS geographique is its FINESS PMSI."""

    finess_eg: str
    finess_ghu: str
    libelle_ghu: str


@dataclass(frozen=True, slots=True)
class ExceptionFinessPmsi:
    finess_ej: str
    niveau_pmsi: NiveauFiness
    motif: str


@dataclass(frozen=True, slots=True)
class DomaineSunEs:
    finess_pmsi: str
    domaine: str

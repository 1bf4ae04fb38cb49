"""What an import reports besides its records: rejections, warnings and whole-file errors.

- A `Rejet` is a record (JSON object, CSV line, sheet row) that is NOT produced; the import goes
  on with the next record.
- An `Avertissement` accompanies a record that IS produced (or a harmless line that is skipped):
  something a person should look at, never a reason to drop data.
- An `ErreurFichier` is raised when the file as a whole cannot be read (wrong header, not gzip,
  truncated JSON, missing columns): nothing after it can be trusted, so the caller must treat the
  import as failed. It is an `ErreurReferentiel`, hence a `ValueError` the API maps to a 422
  problem+json, with `code` as the machine-readable type.

Messages are in French (they are shown to ARS and DNS users) and name the FINESS and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hopen_referentiel.etablissements.rules import ErreurReferentiel


class CodeRejet(StrEnum):
    FINESS_ABSENT = "finess_absent"
    FINESS_FORMAT = "finess_format"
    FINESS_CLE = "finess_cle"
    DOUBLON = "doublon"
    STATUT_JURIDIQUE_ABSENT = "statut_juridique_absent"
    STATUT_JURIDIQUE_INCONNU = "statut_juridique_inconnu"
    CATEGORIE_ABSENTE = "categorie_absente"
    CATEGORIE_INCONNUE = "categorie_inconnue"
    COMMUNE_ABSENTE = "commune_absente"
    COMMUNE_INVALIDE = "commune_invalide"
    DEPARTEMENT_INCONNU = "departement_inconnu"
    TERRITOIRE_HORS_PERIMETRE = "territoire_hors_perimetre"
    EJ_ABSENTE = "ej_absente"
    DATE_INVALIDE = "date_invalide"
    ENREGISTREMENT_INVALIDE = "enregistrement_invalide"
    LIGNE_TRONQUEE = "ligne_tronquee"
    CHAMPS_EN_TROP = "champs_en_trop"
    TYPE_ENREGISTREMENT_INCONNU = "type_enregistrement_inconnu"
    ENCODAGE_INVALIDE = "encodage_invalide"
    GHT_SANS_SUPPORT = "ght_sans_support"
    GHT_PLUSIEURS_SUPPORTS = "ght_plusieurs_supports"
    EJ_PLUSIEURS_GHT = "ej_plusieurs_ght"
    ROLE_GHT_INCONNU = "role_ght_inconnu"
    VALEUR_ABSENTE = "valeur_absente"
    NOMBRE_INVALIDE = "nombre_invalide"
    NOMBRE_NEGATIF = "nombre_negatif"
    ANNEE_INVALIDE = "annee_invalide"
    COMPOSANTES_INCOMPLETES = "composantes_incompletes"
    TOTAL_INCOHERENT = "total_incoherent"
    DOMAINE_INCONNU = "domaine_inconnu"
    NIVEAU_PMSI_INCONNU = "niveau_pmsi_inconnu"


class CodeAvertissement(StrEnum):
    DEPARTEMENT_DEDUIT_DU_FINESS = "departement_deduit_du_finess"
    AGREGAT_DIFFERENT = "agregat_different"
    REGION_DIFFERENTE = "region_differente"
    GHT_MEMBRE_ABSENT = "ght_membre_absent"
    GHT_NOM_DIFFERENT = "ght_nom_different"
    TYPE_GCC_INCONNU = "type_gcc_inconnu"
    GEOLOCALISATION_SANS_ETABLISSEMENT = "geolocalisation_sans_etablissement"
    ECART_ACTIVITE_COMBINEE = "ecart_activite_combinee"
    FEUILLE_IGNOREE = "feuille_ignoree"


class CodeErreurFichier(StrEnum):
    FORMAT_INVALIDE = "format_invalide"
    ENTETE_INVALIDE = "entete_invalide"
    ENCODAGE_INVALIDE = "encodage_invalide"
    FICHIER_TRONQUE = "fichier_tronque"
    COLONNES_INVALIDES = "colonnes_invalides"
    ORDRE_INATTENDU = "ordre_inattendu"


@dataclass(frozen=True, slots=True)
class Position:
    """Where in the file: a line (CSV), a sheet and row (XLSX) or a JSON path.

    Lines and rows are 1-based and count the header, so they match what an editor shows.
    """

    ligne: int | None = None
    feuille: str | None = None
    chemin: str | None = None

    def __str__(self) -> str:
        morceaux = []
        if self.feuille is not None:
            morceaux.append(f"feuille {self.feuille!r}")
        if self.ligne is not None:
            morceaux.append(f"ligne {self.ligne}")
        if self.chemin is not None:
            morceaux.append(self.chemin)
        return ", ".join(morceaux) or "fichier"


@dataclass(frozen=True, slots=True)
class Rejet:
    code: CodeRejet
    message: str
    position: Position
    finess: str | None = None
    champ: str | None = None
    valeur: str | None = None


@dataclass(frozen=True, slots=True)
class Avertissement:
    code: CodeAvertissement
    message: str
    position: Position
    finess: str | None = None
    champ: str | None = None
    valeur: str | None = None


class ErreurFichier(ErreurReferentiel):
    """The whole file is unreadable; `code` is the problem type, `position` where it was seen."""

    def __init__(self, code: CodeErreurFichier, message: str, position: Position | None = None) -> None:
        self.code = code
        self.message = message
        self.position = position or Position()
        super().__init__(f"{self.position} : {message}" if position else message)


class ProblemeChamp(ValueError):
    """A field-level check failed; the parser turns it into a `Rejet` at the record's position."""

    def __init__(self, code: CodeRejet, message: str, *, champ: str, valeur: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.champ = champ
        self.valeur = valeur

    def rejet(self, position: Position, finess: str | None) -> Rejet:
        return Rejet(self.code, self.message, position, finess, self.champ, self.valeur)

"""Field checks shared by the FINESS+, etalab, SAE and eligible-base parsers.

Each check returns the cleaned value or raises `ProblemeChamp`; the parser turns that into a
`Rejet` carrying the record's position and FINESS. The FINESS rule itself (format, check key
after 2A -> 21, 2B -> 22, overseas departements) is `hopen_common.finess`.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from hopen_common import finess as _finess
from hopen_common.finess import FORMAT_FINESS as _FORMAT_FINESS
from hopen_common.finess import cle_finess_valide
from hopen_referentiel.etablissements.rules import (
    DepartementInconnu,
    Region,
    TerritoireHorsPerimetre,
    region_du_departement,
)
from hopen_referentiel.imports.rejets import CodeRejet, ProblemeChamp
from hopen_referentiel.imports.tables import TablesImport

_FORMAT_COMMUNE = re.compile(r"(?:\d{2}|2[AB])\d{3}")

# Saint-Barthelemy (977) and Saint-Martin (978) have their own INSEE codes but belong to the ARS
# and the FINESS departement of Guadeloupe (domain 2: "9701... Guadeloupe (and Saint-Martin,
# Saint-Barthelemy)").
_DEPARTEMENT_INSEE_DE_RATTACHEMENT = {"977": "971", "978": "971"}


def controler_finess(valeur: str | None, champ: str) -> str:
    if valeur is None or not valeur.strip():
        raise ProblemeChamp(
            CodeRejet.FINESS_ABSENT, f"{champ} : numero FINESS absent", champ=champ, valeur=None
        )
    finess = valeur.strip()
    if not _FORMAT_FINESS.fullmatch(finess):
        indice = ""
        if finess.isdigit() and len(finess) == 8:
            indice = " (saisi comme un nombre ? le zero initial a pu etre perdu)"
        raise ProblemeChamp(
            CodeRejet.FINESS_FORMAT,
            f"{champ} : FINESS {finess!r} mal forme, 9 caracteres attendus "
            f"(2 chiffres, 2A ou 2B, puis 7 chiffres){indice}",
            champ=champ,
            valeur=finess,
        )
    if not cle_finess_valide(finess):
        raise ProblemeChamp(
            CodeRejet.FINESS_CLE,
            f"{champ} : FINESS {finess} a une cle de controle (9e caractere) invalide",
            champ=champ,
            valeur=finess,
        )
    return finess


def controler_statut_juridique(valeur: str | None, tables: TablesImport, champ: str, finess: str) -> str:
    if valeur is None or not valeur.strip():
        raise ProblemeChamp(
            CodeRejet.STATUT_JURIDIQUE_ABSENT,
            f"FINESS {finess} : statut juridique absent ({champ})",
            champ=champ,
            valeur=None,
        )
    statut = valeur.strip()
    if statut not in tables.statuts_juridiques:
        raise ProblemeChamp(
            CodeRejet.STATUT_JURIDIQUE_INCONNU,
            f"FINESS {finess} : statut juridique {statut!r} ({champ}) absent de la nomenclature TRE_R72",
            champ=champ,
            valeur=statut,
        )
    return statut


def controler_categorie(valeur: str | None, tables: TablesImport, champ: str, finess: str) -> str:
    if valeur is None or not valeur.strip():
        raise ProblemeChamp(
            CodeRejet.CATEGORIE_ABSENTE,
            f"FINESS {finess} : categorie d'etablissement absente ({champ})",
            champ=champ,
            valeur=None,
        )
    categorie = valeur.strip()
    if categorie not in tables.categories:
        raise ProblemeChamp(
            CodeRejet.CATEGORIE_INCONNUE,
            f"FINESS {finess} : categorie d'etablissement {categorie!r} ({champ}) absente de la "
            "nomenclature TRE_R66",
            champ=champ,
            valeur=categorie,
        )
    return categorie


def region_de(code_finess_departement: str, tables: TablesImport, champ: str, finess: str) -> Region:
    """Region of a departement in FINESS coding; an out-of-scope territory is its own rejection."""
    try:
        return region_du_departement(code_finess_departement, tables.geographie)
    except TerritoireHorsPerimetre as exc:
        raise ProblemeChamp(
            CodeRejet.TERRITOIRE_HORS_PERIMETRE,
            f"FINESS {finess} : {exc.libelle} ({champ} {code_finess_departement}) est hors du perimetre "
            f"du programme : {exc.motif}",
            champ=champ,
            valeur=code_finess_departement,
        ) from None
    except DepartementInconnu:
        raise ProblemeChamp(
            CodeRejet.DEPARTEMENT_INCONNU,
            f"FINESS {finess} : departement {code_finess_departement!r} ({champ}) inconnu",
            champ=champ,
            valeur=code_finess_departement,
        ) from None


def localiser_commune(cog: str, tables: TablesImport, champ: str, finess: str) -> tuple[str, Region]:
    """(departement in FINESS coding, region) of an INSEE commune code (`01143`, `2A004`, `97101`)."""
    commune = cog.strip()
    if not _FORMAT_COMMUNE.fullmatch(commune):
        raise ProblemeChamp(
            CodeRejet.COMMUNE_INVALIDE,
            f"FINESS {finess} : code commune INSEE {commune!r} ({champ}) mal forme, 5 caracteres attendus",
            champ=champ,
            valeur=commune,
        )
    departement_insee = commune[:3] if commune[:2] in ("97", "98") else commune[:2]
    departement_insee = _DEPARTEMENT_INSEE_DE_RATTACHEMENT.get(departement_insee, departement_insee)
    exclu = tables.geographie.territoires_exclus.get(departement_insee)
    if exclu is not None:
        raise ProblemeChamp(
            CodeRejet.TERRITOIRE_HORS_PERIMETRE,
            f"FINESS {finess} : commune {commune} ({champ}) en {exclu.libelle}, hors du perimetre du "
            f"programme : {exclu.motif}",
            champ=champ,
            valeur=commune,
        )
    departement = tables.departements_par_code_insee.get(departement_insee)
    if departement is None:
        raise ProblemeChamp(
            CodeRejet.DEPARTEMENT_INCONNU,
            f"FINESS {finess} : commune {commune} ({champ}) dans un departement inconnu "
            f"({departement_insee})",
            champ=champ,
            valeur=commune,
        )
    return departement.code_finess, region_de(departement.code_finess, tables, champ, finess)


def departement_du_finess(finess: str) -> str | None:
    """Departement (FINESS coding) the number was attributed in, or None when it says nothing
    (an overseas prefix outside the programme): the parsers then reject the record themselves."""
    try:
        return _finess.departement_du_finess(finess)
    except _finess.DepartementFinessInconnu:
        return None


def lire_date(valeur: str | None, champ: str, finess: str, *, jour_mois_annee: bool = False) -> date | None:
    """ISO date (`2019-03-03`); `jour_mois_annee` also accepts `03/03/2019` (old etalab files)."""
    if valeur is None or not valeur.strip():
        return None
    texte = valeur.strip()
    try:
        if jour_mois_annee and "/" in texte:
            return datetime.strptime(texte, "%d/%m/%Y").date()
        return date.fromisoformat(texte)
    except ValueError:
        raise ProblemeChamp(
            CodeRejet.DATE_INVALIDE,
            f"FINESS {finess} : date {texte!r} ({champ}) invalide, AAAA-MM-JJ attendu",
            champ=champ,
            valeur=texte,
        ) from None


class EnsembleFiness:
    """Set of valid FINESS numbers with a memory bounded by the numbering, not by the file.

    A valid FINESS is a 2-character prefix, 6 digits and a check key that the 8 first characters
    determine, so one bit per (prefix, 6 digits) is enough: 125 kB per prefix seen, about 13 MB at
    most for the whole of France, however many records a file has. A Python set of 275 000
    strings would grow with the file, which is what the streaming parsers must not do.
    """

    __slots__ = ("_bits",)

    def __init__(self) -> None:
        self._bits: dict[str, bytearray] = {}

    def ajouter(self, finess: str) -> bool:
        """Add a FINESS already checked by `controler_finess`; False when it was there already."""
        bits = self._bits.get(finess[:2])
        if bits is None:
            bits = self._bits[finess[:2]] = bytearray(1_000_000 // 8)
        rang = int(finess[2:8])
        octet, masque = rang >> 3, 1 << (rang & 7)
        if bits[octet] & masque:
            return False
        bits[octet] |= masque
        return True

    def __contains__(self, finess: object) -> bool:
        # The bit stands for the 8 first characters: a different 9th one is another (invalid) number.
        if (
            not isinstance(finess, str)
            or not _FORMAT_FINESS.fullmatch(finess)
            or not cle_finess_valide(finess)
        ):
            return False
        bits = self._bits.get(finess[:2])
        if bits is None:
            return False
        rang = int(finess[2:8])
        return bool(bits[rang >> 3] & (1 << (rang & 7)))

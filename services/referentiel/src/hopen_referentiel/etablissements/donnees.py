"""Loading of the referentiel's data files (services/referentiel/data) into rule tables.

File I/O lives here so that `rules` stays pure. The data folder is found from this file's
location: in the uv workspace the package is installed in editable mode, so `__file__` is in
the work tree and `parents[3]` is `services/referentiel`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from hopen_common.region import REGIONS
from hopen_referentiel.etablissements.rules import (
    CriteresEligibilitePhase1,
    Departement,
    DonneesIncoherentes,
    Etablissement,
    NiveauFiness,
    RoleGht,
    Secteur,
    TableGeographique,
    TerritoireExclu,
)

REPERTOIRE_DONNEES = Path(__file__).resolve().parents[3] / "data"


def _lignes(chemin: Path) -> Iterator[dict[str, str]]:
    # `#` lines are provenance comments (category nomenclature); they come before the header.
    with chemin.open(encoding="utf-8", newline="") as fichier:
        utiles = (ligne for ligne in fichier if not ligne.startswith("#"))
        yield from csv.DictReader(utiles, delimiter=";")


def _repertoire(repertoire: Path | None) -> Path:
    return REPERTOIRE_DONNEES if repertoire is None else repertoire


# Cached tables are shared: they are typed as read-only Mappings so callers don't mutate them.


@cache
def table_secteurs(repertoire: Path | None = None) -> Mapping[str, Secteur]:
    chemin = _repertoire(repertoire) / "programme" / "secteurs.csv"
    return {ligne["statut_juridique"]: Secteur(ligne["secteur"]) for ligne in _lignes(chemin)}


@cache
def table_geographique(repertoire: Path | None = None) -> TableGeographique:
    base = _repertoire(repertoire) / "geo"
    departements = {
        ligne["code_finess"]: Departement(
            ligne["code_finess"], ligne["code_insee"], ligne["libelle"], ligne["code_region"]
        )
        for ligne in _lignes(base / "departements.csv")
    }
    exclus = {
        ligne["code"]: TerritoireExclu(ligne["code"], ligne["libelle"], ligne["motif"])
        for ligne in _lignes(base / "territoires_hors_perimetre.csv")
    }
    # The regions are the kernel's list (hopen_common/data/regions.csv): one copy for the platform.
    return TableGeographique(REGIONS, departements, exclus)


@cache
def categories_connues(repertoire: Path | None = None) -> frozenset[str]:
    """Every catégorie code of the FINESS nomenclature (TRE_R66, open and closed)."""
    chemin = _repertoire(repertoire) / "finess" / "nomenclature_categorie_etablissement.csv"
    return frozenset(ligne["code"] for ligne in _lignes(chemin))


@cache
def table_agregats(repertoire: Path | None = None) -> Mapping[str, str]:
    """catégorie -> agrégat for the HOP'EN-relevant sanitary catégories."""
    chemin = _repertoire(repertoire) / "finess" / "hopen_categories_sanitaires.csv"
    return {ligne["categetab"]: ligne["categagretab"] for ligne in _lignes(chemin)}


@cache
def criteres_phase1(repertoire: Path | None = None) -> CriteresEligibilitePhase1:
    chemin = _repertoire(repertoire) / "programme" / "eligibilite_phase1.csv"
    listes: dict[str, set[str]] = {"agregat_ej": set(), "categorie_eg": set()}
    for ligne in _lignes(chemin):
        if ligne["critere"] not in listes:
            raise DonneesIncoherentes(f"{chemin.name} : critere inconnu {ligne['critere']!r}")
        listes[ligne["critere"]].add(ligne["code"])
    return CriteresEligibilitePhase1(frozenset(listes["agregat_ej"]), frozenset(listes["categorie_eg"]))


@cache
def categories_dialyse(repertoire: Path | None = None) -> frozenset[str]:
    chemin = _repertoire(repertoire) / "programme" / "categories_dialyse.csv"
    return frozenset(ligne["categorie"] for ligne in _lignes(chemin))


@cache
def exceptions_finess_pmsi(repertoire: Path | None = None) -> Mapping[str, NiveauFiness]:
    chemin = _repertoire(repertoire) / "programme" / "exceptions_finess_pmsi.csv"
    return {ligne["finess_ej"]: NiveauFiness(ligne["niveau_pmsi"]) for ligne in _lignes(chemin)}


def _decimal(valeur: str, chemin: Path, finess: str) -> Decimal | None:
    if not valeur:
        return None
    try:
        return Decimal(valeur)
    except InvalidOperation:
        raise DonneesIncoherentes(f"{chemin.name} {finess} : nombre invalide {valeur!r}") from None


def lire_etablissements(chemin: Path) -> list[Etablissement]:
    """Read an establishments file in the demo format (no validation beyond parsing)."""
    resultat: list[Etablissement] = []
    for ligne in _lignes(chemin):
        finess = ligne["finess_eg"]
        effectifs = ligne["effectifs_sae_2024"]
        resultat.append(
            Etablissement(
                finess_eg=finess,
                finess_ej=ligne["finess_ej"],
                raison_sociale=ligne["raison_sociale"],
                statut_juridique=ligne["statut_juridique"],
                categorie=ligne["categorie"],
                agregat_categorie=ligne["agregat_categorie"],
                departement=ligne["departement"],
                region=ligne["region"],
                ght_code=ligne["ght_code"] or None,
                ght_role=RoleGht(ligne["ght_role"]) if ligne["ght_role"] else None,
                activite_combinee_2022=_decimal(ligne["activite_combinee_2022"], chemin, finess),
                effectifs_sae_2024=int(effectifs) if effectifs else None,
                domaines_sun_es=tuple(d.strip() for d in ligne["domaines_sun_es"].split(",") if d.strip()),
                ferme=ligne["ferme"] == "1",
            )
        )
    return resultat


def etablissements_demo(repertoire: Path | None = None) -> list[Etablissement]:
    return lire_etablissements(_repertoire(repertoire) / "demo" / "etablissements.csv")

"""Reference tables the import checks need, bundled so a parser gets one argument.

The geographic, secteur and agregat tables come from `etablissements.donnees`; the import adds
the tables only it needs, read from the same data folder:

- `finess/nomenclature_categorie_etablissement_tre_r66.csv`: the full TRE_R66 (322 codes). The
  274-code file `donnees.categories_connues` reads misses 48 codes still carried by real records
  (405, 359, 608... 216 EG of the real FINESS+ sample), which would be wrongful rejections;
- `finess/nomenclature_type_gcc.csv`: TRE_R371, which `typeGcc` values are GHT;
- `programme/ponderations_activite_combinee.csv`: the weights of domain 2.3;
- `programme/domaines_sun_es.csv`: the SUN-ES domain codes a base eligible file may name.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from hopen_referentiel.etablissements import donnees
from hopen_referentiel.etablissements.rules import Departement, Secteur, TableGeographique


@dataclass(frozen=True)
class TablesImport:
    geographie: TableGeographique
    departements_par_code_insee: Mapping[str, Departement]
    categories: frozenset[str]
    statuts_juridiques: frozenset[str]
    secteurs: Mapping[str, Secteur]
    agregats: Mapping[str, str]  # categorie -> agregat (HOP'EN sanitary categories only)
    types_gcc_ght: frozenset[str]
    types_gcc: frozenset[str]
    ponderations_activite: Mapping[str, Decimal]
    domaines_sun_es: frozenset[str]


def _lignes(chemin: Path) -> Iterator[dict[str, str]]:
    with chemin.open(encoding="utf-8", newline="") as fichier:
        yield from csv.DictReader((ligne for ligne in fichier if not ligne.startswith("#")), delimiter=";")


@cache
def tables_import(repertoire: Path | None = None) -> TablesImport:
    """Load every table from the referentiel's data folder (or `repertoire`, for tests)."""
    racine = donnees.REPERTOIRE_DONNEES if repertoire is None else repertoire
    geographie = donnees.table_geographique(repertoire)
    types_gcc = list(_lignes(racine / "finess" / "nomenclature_type_gcc.csv"))
    return TablesImport(
        geographie=geographie,
        departements_par_code_insee={d.code_insee: d for d in geographie.departements.values()},
        categories=frozenset(
            ligne["code"]
            for ligne in _lignes(racine / "finess" / "nomenclature_categorie_etablissement_tre_r66.csv")
        ),
        statuts_juridiques=frozenset(
            ligne["code"] for ligne in _lignes(racine / "finess" / "nomenclature_statut_juridique.csv")
        ),
        secteurs=donnees.table_secteurs(repertoire),
        agregats=donnees.table_agregats(repertoire),
        types_gcc_ght=frozenset(ligne["code"] for ligne in types_gcc if ligne["est_ght"] == "oui"),
        types_gcc=frozenset(ligne["code"] for ligne in types_gcc),
        ponderations_activite={
            ligne["composante"]: Decimal(ligne["poids"])
            for ligne in _lignes(racine / "programme" / "ponderations_activite_combinee.csv")
        },
        domaines_sun_es=frozenset(
            ligne["domaine"] for ligne in _lignes(racine / "programme" / "domaines_sun_es.csv")
        ),
    )

"""Generate a national-size FINESS+ structures file (and optionally the etalab CSV) for benchmarks.

The records are shaped on the real sample (services/referentiel/tests/fixtures/finess/): every
generated `pmej`/`ege` reuses the contact, engagement and event lists of a real record, so the
file weighs what the ministry's does per record, and the mix of statuts juridiques and
categories is drawn from real EJ "profiles" (statut + the categories of its EG): 70 % from the
FINESS+ sample (social and medico-social heavy, like the whole FINESS), 30 % from DREES SAE 2023
(health establishments). Numbers are unique per departement with valid check keys; a few GHT
link public EJ. The output is deterministic for a given seed (gzip mtime fixed to 0).

    .venv/bin/python bench/generer_finess_national.py --sortie .hopen/bench/finess-national.json.gz \
        --etalab .hopen/bench/etalab-national.csv

Defaults are the national volumes (FINESS+ feed of 2026-09: ~98 000 EJ, ~175 000 EG).
`--taux-anomalies` corrupts a share of the EG (bad key, unknown categorie, out-of-scope commune,
duplicate) to exercise the rejections; 0 by default.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import sys
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from hopen_common.finess import cle_finess_valide
from hopen_referentiel.etablissements.donnees import REPERTOIRE_DONNEES

RACINE = Path(__file__).resolve().parents[1]
FIXTURES = RACINE / "services" / "referentiel" / "tests" / "fixtures"
ECHANTILLON = FIXTURES / "finess" / "finess-structures-echantillon_json.gz"
SAE = FIXTURES / "sae" / "ID_2023r.csv"

# FINESS number prefix of each departement (domain 2: overseas numbers start 9701..9704, 9805).
_PREFIXE_OUTRE_MER = {"9A": "9701", "9B": "9702", "9C": "9703", "9D": "9704", "9F": "9805"}
_STATUTS_PUBLICS = {"01", "10", "11", "12", "13", "14", "15", "29"}
_ANOMALIES = ("cle", "categorie", "territoire", "doublon")


@dataclass
class Statistiques:
    ej: int = 0
    eg: int = 0
    eg_fermes: int = 0
    ght: int = 0
    anomalies: Counter[str] = field(default_factory=Counter)


def _avec_cle(corps: str) -> str:
    for cle in "0123456789":
        if cle_finess_valide(corps + cle):
            return corps + cle
    raise AssertionError(f"aucune cle pour {corps}")  # Luhn always has exactly one


class _Numeroteur:
    """Unique FINESS numbers per departement, in FINESS coding (`2A`, `9A`)."""

    def __init__(self) -> None:
        self._compteurs: Counter[str] = Counter()

    def suivant(self, departement: str) -> str:
        prefixe = _PREFIXE_OUTRE_MER.get(departement, departement)
        self._compteurs[prefixe] += 1
        rang = self._compteurs[prefixe]
        largeur = 8 - len(prefixe)
        if rang >= 10**largeur:
            raise ValueError(f"plus de numeros disponibles pour le prefixe {prefixe}")
        return _avec_cle(f"{prefixe}{rang:0{largeur}d}")


def _departements() -> list[tuple[str, str]]:
    """(FINESS code, INSEE code) of the 101 departements."""
    with (REPERTOIRE_DONNEES / "geo" / "departements.csv").open(encoding="utf-8", newline="") as fichier:
        return [
            (ligne["code_finess"], ligne["code_insee"]) for ligne in csv.DictReader(fichier, delimiter=";")
        ]


def _commune(hasard: random.Random, code_insee: str) -> str:
    return code_insee + f"{hasard.randrange(1, 10 ** (5 - len(code_insee))):0{5 - len(code_insee)}d}"


@dataclass
class _Modeles:
    entites: list[dict[str, Any]]
    etablissements: list[dict[str, Any]]
    profils: list[tuple[str, list[str]]]  # (statut, categories of its EG)
    poids_profils: list[float]


def _sanitaire(profil: tuple[str, list[str]], secteurs: Collection[str], categories: Collection[str]) -> bool:
    """In the programme's perimeter: a statut of its secteurs and a HOP'EN sanitary catégorie."""
    statut, categories_eg = profil
    return statut in secteurs and any(c in categories for c in categories_eg)


def _charger_modeles(part_sanitaire: float | None = None) -> _Modeles:
    document = json.loads(gzip.decompress(ECHANTILLON.read_bytes()))
    entites = list(document["pmej"])
    # A record with 150 addresses exists; keep the templates to ordinary ones.
    etablissements = [e for p in entites for e in (p.get("ege") or []) if len(e["adresse"]) <= 6]
    profils_echantillon = [
        (
            p["informationsGeneralesPMEJ"]["statutJuridique"],
            [e["categorieentiteGeographiqueExercice"] for e in p["ege"]],
        )
        for p in entites
        if p.get("ege")
    ]
    profils_sae: dict[str, tuple[str, list[str]]] = {}
    with SAE.open(encoding="iso-8859-1", newline="") as fichier:
        for ligne in csv.DictReader(fichier, delimiter=";"):
            if ligne["cat"] != "999":
                profils_sae.setdefault(ligne["fi_ej"], (ligne["stj"], []))[1].append(ligne["cat"])
    profils = profils_echantillon + list(profils_sae.values())
    poids = [0.7 / len(profils_echantillon)] * len(profils_echantillon) + [0.3 / len(profils_sae)] * len(
        profils_sae
    )
    if part_sanitaire is not None:
        # Share of EJ in the programme's perimeter set explicitly: the 70/30 mix above makes more
        # than half of the EJ sanitary, while the real FINESS has ~2 % (SAE 2023: 2 176 EJ of
        # health establishments, out of ~98 000 EJ).
        with (REPERTOIRE_DONNEES / "programme" / "secteurs.csv").open(encoding="utf-8") as fichier:
            secteurs = {ligne["statut_juridique"] for ligne in csv.DictReader(fichier, delimiter=";")}
        chemin = REPERTOIRE_DONNEES / "finess" / "hopen_categories_sanitaires.csv"
        with chemin.open(encoding="utf-8") as fichier:
            categories = {ligne["categetab"] for ligne in csv.DictReader(fichier, delimiter=";")}
        sanitaires = [_sanitaire(p, secteurs, categories) for p in profils]
        n_san = sum(sanitaires)
        autres = len(profils) - n_san
        poids = [part_sanitaire / n_san if s else (1 - part_sanitaire) / autres for s in sanitaires]
    return _Modeles(entites, etablissements, profils, poids)


def _date(hasard: random.Random, debut: int, fin: int) -> str:
    return f"{hasard.randint(debut, fin)}-{hasard.randint(1, 12):02d}-{hasard.randint(1, 28):02d}"


def _adresses(modele: list[dict[str, Any]], commune: str) -> list[dict[str, Any]]:
    return [{**adresse, "cogCommune": commune, "codePostal": commune} for adresse in modele]


class _Generateur:
    def __init__(
        self,
        graine: int,
        nb_ej: int,
        nb_eg: int,
        nb_ght: int,
        taux_anomalies: float,
        departements: Collection[str] | None,
        part_sanitaire: float | None = None,
    ) -> None:
        self.hasard = random.Random(graine)
        self.modeles = _charger_modeles(part_sanitaire)
        self.departements = [d for d in _departements() if departements is None or d[0] in departements]
        self.numeros = _Numeroteur()
        self.nb_ej, self.nb_eg, self.nb_ght = nb_ej, nb_eg, nb_ght
        self.taux_anomalies = taux_anomalies
        self.statistiques = Statistiques()
        self.dernier_eg: str | None = None

    def plan(self) -> tuple[list[int], list[int], list[tuple[str, list[str]]]]:
        """Profile of each EJ, number of EG of each EJ (at least one, groups have more)."""
        hasard = self.hasard
        profils = hasard.choices(range(len(self.modeles.profils)), self.modeles.poids_profils, k=self.nb_ej)
        repartition = [1] * self.nb_ej if self.nb_eg >= self.nb_ej else [0] * self.nb_ej
        reste = self.nb_eg - sum(repartition)
        groupes = max(1, self.nb_ej // 5)  # a fifth of the EJ run several establishments
        for rang in hasard.choices(range(groupes), k=reste):
            repartition[rang] += 1
        return profils, repartition, [self.modeles.profils[p] for p in profils]

    def ght(self, statuts: list[str]) -> list[dict[str, Any]]:
        publics = [rang for rang, statut in enumerate(statuts) if statut in _STATUTS_PUBLICS]
        self.hasard.shuffle(publics)
        groupements = []
        for numero in range(1, self.nb_ght + 1):
            taille = self.hasard.randint(4, 13)
            if len(publics) < taille:
                break
            membres, publics = publics[:taille], publics[taille:]
            groupements.append(
                {
                    "gccId": str(numero),
                    "nomGcc": f"GHT GENERE {numero}",
                    "typeGcc": "001",
                    "numFinessGcc": f"{49800000000 + numero}",
                    "engagement": [],
                    "evenement": [],
                    "pmejDuGcc": [
                        {"pmSmsseId": str(rang + 1), "typeRoleEntiteGroupe": "S" if position == 0 else "M"}
                        for position, rang in enumerate(membres)
                    ],
                    "egeDuGcc": [],
                    "etatObjet": "A",
                    "dateDerniereMaj": "2026-07-07 00:00:00",
                }
            )
        self.statistiques.ght = len(groupements)
        return groupements

    def entite(self, rang: int, statut: str) -> tuple[dict[str, Any], str, str]:
        hasard = self.hasard
        modele = hasard.choice(self.modeles.entites)
        departement, code_insee = hasard.choice(self.departements)
        finess = self.numeros.suivant(departement)
        ferme = hasard.random() < 0.1
        infos = {
            **modele["informationsGeneralesPMEJ"],
            "pmSmsseId": str(rang + 1),
            "numFinessPm": finess,
            "statutJuridique": statut,
            "denominationPm": f"ENTITE {finess}",
            "denominationLonguePmSmsse": f"ENTITE JURIDIQUE GENEREE {finess}",
            "dateCreation": _date(hasard, 1960, 2020),
            "dateFermeture": _date(hasard, 2021, 2026) if ferme else None,
            "siren": f"{hasard.randrange(10**8, 10**9)}",
        }
        entite = {
            **modele,
            "informationsGeneralesPMEJ": infos,
            "adresse": _adresses(modele["adresse"], _commune(hasard, code_insee)),
            "etatObjet": "I" if ferme else "A",
        }
        self.statistiques.ej += 1
        return entite, departement, code_insee

    def etablissement(
        self, categorie: str, departement: str, code_insee: str, ej_fermee: bool
    ) -> dict[str, Any]:
        hasard = self.hasard
        modele = hasard.choice(self.modeles.etablissements)
        # Most EG are in their EJ's departement; some (networks, groups) elsewhere.
        if hasard.random() < 0.2:
            departement, code_insee = hasard.choice(self.departements)
        finess = self.numeros.suivant(departement)
        commune = _commune(hasard, code_insee)
        anomalie = hasard.choice(_ANOMALIES) if hasard.random() < self.taux_anomalies else None
        if anomalie == "cle":
            finess = finess[:8] + str((int(finess[8]) + 1) % 10)
        elif anomalie == "categorie":
            categorie = "998"
        elif anomalie == "territoire":
            commune = "98735"
        elif anomalie == "doublon" and self.dernier_eg is not None:
            finess = self.dernier_eg
        else:
            anomalie = None
        if anomalie:
            self.statistiques.anomalies[anomalie] += 1
        ferme = ej_fermee or hasard.random() < 0.35
        infos = {
            **modele["informationsGeneralesEGE"],
            "egeId": str(self.statistiques.eg + 1),
            "numFinessEge": finess,
            "nomEgeCourt": f"ETAB {finess}",
            "nomEgeLong": f"ETABLISSEMENT GENERE {finess}",
            "dateOuverture": _date(hasard, 1950, 2020),
            "dateFermeture": _date(hasard, 2021, 2026) if ferme else None,
        }
        self.statistiques.eg += 1
        self.statistiques.eg_fermes += ferme
        self.dernier_eg = finess
        return {
            **modele,
            "informationsGeneralesEGE": infos,
            "categorieentiteGeographiqueExercice": categorie,
            "adresse": _adresses(modele["adresse"], commune),
            "etatObjet": "I" if ferme else "A",
        }


_CHAMPS_ETALAB = 32


def _ligne_etalab(etablissement: dict[str, Any], finess_ej: str, departement_finess: str) -> str:
    infos = etablissement["informationsGeneralesEGE"]
    commune = next(a["cogCommune"] for a in etablissement["adresse"] if a["usageAdresse"] == "03")
    champs = [""] * _CHAMPS_ETALAB
    champs[0:5] = ["structureet", infos["numFinessEge"], finess_ej, infos["nomEgeCourt"], infos["nomEgeLong"]]
    champs[12] = commune[-3:]
    champs[13] = departement_finess
    champs[18] = etablissement["categorieentiteGeographiqueExercice"]
    champs[22] = infos.get("siret") or ""
    champs[28] = infos["dateOuverture"]
    champs[30] = "2026-07-07"
    return ";".join(champs)


def generer(
    sortie: Path,
    *,
    nb_ej: int = 98_000,
    nb_eg: int = 175_000,
    nb_ght: int = 40,
    graine: int = 2026,
    sortie_etalab: Path | None = None,
    taux_anomalies: float = 0.0,
    departements: Collection[str] | None = None,
    avancer: Callable[[int], None] | None = None,
    part_sanitaire: float | None = None,
) -> Statistiques:
    """Write the FINESS+ file (and the etalab CSV); `avancer(n)` is told each EJ written.

    `departements` (FINESS codes) restricts where records are placed; all 101 by default.
    `part_sanitaire` sets the share of EJ in the programme's perimeter (0.022 is the real one).
    """
    generateur = _Generateur(graine, nb_ej, nb_eg, nb_ght, taux_anomalies, departements, part_sanitaire)
    _, repartition, profils = generateur.plan()
    statuts = [statut for statut, _ in profils]
    departements_finess = {code_insee: code for code, code_insee in generateur.departements}
    sortie.parent.mkdir(parents=True, exist_ok=True)
    etalab = None
    if sortie_etalab is not None:
        sortie_etalab.parent.mkdir(parents=True, exist_ok=True)
        etalab = sortie_etalab.open("w", encoding="cp1252", errors="replace", newline="\n")
        etalab.write("finess;etalab;95;2026-07-07\n")
    geolocalisations: list[str] = []
    with (
        sortie.open("wb") as brut,
        gzip.GzipFile(filename="", fileobj=brut, mode="wb", mtime=0, compresslevel=6) as compresse,
    ):
        texte = io.TextIOWrapper(compresse, encoding="utf-8")
        texte.write('{"schemaVersion": "v1.0.0", "generatedAt": "2026-08-13T02:07:30Z", "gco": [], "gcc": ')
        texte.write(json.dumps(generateur.ght(statuts), ensure_ascii=False))
        texte.write(', "pmej": [')
        for rang, (statut, categories) in enumerate(profils):
            entite, departement, code_insee = generateur.entite(rang, statut)
            ej_fermee = entite["etatObjet"] == "I"
            etablissements = []
            for _ in range(repartition[rang]):
                etablissement = generateur.etablissement(
                    generateur.hasard.choice(categories), departement, code_insee, ej_fermee
                )
                etablissements.append(etablissement)
                if etalab is not None:
                    commune = etablissement["adresse"][0]["cogCommune"]
                    insee = commune[:3] if commune[:2] in ("97", "98") else commune[:2]
                    etalab.write(
                        _ligne_etalab(
                            etablissement,
                            entite["informationsGeneralesPMEJ"]["numFinessPm"],
                            departements_finess.get(insee, "9Z"),
                        )
                        + "\n"
                    )
                    geolocalisations.append(etablissement["informationsGeneralesEGE"]["numFinessEge"])
            entite["ege"] = etablissements
            if rang:
                texte.write(", ")
            texte.write(json.dumps(entite, ensure_ascii=False))
            if avancer is not None:
                avancer(1)
        texte.write("]}")
        texte.flush()
        texte.detach()
    if etalab is not None:
        for finess in geolocalisations:
            etalab.write(
                f"geolocalisation;{finess};882408.3;6543019.6;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93;2026-07-07\n"
            )
        etalab.close()
    return generateur.statistiques


def main(arguments: list[str] | None = None) -> int:
    analyseur = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    analyseur.add_argument(
        "--sortie", type=Path, default=RACINE / ".hopen" / "bench" / "finess-national.json.gz"
    )
    analyseur.add_argument("--etalab", type=Path, default=None, help="also write the etalab CSV here")
    analyseur.add_argument("--ej", type=int, default=98_000)
    analyseur.add_argument("--eg", type=int, default=175_000)
    analyseur.add_argument("--ght", type=int, default=40)
    analyseur.add_argument("--graine", type=int, default=2026)
    analyseur.add_argument("--taux-anomalies", type=float, default=0.0)
    analyseur.add_argument(
        "--part-sanitaire", type=float, default=None,
        help="share of EJ in the programme's perimeter (real FINESS: 0.022); default: the 70/30 mix",
    )
    options = analyseur.parse_args(arguments)
    colonnes = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*colonnes) as progression:
        tache = progression.add_task("EJ ecrites", total=options.ej)
        statistiques = generer(
            options.sortie,
            nb_ej=options.ej,
            nb_eg=options.eg,
            nb_ght=options.ght,
            graine=options.graine,
            sortie_etalab=options.etalab,
            taux_anomalies=options.taux_anomalies,
            avancer=lambda n: progression.advance(tache, n),
            part_sanitaire=options.part_sanitaire,
        )
    print(
        f"{options.sortie}: {statistiques.ej} EJ, {statistiques.eg} EG ({statistiques.eg_fermes} fermes), "
        f"{statistiques.ght} GHT, anomalies {dict(statistiques.anomalies)}, "
        f"{options.sortie.stat().st_size / 1e6:.1f} Mo"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

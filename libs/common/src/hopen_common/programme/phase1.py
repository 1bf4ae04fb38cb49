"""Phase-1 programme data (instruction DNS/2024/123): typed, immutable, loaded from a versioned file.

Every number (targets, tariff table, amorcage rate, calendar) lives in
`data/phase1_v<version>.json`; this module only parses and checks it, so a new
version of the programme is a new data file, not a code change. Once loaded the
objects are frozen and every function here is pure.

SUN-ES reading (domain.md 3.1, ADR 0007): annex 1 of the instruction gives the
SUN-ES equivalence per *indicator* row (P1.O2.a <-> DS1.1, P1.O2.b <-> DS1.2, ...),
so each indicator takes its SUN-ES target when the ES reached that indicator's own
domain. `IndicateurPhase1.cible_sun_es_applicable` is the one place that rule is
written; every target chosen for an ES goes through it (`IndicateurPhase1.cible`).
`ObjectifPhase1.domaines_sun_es` only lists the domains an objective's indicators
name; it never chooses a target (an ES with DS1.1 alone gets 70 % on P1.O2.a and
50 % on P1.O2.b).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from hopen_common.programme.erreurs import RegleMetierError

__all__ = [
    "CalendrierPhase1",
    "Fourchette",
    "IndicateurPhase1",
    "ObjectifPhase1",
    "ProgrammePhase1",
    "Tranche",
    "charger_programme_phase1",
    "lire_donnees",
    "taux_atteint",
    "versions_disponibles",
]

_PAQUET = "hopen_common.programme"
_VERSION = re.compile(r"^\d+(\.\d+)*$")


class DonneesProgrammeInvalides(ValueError):
    """The shipped data file is inconsistent: a packaging/authoring bug, never a user error."""


# --- shared reading helpers (also used by hospiconnect.py) -------------------------------------

def _cle_version(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def versions_disponibles(prefixe: str) -> list[str]:
    """Versions shipped for `prefixe` (e.g. "phase1"), oldest first (numeric order: 2024.10 > 2024.9)."""
    dossier = resources.files(_PAQUET).joinpath("data")
    versions = []
    for entree in dossier.iterdir():
        nom = entree.name
        if nom.startswith(f"{prefixe}_v") and nom.endswith(".json"):
            version = nom[len(prefixe) + 2 : -len(".json")]
            if _VERSION.match(version):
                versions.append(version)
    return sorted(versions, key=_cle_version)


def lire_donnees(prefixe: str, version: str | None) -> dict[str, Any]:
    """Raw JSON of one data file; `version=None` means the latest shipped."""
    versions = versions_disponibles(prefixe)
    if not versions:
        raise DonneesProgrammeInvalides(f"aucun fichier de données {prefixe}_v*.json n'est installé")
    choisie = versions[-1] if version is None else version
    if choisie not in versions:
        raise RegleMetierError(
            f"version de programme {choisie!r} inconnue pour {prefixe} (disponibles : {', '.join(versions)})",
            "version",
        )
    texte = resources.files(_PAQUET).joinpath("data", f"{prefixe}_v{choisie}.json").read_text("utf-8")
    # parse_float keeps any stray JSON number exact; the files write numbers as strings anyway.
    donnees: dict[str, Any] = json.loads(texte, parse_float=Decimal)
    if donnees.get("version") != choisie:
        raise DonneesProgrammeInvalides(
            f"{prefixe}_v{choisie}.json déclare la version {donnees.get('version')!r}")
    return donnees


def decimal_exact(valeur: object, ou: str) -> Decimal:
    """A finite Decimal from a data-file string; floats are refused so no binary rounding sneaks in."""
    if not isinstance(valeur, str | int | Decimal) or isinstance(valeur, bool):
        raise DonneesProgrammeInvalides(f"{ou} : nombre attendu sous forme de chaîne, reçu {valeur!r}")
    try:
        resultat = Decimal(valeur)
    except InvalidOperation as exc:
        raise DonneesProgrammeInvalides(f"{ou} : {valeur!r} n'est pas un décimal") from exc
    if not resultat.is_finite():
        raise DonneesProgrammeInvalides(f"{ou} : {valeur!r} n'est pas fini")
    return resultat


def date_iso(valeur: object, ou: str) -> date:
    if not isinstance(valeur, str):
        raise DonneesProgrammeInvalides(f"{ou} : date ISO attendue, reçu {valeur!r}")
    return date.fromisoformat(valeur)


# --- model -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IndicateurPhase1:
    id: str
    libelle: str
    cible_sun_es: Decimal
    cible_autres: Decimal
    domaine_sun_es: str | None  # None: no SUN-ES domain entitles an ES to cible_sun_es
    # Why domaine_sun_es is None, from annex 1's equivalence column ("Nouvel objectif", "Changement
    # d'indicateur"); None in files that predate the field (2024.1).
    motif_sans_domaine_sun_es: str | None = None

    def cible_sun_es_applicable(self, domaines_sun_es_atteints: Iterable[str]) -> bool:
        """The SUN-ES target rule (domain.md 3.1): this indicator's own equivalent domain was reached.

        Per indicator, never per objective: annex 1 gives the equivalence row by row."""
        return self.domaine_sun_es is not None and self.domaine_sun_es in set(domaines_sun_es_atteints)

    def cible(self, domaines_sun_es_atteints: Iterable[str]) -> Decimal:
        """Target of this indicator for an ES, given the SUN-ES domains it reached."""
        if self.cible_sun_es_applicable(domaines_sun_es_atteints):
            return self.cible_sun_es
        return self.cible_autres


@dataclass(frozen=True)
class Fourchette:
    """Forfait bounds of one (objective, tranche), in euros."""

    minimum: Decimal
    maximum: Decimal


@dataclass(frozen=True)
class ObjectifPhase1:
    id: str
    libelle: str
    indicateurs: tuple[IndicateurPhase1, ...]
    # Union of the indicators' domains, in indicator order: descriptive only, never a target choice.
    domaines_sun_es: tuple[str, ...]
    bareme: Mapping[str, Fourchette]  # tranche letter -> bounds


@dataclass(frozen=True)
class Tranche:
    lettre: str
    borne_inferieure: Decimal  # activite combinee, inclusive


@dataclass(frozen=True)
class CalendrierPhase1:
    candidature_debut: date
    candidature_fin: date  # inclusive
    fin_instruction: date  # inclusive
    fin_mesure_indicateurs: date  # inclusive


@dataclass(frozen=True)
class ProgrammePhase1:
    version: str
    reference: str  # source instruction
    objectifs: Mapping[str, ObjectifPhase1]  # read-only, in P1.O1..P1.O8 order
    tranches: tuple[Tranche, ...]  # ascending lower bounds, the first is 0
    taux_amorcage: Decimal
    calendrier: CalendrierPhase1

    def objectif(self, objectif_id: str) -> ObjectifPhase1:
        """The objective, or a domain error naming the unknown id."""
        try:
            return self.objectifs[objectif_id]
        except KeyError:
            raise RegleMetierError(
                f"objectif inconnu : {objectif_id!r} (programme phase 1 v{self.version})", "objectif"
            ) from None


# --- parsing -----------------------------------------------------------------------------------

def _construire(donnees: Mapping[str, Any]) -> ProgrammePhase1:
    version = str(donnees["version"])
    tranches = tuple(
        Tranche(str(t["lettre"]), decimal_exact(t["borne_inferieure"], f"tranches[{i}]"))
        for i, t in enumerate(donnees["tranches"])
    )
    if not tranches or tranches[0].borne_inferieure != 0:
        raise DonneesProgrammeInvalides("la première tranche doit commencer à 0")
    for avant, apres in zip(tranches, tranches[1:], strict=False):
        if apres.borne_inferieure <= avant.borne_inferieure:
            raise DonneesProgrammeInvalides(f"tranches non croissantes : {avant.lettre} puis {apres.lettre}")
    lettres = [t.lettre for t in tranches]

    bareme_brut: Mapping[str, Any] = donnees["bareme_euros"]
    objectifs: dict[str, ObjectifPhase1] = {}
    for o in donnees["objectifs"]:
        oid = str(o["id"])
        if oid in objectifs:
            raise DonneesProgrammeInvalides(f"objectif {oid} en double")
        indicateurs = tuple(
            IndicateurPhase1(
                id=str(i["id"]),
                libelle=str(i["libelle"]),
                cible_sun_es=decimal_exact(i["cible_sun_es"], f"{i['id']}.cible_sun_es"),
                cible_autres=decimal_exact(i["cible_autres"], f"{i['id']}.cible_autres"),
                domaine_sun_es=None if i.get("domaine_sun_es") is None else str(i["domaine_sun_es"]),
                motif_sans_domaine_sun_es=(None if i.get("motif_sans_domaine_sun_es") is None
                                           else str(i["motif_sans_domaine_sun_es"])),
            )
            for i in o["indicateurs"]
        )
        if not indicateurs:
            raise DonneesProgrammeInvalides(f"{oid} sans indicateur")
        for ind in indicateurs:
            if not ind.id.startswith(oid + "."):
                raise DonneesProgrammeInvalides(f"l'indicateur {ind.id} n'appartient pas à {oid}")
            if ind.domaine_sun_es is not None and ind.motif_sans_domaine_sun_es is not None:
                # A reason for having no domain next to a domain: the file says two things.
                raise DonneesProgrammeInvalides(
                    f"{ind.id} : domaine_sun_es {ind.domaine_sun_es} et motif_sans_domaine_sun_es à la fois")
            for cible in (ind.cible_sun_es, ind.cible_autres):
                if not 0 <= cible <= 1:
                    raise DonneesProgrammeInvalides(f"{ind.id} : cible {cible} hors de [0, 1]")
        if oid not in bareme_brut or sorted(bareme_brut[oid]) != sorted(lettres):
            raise DonneesProgrammeInvalides(
                f"barème de {oid} : une fourchette par tranche {lettres} attendue")
        bareme = {
            lettre: Fourchette(
                decimal_exact(bareme_brut[oid][lettre][0], f"{oid}.{lettre}.min"),
                decimal_exact(bareme_brut[oid][lettre][1], f"{oid}.{lettre}.max"),
            )
            for lettre in lettres
        }
        _verifier_continuite(oid, lettres, bareme)
        domaines = tuple(dict.fromkeys(i.domaine_sun_es for i in indicateurs if i.domaine_sun_es))
        objectifs[oid] = ObjectifPhase1(
            oid, str(o["libelle"]), indicateurs, domaines, MappingProxyType(bareme))
    inconnus = set(bareme_brut) - set(objectifs)
    if inconnus:
        raise DonneesProgrammeInvalides(f"barème pour des objectifs inconnus : {sorted(inconnus)}")

    taux_amorcage = decimal_exact(donnees["taux_amorcage"], "taux_amorcage")
    if not 0 < taux_amorcage < 1:
        raise DonneesProgrammeInvalides("taux_amorcage hors de ]0, 1[")
    cal = donnees["calendrier"]
    calendrier = CalendrierPhase1(
        candidature_debut=date_iso(cal["candidature_debut"], "candidature_debut"),
        candidature_fin=date_iso(cal["candidature_fin"], "candidature_fin"),
        fin_instruction=date_iso(cal["fin_instruction"], "fin_instruction"),
        fin_mesure_indicateurs=date_iso(cal["fin_mesure_indicateurs"], "fin_mesure_indicateurs"),
    )
    if not (calendrier.candidature_debut <= calendrier.candidature_fin <= calendrier.fin_instruction
            <= calendrier.fin_mesure_indicateurs):
        raise DonneesProgrammeInvalides("calendrier de la phase 1 non chronologique")
    return ProgrammePhase1(
        version=version,
        reference=str(donnees["source"]["reference"]),
        objectifs=MappingProxyType(objectifs),
        tranches=tranches,
        taux_amorcage=taux_amorcage,
        calendrier=calendrier,
    )


def _verifier_continuite(oid: str, lettres: list[str], bareme: Mapping[str, Fourchette]) -> None:
    # The instruction: "le montant maximum de la catégorie N est le montant minimum de la catégorie N+1";
    # the linear formula is only continuous if the data honours it, so refuse a file that does not.
    for lettre in lettres:
        f = bareme[lettre]
        if not 0 <= f.minimum <= f.maximum:
            raise DonneesProgrammeInvalides(f"{oid}.{lettre} : fourchette {f.minimum}-{f.maximum} invalide")
    for avant, apres in zip(lettres, lettres[1:], strict=False):
        if bareme[avant].maximum != bareme[apres].minimum:
            raise DonneesProgrammeInvalides(
                f"{oid} : max de {avant} ({bareme[avant].maximum}) ≠ min de {apres} ({bareme[apres].minimum})"
            )


@cache
def charger_programme_phase1(version: str | None = None) -> ProgrammePhase1:
    """The phase-1 programme of `version` ("2024.1"), the latest shipped when None. Cached: loaded once."""
    if version is None:
        # Resolve first so that None and the explicit latest share one cached object.
        return charger_programme_phase1(versions_disponibles("phase1")[-1])
    return _construire(lire_donnees("phase1", version))


# --- attainment --------------------------------------------------------------------------------

def taux_atteint(numerateur: int, denominateur: int, cible: Decimal) -> bool:
    """numerateur/denominateur >= cible, compared as exact rationals (0.7 is 7/10, never a float)."""
    for nom, valeur in (("numerateur", numerateur), ("denominateur", denominateur)):
        if not isinstance(valeur, int) or isinstance(valeur, bool):
            raise RegleMetierError(f"{nom} doit être un entier", nom)
    if denominateur <= 0:
        raise RegleMetierError("le dénominateur doit être strictement positif", "denominateur")
    if not 0 <= numerateur <= denominateur:
        raise RegleMetierError("le numérateur doit être compris entre 0 et le dénominateur", "numerateur")
    if not isinstance(cible, Decimal) or not cible.is_finite():
        raise RegleMetierError(f"cible invalide : {cible!r}", "cible")
    # Fraction(Decimal) is exact; cross-multiplying integers would be equivalent.
    return Fraction(numerateur, denominateur) >= Fraction(cible)

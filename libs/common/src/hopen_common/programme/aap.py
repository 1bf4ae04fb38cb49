"""AAP programme data (appel à projets, instruction DNS/2025/180 chapter 3, annexes 3 and 5), loaded from
versioned files, and the theoretical maximum of a project.

`data/aap_v<version>.json` holds the themes and their eligibility condition, the participation cap,
the forecast years, the calendar, the payment halves and the theoretical-maximum parameters
(PROVISIONAL: the formula is in the programme guide, which our texts do not include, ADR 0021);
`data/enveloppes_aap_v<version>.json` holds the 18 regional envelopes (the k€ amounts are the truth).
Candidature, instruction, financement and the referentiel all read these files: one copy.

`maximum_theorique` is the one computation of the ceiling: financement (the authority, which engages
the money) and instruction (which refuses the ARS at once, before financement would park the event)
call the same function, so they cannot disagree by a cent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cache
from math import floor
from types import MappingProxyType
from typing import Any

from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.phase1 import (
    DonneesProgrammeInvalides,
    date_iso,
    decimal_exact,
    lire_donnees,
    versions_disponibles,
)

__all__ = [
    "CONDITIONS",
    "CalculMaximum",
    "CalendrierAap",
    "EnveloppeRegionale",
    "EnveloppesAap",
    "ParametresMaximum",
    "ProgrammeAap",
    "ThemeAap",
    "VersementAap",
    "charger_enveloppes_aap",
    "charger_programme_aap",
    "construire_enveloppes_aap",
    "construire_programme_aap",
    "maximum_theorique",
]

# A theme's eligibility condition: the rattrapage theme is for ES that received no usage payment
# (declared, checked by the ARS); the three others need a validated HospiConnect candidature.
CONDITIONS = ("sans_versement_usage", "hospiconnect_valide")
MILLE = Decimal(1000)


@dataclass(frozen=True)
class ThemeAap:
    id: str
    libelle: str
    condition: str  # one of CONDITIONS
    condition_libelle: str


@dataclass(frozen=True)
class VersementAap:
    nature: str  # aap_acceptation | aap_atteinte
    annee: int
    taux: Decimal


@dataclass(frozen=True)
class ParametresMaximum:
    """Theoretical-maximum function (provisional numbers, ADR 0021)."""

    points: tuple[tuple[Decimal, Decimal], ...]  # (cumulated AC, euros), ascending from 0, linear, flat after
    coefficients: Mapping[int, Decimal]  # number of objectives 1..N -> coefficient (N or more: N's)


@dataclass(frozen=True)
class CalendrierAap:
    fin_depot_dossiers: date  # inclusive
    fin_selection: date  # inclusive
    fin_depot_preuves_2027: date  # inclusive: evidence of attainment


@dataclass(frozen=True)
class ProgrammeAap:
    version: str
    reference: str
    themes: Mapping[str, ThemeAap]
    participations_max: int  # deposited projects per FINESS PMSI (lead or participant)
    annees_depenses: tuple[int, ...]  # the forecast covers each of these years
    versements: tuple[VersementAap, ...]  # in payment order; the rates add up to 1
    maximum: ParametresMaximum
    calendrier: CalendrierAap


@dataclass(frozen=True)
class EnveloppeRegionale:
    code: str  # INSEE region code, as in the referentiel
    libelle: str
    quote_part_pct: Decimal  # published share, rounded: informative only
    montant: Decimal  # euros (the published k€ x 1000): the truth


@dataclass(frozen=True)
class EnveloppesAap:
    version: str
    reference: str
    dispositif: str
    total: Decimal  # euros
    regions: tuple[EnveloppeRegionale, ...]
    dispositifs_de_transfert: tuple[str, ...]

    def region(self, code: str) -> EnveloppeRegionale | None:
        return next((r for r in self.regions if r.code == code), None)


# --- parsing -----------------------------------------------------------------------------------

def _maximum(brut: Mapping[str, Any]) -> ParametresMaximum:
    points = tuple((decimal_exact(a, f"maximum_theorique.points[{i}].activite"),
                    decimal_exact(m, f"maximum_theorique.points[{i}].euros"))
                   for i, (a, m) in enumerate(brut["points_activite_euros"]))
    # Ascending in AC from 0 and never decreasing in euros: the ceiling must grow with the activity.
    if (not points or points[0][0] != 0 or any(p[1] < 0 for p in points)
            or any(b[0] <= a[0] or b[1] < a[1] for a, b in zip(points, points[1:], strict=False))):
        raise DonneesProgrammeInvalides("aap : points du maximum théorique croissants depuis 0 attendus")
    coefficients = {int(k): decimal_exact(v, f"maximum_theorique.coefficient[{k}]")
                    for k, v in brut["coefficient_par_nombre_objectifs"].items()}
    valeurs = [coefficients[k] for k in sorted(coefficients)]
    if (sorted(coefficients) != list(range(1, len(coefficients) + 1)) or valeurs != sorted(valeurs)
            or any(v < 0 for v in valeurs)):
        raise DonneesProgrammeInvalides("aap : coefficients croissants pour 1..N objectifs attendus")
    return ParametresMaximum(points, MappingProxyType(coefficients))


def construire_programme_aap(donnees: Mapping[str, Any]) -> ProgrammeAap:
    """Parse and check one AAP document (a shipped file, or a version the DNS publishes)."""
    themes: dict[str, ThemeAap] = {}
    for t in donnees["themes"]:
        theme = ThemeAap(str(t["id"]), str(t["libelle"]), str(t["condition"]), str(t["condition_libelle"]))
        if theme.condition not in CONDITIONS or theme.id in themes:
            raise DonneesProgrammeInvalides(f"aap : thème {theme.id} : condition inconnue ou doublon")
        themes[theme.id] = theme
    if not themes:
        raise DonneesProgrammeInvalides("aap : au moins une thématique attendue")
    versements = tuple(
        VersementAap(str(v["nature"]), int(v["annee"]), decimal_exact(v["taux"], f"versements[{i}].taux"))
        for i, v in enumerate(donnees["versements"])
    )
    if (not versements or sum((v.taux for v in versements), Decimal(0)) != 1
            or any(v.taux <= 0 for v in versements)):
        raise DonneesProgrammeInvalides("aap : les taux de versement doivent être positifs et totaliser 1")
    if len({v.nature for v in versements}) != len(versements):
        raise DonneesProgrammeInvalides("aap : nature de versement en double")
    cal = donnees["calendrier"]
    calendrier = CalendrierAap(
        fin_depot_dossiers=date_iso(cal["fin_depot_dossiers"], "calendrier.fin_depot_dossiers"),
        fin_selection=date_iso(cal["fin_selection"], "calendrier.fin_selection"),
        fin_depot_preuves_2027=date_iso(cal["fin_depot_preuves_2027"], "calendrier.fin_depot_preuves_2027"),
    )
    if not calendrier.fin_depot_dossiers <= calendrier.fin_selection <= calendrier.fin_depot_preuves_2027:
        raise DonneesProgrammeInvalides("calendrier AAP non chronologique")
    programme = ProgrammeAap(
        version=str(donnees["version"]),
        reference=str(donnees["source"]["reference"]),
        themes=MappingProxyType(themes),
        participations_max=int(donnees["participations_max"]),
        annees_depenses=tuple(int(a) for a in donnees["annees_depenses"]),
        versements=versements,
        maximum=_maximum(donnees["maximum_theorique"]),
        calendrier=calendrier,
    )
    if programme.participations_max < 1 or not programme.annees_depenses:
        raise DonneesProgrammeInvalides("aap : participations_max et annees_depenses attendus")
    return programme


def construire_enveloppes_aap(donnees: Mapping[str, Any]) -> EnveloppesAap:
    """Parse and check one envelopes document: one positive amount per region, adding up to the total."""
    regions = tuple(
        EnveloppeRegionale(
            code=str(r["code"]), libelle=str(r["libelle"]),
            quote_part_pct=decimal_exact(r["quote_part_pct"], f"{r['code']}.quote_part_pct"),
            montant=decimal_exact(r["montant_keur"], f"{r['code']}.montant_keur") * MILLE,
        )
        for r in donnees["regions"]
    )
    total = decimal_exact(donnees["total_keur"], "total_keur") * MILLE
    # The amounts are the truth (the published shares add up to 100.2 %): they must add up to the
    # published total, 87 200 k€ for 2026.1.
    if sum((r.montant for r in regions), Decimal(0)) != total:
        raise DonneesProgrammeInvalides("enveloppes : la somme des régions diffère du total publié")
    if len({r.code for r in regions}) != len(regions) or any(r.montant <= 0 for r in regions):
        raise DonneesProgrammeInvalides("enveloppes : région en double ou montant non positif")
    dispositif = str(donnees["dispositif"])
    transferts = tuple(str(d) for d in donnees["dispositifs_de_transfert"])
    if dispositif not in transferts:
        raise DonneesProgrammeInvalides("enveloppes : le dispositif doit être un dispositif de transfert")
    return EnveloppesAap(
        version=str(donnees["version"]), reference=str(donnees["source"]["reference"]),
        dispositif=dispositif, total=total, regions=regions, dispositifs_de_transfert=transferts,
    )


@cache
def charger_programme_aap(version: str | None = None) -> ProgrammeAap:
    """The AAP programme of `version` ("2026.1"), the latest shipped when None. Cached."""
    if version is None:
        # Resolve first so that None and the explicit latest share one cached object.
        return charger_programme_aap(versions_disponibles("aap")[-1])
    return construire_programme_aap(lire_donnees("aap", version))


@cache
def charger_enveloppes_aap(version: str | None = None) -> EnveloppesAap:
    """The regional AAP envelopes of `version` ("2026.1"), the latest shipped when None. Cached."""
    if version is None:
        return charger_enveloppes_aap(versions_disponibles("enveloppes_aap")[-1])
    return construire_enveloppes_aap(lire_donnees("enveloppes_aap", version))


# --- theoretical maximum -----------------------------------------------------------------------

@dataclass(frozen=True)
class CalculMaximum:
    """The ceiling and how it was obtained (financement stores it in each line's `calcul`)."""

    activite_combinee_cumulee: Decimal
    nombre_objectifs: int
    point_bas: tuple[Decimal, Decimal]  # (AC, euros) the interpolation starts from
    point_haut: tuple[Decimal, Decimal] | None  # None: beyond the last point, flat
    coefficient: Decimal
    maximum: Decimal  # interpolation x coefficient, exact, rounded once: cent, half up
    parametres_version: str


def _au_centime(valeur: Fraction) -> Decimal:
    # Half up (ties away from zero), once, like every amount of the programme.
    exacte = valeur * 100
    centimes = floor(abs(exacte) + Fraction(1, 2))
    return Decimal(centimes if exacte >= 0 else -centimes).scaleb(-2)


def maximum_theorique(activite_combinee_cumulee: Decimal, nombre_objectifs: int,
                      programme: ProgrammeAap) -> CalculMaximum:
    """Piecewise-linear in the cumulated AC of the ES involved (flat beyond the last point), times the
    coefficient of the number of objectives covered (N or more: N's), on exact rationals, rounded once
    to the cent. A negative or non-finite AC, or no objective, is refused naming the field."""
    ac = activite_combinee_cumulee
    if not isinstance(ac, Decimal) or not ac.is_finite():
        raise RegleMetierError("activite_combinee_cumulee : décimal attendu", "activite_combinee_cumulee")
    if ac < 0:
        raise RegleMetierError(f"activite_combinee_cumulee ne peut pas être négatif ({ac})",
                               "activite_combinee_cumulee")
    if not isinstance(nombre_objectifs, int) or isinstance(nombre_objectifs, bool) or nombre_objectifs < 1:
        raise RegleMetierError("un projet couvre au moins un objectif de sa thématique", "objectifs")
    parametres = programme.maximum
    coefficient = parametres.coefficients[min(nombre_objectifs, max(parametres.coefficients))]
    points = parametres.points
    bas, haut = points[-1], None
    for p0, p1 in zip(points, points[1:], strict=False):
        if ac < p1[0]:
            bas, haut = p0, p1
            break
    if haut is None:
        base = Fraction(bas[1])
    else:
        (a0, m0), (a1, m1) = bas, haut
        base = Fraction(m0) + (Fraction(m1) - Fraction(m0)) * (Fraction(ac) - Fraction(a0)) / (
            Fraction(a1) - Fraction(a0))
    return CalculMaximum(ac, nombre_objectifs, bas, haut, coefficient,
                         _au_centime(base * Fraction(coefficient)), programme.version)

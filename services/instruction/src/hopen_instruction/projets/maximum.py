"""The AAP theoretical maximum (instruction DNS/2025/180 annex 3: it grows with the cumulated AC 2024 of
the ES involved and the number of objectives covered; the formula is in the programme guide, so its
parameters are data: `data/aap_v<version>.json`, the file financement reads, ADR 0021).

Financement is the authority and refuses (parks) a selection above it; instruction computes the same
ceiling so that the ARS is refused at once, naming the field. A test keeps both computations equal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from math import floor

from hopen_common.programme.phase1 import DonneesProgrammeInvalides, decimal_exact


@dataclass(frozen=True)
class ParametresMaximum:
    version: str
    points: tuple[tuple[Decimal, Decimal], ...]  # (cumulated AC, euros), ascending, linear, flat after
    coefficients: dict[int, Decimal]  # number of objectives -> coefficient (N or more: N's)


@cache
def parametres_maximum(version: str = "2026.1") -> ParametresMaximum:
    donnees = json.loads(resources.files("hopen_instruction").joinpath("data", f"aap_v{version}.json")
                         .read_text("utf-8"))
    maxi = donnees["maximum_theorique"]
    points = tuple((decimal_exact(a, "point.ac"), decimal_exact(m, "point.euros"))
                   for a, m in maxi["points_activite_euros"])
    if not points or points[0][0] != 0 or any(b[0] <= a[0] for a, b in zip(points, points[1:], strict=False)):
        raise DonneesProgrammeInvalides("aap : points du maximum théorique croissants depuis 0 attendus")
    coefficients = {int(k): decimal_exact(v, f"coefficient[{k}]")
                    for k, v in maxi["coefficient_par_nombre_objectifs"].items()}
    return ParametresMaximum(str(donnees["version"]), points, coefficients)


def _centimes(valeur: Fraction) -> Decimal:
    # Half up, once, like every amount of the programme.
    exacte = valeur * 100
    return Decimal(floor(exacte + Fraction(1, 2))).scaleb(-2)


def maximum_theorique(activite_combinee_cumulee: Decimal, nombre_objectifs: int,
                      parametres: ParametresMaximum) -> Decimal:
    """Piecewise-linear in the cumulated AC (flat beyond the last point) times the coefficient of the
    number of objectives, exact, rounded once to the cent (half up)."""
    coefficient = parametres.coefficients[min(max(nombre_objectifs, 1), max(parametres.coefficients))]
    points = parametres.points
    base = Fraction(points[-1][1])
    for (a0, m0), (a1, m1) in zip(points, points[1:], strict=False):
        if activite_combinee_cumulee < a1:
            base = Fraction(m0) + (Fraction(m1) - Fraction(m0)) * (
                Fraction(activite_combinee_cumulee) - Fraction(a0)) / (Fraction(a1) - Fraction(a0))
            break
    return _centimes(base * Fraction(coefficient))

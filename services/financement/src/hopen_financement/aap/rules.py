"""AAP amounts (domain.md 5). Pure functions over the loaded parameters.

Granted <= theoretical maximum (grows with the cumulated AC of the ES involved and the number of
objectives covered; the function's parameters are data) and <= forecast expenses. Paid in halves:
the first halves rounded half up to the cent, the last one the remainder so they add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from hopen_common.programme.erreurs import RegleMetierError
from hopen_financement.aap.parametres import ParametresAap
from hopen_financement.forfaits.rules import arrondir_au_centime

CENTIME = Decimal("0.01")


def _decimal(valeur: Decimal, champ: str, *, centimes: bool) -> Decimal:
    if not isinstance(valeur, Decimal) or not valeur.is_finite():
        raise RegleMetierError(f"{champ} : décimal attendu", champ)
    if valeur < 0:
        raise RegleMetierError(f"{champ} ne peut pas être négatif ({valeur})", champ)
    if centimes and valeur != valeur.quantize(CENTIME):
        raise RegleMetierError(f"{champ} doit être exprimé au centime ({valeur})", champ)
    return valeur


@dataclass(frozen=True)
class CalculMaximum:
    activite_combinee_cumulee: Decimal
    nombre_objectifs: int
    point_bas: tuple[Decimal, Decimal]  # (AC, euros) the interpolation starts from
    point_haut: tuple[Decimal, Decimal] | None  # None: beyond the last point, flat
    coefficient: Decimal
    maximum: Decimal  # interpolation x coefficient, exact, rounded once: cent, half up
    parametres_version: str


def maximum_theorique(activite_combinee_cumulee: Decimal, nombre_objectifs: int,
                      parametres: ParametresAap) -> CalculMaximum:
    """Piecewise-linear in the cumulated AC (flat beyond the last point), times the coefficient of
    the number of objectives (N or more: N's). The parameters are data (ADR 0021)."""
    ac = _decimal(activite_combinee_cumulee, "activite_combinee_cumulee", centimes=False)
    if not isinstance(nombre_objectifs, int) or isinstance(nombre_objectifs, bool) or nombre_objectifs < 1:
        raise RegleMetierError("un projet couvre au moins un objectif de sa thématique", "objectifs")
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
                         arrondir_au_centime(base * Fraction(coefficient)), parametres.version)


@dataclass(frozen=True)
class Tranche:
    nature: str
    annee: int
    taux: Decimal
    montant: Decimal


def tranches(montant: Decimal, parametres: ParametresAap) -> tuple[Tranche, ...]:
    """The payment halves of a granted amount; they always add up to it."""
    montant = _decimal(montant, "montant_accorde", centimes=True)
    resultat: list[Tranche] = []
    reste = montant
    for i, v in enumerate(parametres.versements):
        part = reste if i == len(parametres.versements) - 1 else arrondir_au_centime(montant * v.taux)
        resultat.append(Tranche(v.nature, v.annee, v.taux, part))
        reste -= part
    return tuple(resultat)


@dataclass(frozen=True)
class DecisionMontantAap:
    maximum: CalculMaximum
    depenses_prevues: Decimal
    plafond: Decimal  # min(maximum, depenses_prevues)
    montant_accorde: Decimal
    tranches: tuple[Tranche, ...]


def decider_montant(activite_combinee_cumulee: Decimal, objectifs: Sequence[str], theme: str,
                    depenses_prevues: Decimal, montant_accorde: Decimal,
                    parametres: ParametresAap) -> DecisionMontantAap:
    """Check a granted amount against both ceilings and split it into its payments."""
    if theme not in parametres.themes:
        raise RegleMetierError(f"thématique inconnue : {theme}", "theme")
    if len(set(objectifs)) != len(objectifs):
        raise RegleMetierError("objectif présent deux fois", "objectifs")
    maximum = maximum_theorique(activite_combinee_cumulee, len(objectifs), parametres)
    depenses = _decimal(depenses_prevues, "depenses_prevues", centimes=True)
    accorde = _decimal(montant_accorde, "montant_accorde", centimes=True)
    if accorde == 0:
        raise RegleMetierError("un projet retenu reçoit un montant strictement positif", "montant_accorde")
    if accorde > maximum.maximum:
        raise RegleMetierError(
            f"montant accordé {accorde} € supérieur au maximum théorique {maximum.maximum} €",
            "montant_accorde")
    if accorde > depenses:
        raise RegleMetierError(
            f"montant accordé {accorde} € supérieur aux dépenses prévues {depenses} €", "montant_accorde")
    return DecisionMontantAap(maximum, depenses, min(maximum.maximum, depenses), accorde,
                              tranches(accorde, parametres))

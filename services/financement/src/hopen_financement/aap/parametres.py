"""AAP programme parameters (themes, payment halves, theoretical-maximum function), from a data file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from types import MappingProxyType

from hopen_financement.donnees import DonneesProgrammeInvalides, decimal_exact, lire


@dataclass(frozen=True)
class Versement:
    nature: str  # aap_acceptation | aap_atteinte
    annee: int
    taux: Decimal


@dataclass(frozen=True)
class ParametresAap:
    version: str
    themes: Mapping[str, str]  # id -> label
    versements: tuple[Versement, ...]  # in payment order; the rates add up to 1
    # Theoretical maximum: (cumulated AC, euros) points, ascending, linear in between, flat after.
    points: tuple[tuple[Decimal, Decimal], ...]
    coefficients: Mapping[int, Decimal]  # number of objectives -> coefficient (N or more: N's)


@cache
def charger_parametres_aap(version: str | None = None) -> ParametresAap:
    donnees = lire("aap", version)
    versements = tuple(
        Versement(str(v["nature"]), int(v["annee"]), decimal_exact(v["taux"], f"versements[{i}].taux"))
        for i, v in enumerate(donnees["versements"])
    )
    if sum((v.taux for v in versements), Decimal(0)) != 1 or any(v.taux <= 0 for v in versements):
        raise DonneesProgrammeInvalides("aap : les taux de versement doivent être positifs et totaliser 1")
    maxi = donnees["maximum_theorique"]
    points = tuple((decimal_exact(a, "point.ac"), decimal_exact(m, "point.euros"))
                   for a, m in maxi["points_activite_euros"])
    if (not points or points[0][0] != 0
            or any(b[0] <= a[0] or b[1] < a[1] for a, b in zip(points, points[1:], strict=False))):
        raise DonneesProgrammeInvalides("aap : points du maximum théorique croissants depuis 0 attendus")
    coefficients = {int(k): decimal_exact(v, f"coefficient[{k}]")
                    for k, v in maxi["coefficient_par_nombre_objectifs"].items()}
    valeurs = [coefficients[k] for k in sorted(coefficients)]
    if sorted(coefficients) != list(range(1, len(coefficients) + 1)) or valeurs != sorted(valeurs):
        raise DonneesProgrammeInvalides("aap : coefficients croissants pour 1..N objectifs attendus")
    return ParametresAap(
        version=str(donnees["version"]),
        themes=MappingProxyType({str(t["id"]): str(t["libelle"]) for t in donnees["themes"]}),
        versements=versements,
        points=points,
        coefficients=MappingProxyType(coefficients),
    )

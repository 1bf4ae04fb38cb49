"""Objective attainment (domain.md 3.1): exact rate vs the ES's target. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from hopen_common.programme.phase1 import ObjectifPhase1, taux_atteint


@dataclass(frozen=True)
class Mesure:
    numerateur: int
    denominateur: int


@dataclass(frozen=True)
class EvaluationIndicateur:
    indicateur: str
    cible: Decimal
    cible_sun_es: bool  # `cible` is this indicator's SUN-ES target (its own domain was reached)
    numerateur: int | None
    denominateur: int | None
    taux: Decimal | None  # shown rounded to 0.01%; the verdict uses the exact fraction
    atteint: bool


@dataclass(frozen=True)
class EvaluationObjectif:
    objectif: str
    indicateurs: list[EvaluationIndicateur]

    @property
    def complet(self) -> bool:
        return all(i.numerateur is not None for i in self.indicateurs)

    @property
    def atteint(self) -> bool:
        # Every indicator of the objective must meet its target (P1.O2: both a and b).
        return self.complet and all(i.atteint for i in self.indicateurs)


def evaluer_objectif(objectif: ObjectifPhase1, mesures: Mapping[str, Mesure], *,
                     domaines_sun_es_atteints: Iterable[str]) -> EvaluationObjectif:
    """Each indicator against its own target: the SUN-ES one when the ES reached that indicator's
    domain (`IndicateurPhase1.cible_sun_es_applicable`, the only copy of the rule, ADR 0007)."""
    domaines = frozenset(domaines_sun_es_atteints)
    lignes = []
    for indicateur in objectif.indicateurs:
        sun_es = indicateur.cible_sun_es_applicable(domaines)
        cible = indicateur.cible(domaines)
        mesure = mesures.get(indicateur.id)
        if mesure is None:
            lignes.append(EvaluationIndicateur(indicateur.id, cible, sun_es, None, None, None, False))
            continue
        taux = (Decimal(mesure.numerateur) / Decimal(mesure.denominateur)).quantize(Decimal("0.0001"))
        lignes.append(EvaluationIndicateur(
            indicateur.id, cible, sun_es, mesure.numerateur, mesure.denominateur, taux,
            taux_atteint(mesure.numerateur, mesure.denominateur, cible),
        ))
    return EvaluationObjectif(objectif.id, lignes)

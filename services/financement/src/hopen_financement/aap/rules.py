"""AAP amounts (domain.md 5). Pure functions over the loaded programme.

Granted <= theoretical maximum (grows with the cumulated AC of the ES involved and the number of
objectives covered; computed by `hopen_common.programme.aap.maximum_theorique`, the function instruction
uses too) and <= forecast expenses. Paid in halves: the first halves rounded half up to the cent, the
last one the remainder so they add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from hopen_common.monnaie import arrondi_centime, exiger_centimes
from hopen_common.programme.aap import CalculMaximum, ProgrammeAap, maximum_theorique
from hopen_common.programme.erreurs import RegleMetierError

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Tranche:
    nature: str
    annee: int
    taux: Decimal
    montant: Decimal


def tranches(montant: Decimal, programme: ProgrammeAap) -> tuple[Tranche, ...]:
    """The payment halves of a granted amount; they always add up to it."""
    montant = exiger_centimes(montant, "montant_accorde", signe="positif")
    resultat: list[Tranche] = []
    reste = montant
    for i, v in enumerate(programme.versements):
        part = reste if i == len(programme.versements) - 1 else arrondi_centime(montant * v.taux)
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
                    programme: ProgrammeAap) -> DecisionMontantAap:
    """Check a granted amount against both ceilings and split it into its payments."""
    if theme not in programme.themes:
        raise RegleMetierError(f"thématique inconnue : {theme}", "theme")
    if len(set(objectifs)) != len(objectifs):
        raise RegleMetierError("objectif présent deux fois", "objectifs")
    maximum = maximum_theorique(activite_combinee_cumulee, len(objectifs), programme)
    depenses = exiger_centimes(depenses_prevues, "depenses_prevues", signe="positif")
    accorde = exiger_centimes(montant_accorde, "montant_accorde", signe="positif")
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
                              tranches(accorde, programme))


@dataclass(frozen=True)
class CibleAap:
    """What a project is worth now, from its current decisions (issue 9, ADR 0014).

    `tranches`: per tranche nature, the amount its key must now hold (None: not due yet, nothing to
    notify); `engage`: what the envelope must hold engaged for the project."""

    engage: Decimal
    tranches: dict[str, Decimal | None]


def cible(montant_accorde: Decimal | None, atteint: bool | None, programme: ProgrammeAap) -> CibleAap:
    """`montant_accorde`: the amount of the current selection, None when the project is (now) not
    retained; `atteint`: the current attainment decision, None before it. Not retained: every tranche
    already due is worth 0 (what was paid is taken back) and nothing stays engaged. Retained: the
    first tranche on acceptance, the next ones on attainment (0 when not reached: released)."""
    natures = [v.nature for v in programme.versements]
    if montant_accorde is None:
        return CibleAap(ZERO, {n: (ZERO if i == 0 or atteint is not None else None)
                               for i, n in enumerate(natures)})
    dues = tranches(montant_accorde, programme)
    resultat: dict[str, Decimal | None] = {}
    for i, t in enumerate(dues):
        if i == 0:
            resultat[t.nature] = t.montant
        else:
            resultat[t.nature] = None if atteint is None else (t.montant if atteint else ZERO)
    # A tranche not due yet stays engaged whole; a due one is engaged for what it is worth.
    engage = ZERO
    for t in dues:
        due = resultat[t.nature]
        engage += t.montant if due is None else due
    return CibleAap(engage, resultat)

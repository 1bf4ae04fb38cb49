"""HospiConnect yearly ceiling, rate and amount (domain.md 4.2). Pure functions: no I/O.

The staff pieces, the rate table and the mandatory objective come from the
programme data file; this module only applies them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact

from hopen_common.monnaie import arrondi_centime, exiger_centimes
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import ProgrammeHospiconnect

__all__ = ["CalculHospiconnect", "montant_annuel", "plafond_annuel", "taux"]

_EXACT = Context(prec=60, traps=[Inexact])


def _effectifs(effectifs: int) -> int:
    if not isinstance(effectifs, int) or isinstance(effectifs, bool):
        raise RegleMetierError("les effectifs sont un nombre entier d'agents", "effectifs")
    if effectifs < 0:
        raise RegleMetierError(f"effectifs négatifs ({effectifs})", "effectifs")
    return effectifs


def plafond_annuel(effectifs: int, programme: ProgrammeHospiconnect) -> Decimal:
    """Yearly ceiling of an EJ from its staff: fixed amount for the first agents, then per agent by piece."""
    e = _effectifs(effectifs)
    fixe = programme.forfait_fixe
    if e < fixe.effectif_min:
        return Decimal("0.00")  # E = 0: no staff, no ceiling
    plafond: Decimal = fixe.montant
    for palier in programme.paliers:
        dernier = e if palier.au_agent is None else min(e, palier.au_agent)
        nombre = dernier - palier.du_agent + 1
        if nombre <= 0:
            break
        plafond += palier.montant_par_agent * nombre
    return arrondi_centime(plafond)  # a sum of cents: only sets the two decimals


def _objectifs(objectifs_atteints: Iterable[str], programme: ProgrammeHospiconnect,
               annee: int | None) -> frozenset[str]:
    if isinstance(objectifs_atteints, str):
        # A bare "1.0" would iterate as characters: refuse the easy mistake.
        raise RegleMetierError("objectifs_atteints doit être une collection d'identifiants",
                               "objectifs_atteints")
    atteints = frozenset(objectifs_atteints)
    inconnus = sorted(atteints - set(programme.objectifs))
    if inconnus:
        raise RegleMetierError(f"objectif(s) HospiConnect inconnu(s) : {', '.join(inconnus)}",
                               "objectifs_atteints")
    if annee is not None:
        hors_annee = sorted(atteints - set(programme.objectifs_de(annee)))
        if hors_annee:
            raise RegleMetierError(f"objectif(s) sans cible en {annee} : {', '.join(hors_annee)}",
                                   "objectifs_atteints")
    return atteints


def taux(
    objectifs_atteints: Iterable[str], programme: ProgrammeHospiconnect, annee: int | None = None
) -> Decimal:
    """Share of the ceiling earned: 0 without the mandatory objective, else by count (N or more: top rate)."""
    atteints = _objectifs(objectifs_atteints, programme, annee)
    if programme.objectif_obligatoire not in atteints:
        return Decimal("0")
    table = programme.taux_par_nombre_objectifs
    resultat: Decimal = table[min(len(atteints), max(table))]
    return resultat


@dataclass(frozen=True)
class CalculHospiconnect:
    effectifs: int
    objectifs_atteints: tuple[str, ...]  # sorted
    nombre_objectifs: int
    objectif_obligatoire_atteint: bool
    plafond: Decimal
    taux: Decimal
    montant_theorique: Decimal  # plafond x taux, cent, half up
    depenses_eligibles: Decimal
    montant: Decimal  # min(montant_theorique, depenses_eligibles)
    programme_version: str


def montant_annuel(
    effectifs: int,
    objectifs_atteints: Iterable[str],
    depenses_eligibles: Decimal,
    programme: ProgrammeHospiconnect,
    annee: int | None = None,
) -> CalculHospiconnect:
    """Amount paid to an EJ for one year: min(ceiling x rate, eligible expenses declared that year)."""
    atteints = _objectifs(objectifs_atteints, programme, annee)
    # Declared expenses are accounting amounts: sub-cent input is refused, never rounded silently.
    depenses = exiger_centimes(depenses_eligibles, "depenses_eligibles", signe="positif")
    plafond = plafond_annuel(effectifs, programme)
    t = taux(atteints, programme)
    # ceiling (cents) x rate (a few decimals) is exact in a 60-digit context (Inexact would trap),
    # then rounded once to the cent, half up.
    theorique = arrondi_centime(_EXACT.multiply(plafond, t))
    return CalculHospiconnect(
        effectifs=effectifs,
        objectifs_atteints=tuple(sorted(atteints)),
        nombre_objectifs=len(atteints),
        objectif_obligatoire_atteint=programme.objectif_obligatoire in atteints,
        plafond=plafond,
        taux=t,
        montant_theorique=theorique,
        depenses_eligibles=depenses,
        montant=min(theorique, depenses),
        programme_version=programme.version,
    )

"""Phase-1 forfait, amorcage and solde (domain.md 3.4). Pure functions: no I/O, no clock.

Arithmetic is done on exact rationals (Fraction) and rounded once, to the cent,
half up, per (ES, objective) forfait; the amorcage is the rate of the *rounded*
forfait, rounded half up; the solde share is forfait - amorcage so the two always
add up. Every tariff number comes from the programme data file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from math import gcd
from typing import Literal

# The one rounding, under the name this module's callers and tests know it by (not a second copy).
from hopen_common.monnaie import arrondi_centime as arrondir_au_centime
from hopen_common.monnaie import exiger_centimes
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.phase1 import ProgrammePhase1, Tranche

__all__ = [
    "FORMULE",
    "CalculForfait",
    "LigneSolde",
    "ResultatSolde",
    "SoldeCandidature",
    "arrondir_au_centime",
    "calculer_forfait_phase1",
    "cible_solde",
    "solde_candidature",
    "solder_objectif",
    "tranche_de",
]

FORMULE = "min + (max - min) * (AC - lo) / (next_lo - lo)"

NatureSolde = Literal["solde", "reprise"]


def _activite(valeur: Decimal, champ: str) -> Decimal:
    if not isinstance(valeur, Decimal | int) or isinstance(valeur, bool):
        raise RegleMetierError(f"{champ} doit être un décimal exact", champ)
    if isinstance(valeur, Decimal) and not valeur.is_finite():
        raise RegleMetierError(f"{champ} doit être fini", champ)
    if valeur < 0:
        raise RegleMetierError(f"{champ} ne peut pas être négative ({valeur})", champ)
    return Decimal(valeur)


def _centimes_demi_superieur(numerateur: int, denominateur: int) -> int:
    """round_half_up(100 x n / d) for n >= 0, d > 0, in integers (the hot path of the benchmark)."""
    return (200 * numerateur + denominateur) // (2 * denominateur)


def _texte_exact(numerateur: int, denominateur: int) -> str:
    """n/d (reduced, d > 0) as text Fraction() reads back: a decimal when it terminates, else "n/d"."""
    reste, deux, cinq = denominateur, 0, 0
    while reste % 2 == 0:
        reste //= 2
        deux += 1
    while reste % 5 == 0:
        reste //= 5
        cinq += 1
    if reste != 1:
        return f"{numerateur}/{denominateur}"
    chiffres = max(deux, cinq)
    return str(Decimal(numerateur * 10**chiffres // denominateur).scaleb(-chiffres))


@dataclass(frozen=True)
class CalculForfait:
    """The forfait of one (ES, objective) and how it was obtained. Flat so asdict() is JSON-ready."""

    programme_version: str
    objectif: str
    tranche: str
    activite_combinee: Decimal
    activite_combinee_max: Decimal  # national max AC of the eligible base: tranche D's upper bound
    borne_inferieure: Decimal  # lo
    borne_suivante: Decimal  # next_lo (for the last tranche: activite_combinee_max)
    minimum: Decimal
    maximum: Decimal
    formule: str
    montant_exact: str  # unrounded, exact: decimal text or "p/q"
    forfait: Decimal  # cent, half up
    taux_amorcage: Decimal
    amorcage: Decimal  # taux_amorcage x forfait, cent, half up
    solde: Decimal  # forfait - amorcage


def tranche_de(activite_combinee: Decimal, programme: ProgrammePhase1) -> Tranche:
    """The tranche [lo, next_lo) holding AC (AC is a multiple of 0.5: 6 999.5 is still tranche A)."""
    ac = _activite(activite_combinee, "activite_combinee")
    choisie = programme.tranches[0]
    for tranche in programme.tranches:
        if ac >= tranche.borne_inferieure:
            choisie = tranche
    return choisie


def calculer_forfait_phase1(
    activite_combinee: Decimal, objectif: str, activite_combinee_max: Decimal, programme: ProgrammePhase1
) -> CalculForfait:
    """Forfait of an ES (AC 2022) for one objective; raises RegleMetierError on a refused input.

    Exact rational arithmetic on integer (numerator, denominator) pairs: Decimal.as_integer_ratio()
    is exact, so this is the formula of the instruction with no intermediate rounding, computed fast
    enough for a national base (bench/bench_financement.py).
    """
    bareme = programme.objectif(objectif).bareme
    ac = _activite(activite_combinee, "activite_combinee")
    ac_max = _activite(activite_combinee_max, "activite_combinee_max")
    if ac > ac_max:
        # The max is taken over the whole eligible base, which holds this ES: an AC above it means
        # the two inputs come from different bases. Refuse rather than extrapolate.
        raise RegleMetierError(
            f"activité combinée {activite_combinee} supérieure au maximum national {activite_combinee_max}",
            "activite_combinee",
        )
    tranches = programme.tranches
    rang = 0
    for i, t in enumerate(tranches):
        if ac >= t.borne_inferieure:
            rang = i
    tranche = tranches[rang]
    suivante = tranches[rang + 1].borne_inferieure if rang + 1 < len(tranches) else ac_max
    fourchette = bareme[tranche.lettre]
    mn_n, mn_d = fourchette.minimum.as_integer_ratio()
    if suivante == tranche.borne_inferieure:
        # Last tranche whose upper bound equals its lower bound (national max AC == 230 000):
        # AC == lo, so the amount is the tranche's min (domain.md 3.4 [reading]).
        num, den = mn_n, mn_d
    else:
        a_n, a_d = ac.as_integer_ratio()
        l_n, l_d = tranche.borne_inferieure.as_integer_ratio()
        s_n, s_d = suivante.as_integer_ratio()
        mx_n, mx_d = fourchette.maximum.as_integer_ratio()
        # min + (max - min) * (AC - lo) / (next_lo - lo), over a common denominator.
        ecart_n, ecart_d = mx_n * mn_d - mn_n * mx_d, mx_d * mn_d  # max - min
        pos_n, pos_d = (a_n * l_d - l_n * a_d) * (s_d * l_d), (a_d * l_d) * (s_n * l_d - l_n * s_d)
        num = mn_n * ecart_d * pos_d + ecart_n * pos_n * mn_d
        den = mn_d * ecart_d * pos_d
        if den < 0:
            num, den = -num, -den
        commun = gcd(num, den)
        num, den = num // commun, den // commun
    forfait_c = _centimes_demi_superieur(num, den)
    t_n, t_d = programme.taux_amorcage.as_integer_ratio()
    amorcage_c = (2 * forfait_c * t_n + t_d) // (2 * t_d)  # cents x rate, half up
    forfait = Decimal(forfait_c).scaleb(-2)
    amorcage = Decimal(amorcage_c).scaleb(-2)
    return CalculForfait(
        programme_version=programme.version,
        objectif=objectif,
        tranche=tranche.lettre,
        activite_combinee=ac,
        activite_combinee_max=ac_max,
        borne_inferieure=tranche.borne_inferieure,
        borne_suivante=suivante,
        minimum=fourchette.minimum,
        maximum=fourchette.maximum,
        formule=FORMULE,
        montant_exact=_texte_exact(num, den),
        forfait=forfait,
        taux_amorcage=programme.taux_amorcage,
        amorcage=amorcage,
        solde=Decimal(forfait_c - amorcage_c).scaleb(-2),
    )


# --- solde -------------------------------------------------------------------------------------

def solder_objectif(forfait: Decimal, amorcage_recu: Decimal, atteint: bool) -> tuple[NatureSolde, Decimal]:
    """One objective at the end of phase 1: ("solde", forfait - amorcage) when reached, else
    ("reprise", amorcage received), the amount always positive; a reprise is owed back by the ES."""
    # Money crossing this boundary was rounded once already: anything finer than a cent is a bug upstream.
    forfait = exiger_centimes(forfait, "forfait", signe="positif")
    amorcage_recu = exiger_centimes(amorcage_recu, "amorcage", signe="positif")
    if amorcage_recu > forfait:
        raise RegleMetierError(f"amorçage reçu {amorcage_recu} supérieur au forfait {forfait}", "amorcage")
    if atteint:
        return "solde", forfait - amorcage_recu
    return "reprise", amorcage_recu


def cible_solde(forfait: Decimal, amorcage_recu: Decimal, *, refusee: bool, atteint: bool | None,
                tous_decides: bool, deja_notifie: bool) -> tuple[NatureSolde, Decimal] | None:
    """What the solde key of one (EJ, objective) must say under the current decisions (ADR 0014), or
    None when nothing is due on it yet:
    - the candidature's validation corrected to a refusal: the amorçage is taken back (reprise);
    - every (EJ, objective) decided: solde or reprise (`solder_objectif`);
    - otherwise nothing yet, or, when the key was notified before (a refusal corrected back to a
      validation), a zero solde: what the refusal took back is no longer owed."""
    if refusee:
        return "reprise", exiger_centimes(amorcage_recu, "amorcage", signe="positif")
    if tous_decides and atteint is not None:
        return solder_objectif(forfait, amorcage_recu, atteint)
    return ("solde", Decimal("0.00")) if deja_notifie else None


@dataclass(frozen=True)
class LigneSolde:
    objectif: str
    forfait: Decimal
    amorcage_recu: Decimal
    atteint: bool


@dataclass(frozen=True)
class ResultatSolde:
    objectif: str
    nature: NatureSolde
    montant: Decimal  # positive; a "reprise" is owed by the ES


@dataclass(frozen=True)
class SoldeCandidature:
    lignes: tuple[ResultatSolde, ...]
    total_forfaits_atteints: Decimal
    total_amorcage_recu: Decimal
    net: Decimal  # total_forfaits_atteints - total_amorcage_recu; negative: the ES owes it back

    @property
    def nature(self) -> NatureSolde:
        return "reprise" if self.net < 0 else "solde"


def solde_candidature(lignes: Iterable[LigneSolde]) -> SoldeCandidature:
    """Solde of a candidature: Σ forfaits reached - Σ amorcage received (domain.md 3.4 [reading])."""
    resultats: list[ResultatSolde] = []
    vus: set[str] = set()
    atteints = recu = Decimal("0.00")
    for ligne in lignes:
        if ligne.objectif in vus:
            raise RegleMetierError(f"objectif {ligne.objectif} présent deux fois", "objectif")
        vus.add(ligne.objectif)
        nature, montant = solder_objectif(ligne.forfait, ligne.amorcage_recu, ligne.atteint)
        resultats.append(ResultatSolde(ligne.objectif, nature, montant))
        recu += ligne.amorcage_recu
        if ligne.atteint:
            atteints += ligne.forfait
    return SoldeCandidature(tuple(resultats), atteints, recu, atteints - recu)

"""Independent computation of the amounts, written from the instructions' text (not from our code).

Instruction DNS/2024/123, annexe 2 (phase 1), and instruction DNS/2025/180, annexe 2 (HospiConnect),
transcribed here as printed (k€ with decimal commas, staff pieces in words). Arithmetic: exact
fractions, one rounding to the cent, half up, done with integer divmod. Nothing here imports
hopen_financement: the tests compare the service's answers with these.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

# --- phase 1 ------------------------------------------------------------------------------------
# « Seuil d'activité combinée : 0 – 6999 | 7 000 – 22 499 | 22 500 – 229 999 | 230 000 – max »
SEUILS = (0, 7_000, 22_500, 230_000)
LETTRES = ("A", "B", "C", "D")
# « Montants minima et maxima de soutien financier par catégorie d'établissements — k€ »
ANNEXE_2_KEUR = {
    "P1.O1": ("4,5 - 6", "6 - 12", "12 - 37,5", "37,5 - 80"),
    "P1.O2": ("9 - 12", "12 - 24", "24 - 75", "75 - 160"),
    "P1.O3": ("0,9 - 1,2", "1,2 - 2,4", "2,4 - 7,5", "7,5 - 16"),
    "P1.O4": ("6,3 - 8,4", "8,4 - 16,8", "16,8 - 52,5", "52,5 - 112"),
    "P1.O5": ("3,2 - 6,5", "6,5 - 13", "13 - 26", "26 - 40"),
    "P1.O6": ("3,2 - 6,5", "6,5 - 13", "13 - 26", "26 - 40"),
    "P1.O7": ("2,4 - 3,2", "3,2 - 6,4", "6,4 - 20", "20 - 42,6"),
    "P1.O8": ("2,4 - 3,2", "3,2 - 6,4", "6,4 - 20", "20 - 42,6"),
}
# « L'établissement reçoit le versement de l'amorçage ... à hauteur de 30 % du soutien financier. »
AMORCAGE_POURCENT = 30


def centimes(valeur: Fraction) -> int:
    """Round a non-negative exact amount in euros to cents, half up."""
    quotient, reste = divmod(valeur.numerator * 100, valeur.denominator)
    return quotient + (1 if 2 * reste >= valeur.denominator else 0)


def euros(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _bornes_euros(objectif: str, rang: int) -> tuple[Fraction, Fraction]:
    texte = ANNEXE_2_KEUR[objectif][rang]
    mini, maxi = (Fraction(x.strip().replace(",", ".")) * 1000 for x in texte.split("-"))
    return mini, maxi


def tranche_phase1(ac: Fraction) -> int:
    return max(i for i, seuil in enumerate(SEUILS) if ac >= seuil)


def forfait_phase1(ac: Decimal | str | int, objectif: str, ac_max: Decimal | str | int) -> dict[str, object]:
    """« croissant de façon linéaire en fonction de l'activité combinée ; le montant maximum de la
    catégorie N est le montant minimum de la catégorie suivante » — tranche D runs up to ac_max."""
    a = Fraction(Decimal(ac))
    rang = tranche_phase1(a)
    bas = Fraction(SEUILS[rang])
    haut = Fraction(SEUILS[rang + 1]) if rang + 1 < len(SEUILS) else Fraction(Decimal(ac_max))
    mini, maxi = _bornes_euros(objectif, rang)
    exact = mini if haut == bas else mini + (maxi - mini) * (a - bas) / (haut - bas)
    forfait = centimes(exact)
    # forfait is in cents: 30 % of it, in euros, is forfait x 30 / 100 / 100.
    amorcage = centimes(Fraction(forfait * AMORCAGE_POURCENT, 100 * 100))
    return {"objectif": objectif, "tranche": LETTRES[rang], "forfait": euros(forfait),
            "amorcage": euros(amorcage), "solde": euros(forfait - amorcage)}


# --- HospiConnect -------------------------------------------------------------------------------
# « Entre 1 et 50 agents, le montant plafond fixe est égal à 6 600 € ; du 51ème au 250ème agent,
# 33 € par agent ; du 251ème au 5 000ème, 47 € ; du 5 001ème au 10 000ème, 33 € ; au-delà du
# 10 000ème, 32 €. »
FIXE_1_A_50 = 6_600
PAR_AGENT = ((51, 250, 33), (251, 5_000, 47), (5_001, 10_000, 33), (10_001, None, 32))
# « 1 : 40 % ; 2 : 52 % ; 3 : 64 % ; 4 : 76 % ; 5 : 88 % ; 6 : 100 % du montant plafond »
TAUX_POURCENT = {1: 40, 2: 52, 3: 64, 4: 76, 5: 88, 6: 100}


def plafond_hospiconnect(effectifs: int) -> int:
    """Ceiling in euros, agent by agent (a deliberately naive reading of the pieces)."""
    if effectifs <= 0:
        return 0
    total = FIXE_1_A_50
    for du, au, montant in PAR_AGENT:
        dernier = effectifs if au is None else min(effectifs, au)
        if dernier >= du:
            total += (dernier - du + 1) * montant
    return total


def taux_hospiconnect(objectifs_atteints: list[str]) -> int:
    """Per cent; 1.0 is mandatory (domain.md 4.2 [reading]) and counts; 6 or more: 100 %."""
    if "1.0" not in objectifs_atteints:
        return 0
    return TAUX_POURCENT[min(len(set(objectifs_atteints)), 6)]


def montant_hospiconnect(effectifs: int, objectifs_atteints: list[str],
                         depenses: Decimal | str) -> dict[str, Decimal]:
    plafond = plafond_hospiconnect(effectifs)
    pourcent = taux_hospiconnect(objectifs_atteints)
    theorique = centimes(Fraction(plafond * pourcent, 100))
    plafond_depenses = centimes(Fraction(Decimal(depenses)))
    return {"plafond": euros(plafond * 100), "taux": Decimal(pourcent) / 100,
            "montant_theorique": euros(theorique), "montant": euros(min(theorique, plafond_depenses))}

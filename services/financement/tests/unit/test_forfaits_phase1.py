"""Phase-1 forfaits (domain.md 3.4): worked examples computed by hand, then properties."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_financement.forfaits.rules import (
    LigneSolde,
    arrondir_au_centime,
    calculer_forfait_phase1,
    solde_candidature,
    solder_objectif,
    tranche_de,
)

PROGRAMME = charger_programme_phase1("2024.1")
OBJECTIFS = list(PROGRAMME.objectifs)
D = Decimal
MAX_BASE = D("500000")  # a national max AC for the examples (above tranche D's lower bound)

# (objectif, AC, max AC, tranche, forfait, amorcage, solde) — each row worked by hand:
EXEMPLES = [
    # AC 0, lower bound of A: P1.O2 A = 9-12 k€ -> min 9 000.00; 30 % = 2 700.00; 6 300.00.
    ("P1.O2", "0", MAX_BASE, "A", "9000.00", "2700.00", "6300.00"),
    # AC 7 000, lower bound of B: B's min 12 000 (= A's max); 3 600.00; 8 400.00.
    ("P1.O2", "7000", MAX_BASE, "B", "12000.00", "3600.00", "8400.00"),
    # AC 22 500, lower bound of C: C's min 24 000; 7 200.00; 16 800.00.
    ("P1.O2", "22500", MAX_BASE, "C", "24000.00", "7200.00", "16800.00"),
    # AC 230 000, lower bound of D: D's min 75 000; 22 500.00; 52 500.00.
    ("P1.O2", "230000", MAX_BASE, "D", "75000.00", "22500.00", "52500.00"),
    # AC 15 000, P1.O2, tranche B: 12 000 + 12 000 x 8 000 / 15 500 = 12 000 + 6 193.548387...
    # = 18 193.548387... -> 18 193.55; 30 % = 5 458.065 -> 5 458.07 (half up; half-even would say .06);
    # solde 18 193.55 - 5 458.07 = 12 735.48.
    ("P1.O2", "15000", MAX_BASE, "B", "18193.55", "5458.07", "12735.48"),
    # Mid A, P1.O1 (4.5-6 k€): 4 500 + 1 500 x 3 500 / 7 000 = 5 250.00; 1 575.00; 3 675.00.
    ("P1.O1", "3500", MAX_BASE, "A", "5250.00", "1575.00", "3675.00"),
    # Top of A by half a journée, P1.O3 (0.9-1.2 k€): 900 + 300 x 6 999.5 / 7 000 = 1 199.97857...
    # -> 1 199.98; 30 % = 359.994 -> 359.99; 839.99.
    ("P1.O3", "6999.5", MAX_BASE, "A", "1199.98", "359.99", "839.99"),
    # Mid C, P1.O5 (13-26 k€): AC (22 500 + 230 000) / 2 = 126 250 -> 13 000 + 13 000 / 2 = 19 500.00;
    # 5 850.00; 13 650.00.
    ("P1.O5", "126250", MAX_BASE, "C", "19500.00", "5850.00", "13650.00"),
    # Mid B, P1.O4 (8.4-16.8 k€): AC 14 750 -> 8 400 + 8 400 x 7 750 / 15 500 = 12 600.00; 3 780.00; 8 820.00.
    ("P1.O4", "14750", MAX_BASE, "B", "12600.00", "3780.00", "8820.00"),
    # Tranche D with a max of 330 000, P1.O7 (20-42.6 k€): AC 280 000 ->
    # 20 000 + 22 600 x 50 000 / 100 000 = 31 300.00; 9 390.00; 21 910.00.
    ("P1.O7", "280000", D("330000"), "D", "31300.00", "9390.00", "21910.00"),
    # AC equal to the national max, P1.O8: D's max 42 600.00; 12 780.00; 29 820.00.
    ("P1.O8", "330000", D("330000"), "D", "42600.00", "12780.00", "29820.00"),
    # National max == 230 000 (so AC == 230 000): D's min, P1.O4 -> 52 500.00; 15 750.00; 36 750.00.
    ("P1.O4", "230000", D("230000"), "D", "52500.00", "15750.00", "36750.00"),
    ("P1.O6", "230000", D("230000"), "D", "26000.00", "7800.00", "18200.00"),
    # Forfait itself a tie at the third decimal, P1.O3 D (7.5-16 k€) with max 1 930 000:
    # 7 500 + 8 500 x 1 / 1 700 000 = 7 500.005 -> 7 500.01 (half up); 30 % = 2 250.003 -> 2 250.00; 5 250.01.
    ("P1.O3", "230001", D("1930000"), "D", "7500.01", "2250.00", "5250.01"),
]


@pytest.mark.parametrize(("objectif", "ac", "ac_max", "tranche", "forfait", "amorcage", "solde"), EXEMPLES)
def test_exemples_calcules_a_la_main(objectif, ac, ac_max, tranche, forfait, amorcage, solde):
    calcul = calculer_forfait_phase1(D(ac), objectif, ac_max, PROGRAMME)
    assert calcul.tranche == tranche
    assert calcul.forfait == D(forfait)
    assert calcul.amorcage == D(amorcage)
    assert calcul.solde == D(solde)
    assert str(calcul.forfait) == forfait  # two decimals on the wire


def test_explication_du_cas_15000():
    c = calculer_forfait_phase1(D("15000"), "P1.O2", MAX_BASE, PROGRAMME)
    assert (c.borne_inferieure, c.borne_suivante, c.minimum, c.maximum) == (
        D("7000"), D("22500"), D("12000"), D("24000"))
    # 12 000 + 12 000 x 8 000 / 15 500 = 564 000 / 31 exactly.
    assert Fraction(c.montant_exact) == Fraction(564000, 31)
    assert c.taux_amorcage == D("0.30")
    assert c.programme_version == "2024.1"


def test_borne_suivante_de_d_est_le_max_national():
    c = calculer_forfait_phase1(D("280000"), "P1.O7", D("330000"), PROGRAMME)
    assert c.borne_suivante == D("330000")
    assert c.activite_combinee_max == D("330000")


def test_montant_exact_decimal_quand_il_se_termine():
    c = calculer_forfait_phase1(D("230001"), "P1.O3", D("1930000"), PROGRAMME)
    assert c.montant_exact == "7500.005"


@pytest.mark.parametrize(("ac", "lettre"), [
    ("0", "A"), ("6999", "A"), ("6999.5", "A"), ("7000", "B"), ("22499.5", "B"),
    ("22500", "C"), ("229999.5", "C"), ("230000", "D"), ("1000000", "D"),
])
def test_tranche_de(ac, lettre):
    assert tranche_de(D(ac), PROGRAMME).lettre == lettre


def test_ac_negative_refusee():
    with pytest.raises(RegleMetierError) as exc:
        calculer_forfait_phase1(D("-0.5"), "P1.O2", MAX_BASE, PROGRAMME)
    assert exc.value.champ == "activite_combinee"


def test_ac_au_dessus_du_max_refusee():
    with pytest.raises(RegleMetierError) as exc:
        calculer_forfait_phase1(D("330000.5"), "P1.O2", D("330000"), PROGRAMME)
    assert exc.value.champ == "activite_combinee"


def test_objectif_inconnu_nomme():
    with pytest.raises(RegleMetierError, match="P1.O9") as exc:
        calculer_forfait_phase1(D("1000"), "P1.O9", MAX_BASE, PROGRAMME)
    assert exc.value.champ == "objectif"


@pytest.mark.parametrize("ac", [D("NaN"), D("Infinity")])
def test_ac_non_finie_refusee(ac):
    with pytest.raises(RegleMetierError):
        calculer_forfait_phase1(ac, "P1.O2", MAX_BASE, PROGRAMME)


def test_arrondi_demi_superieur():
    assert arrondir_au_centime(Fraction(1, 200)) == D("0.01")
    assert arrondir_au_centime(Fraction(-1, 200)) == D("-0.01")
    assert arrondir_au_centime(D("2.345")) == D("2.35")
    assert arrondir_au_centime(Fraction(1, 3)) == D("0.33")


# --- solde -------------------------------------------------------------------------------------

def test_solder_objectif():
    assert solder_objectif(D("18193.55"), D("5458.07"), True) == ("solde", D("12735.48"))
    assert solder_objectif(D("18193.55"), D("5458.07"), False) == ("reprise", D("5458.07"))


def test_solde_candidature_positif():
    # P1.O2 reached (18 193.55, amorcage 5 458.07), P1.O3 missed (1 199.98, amorcage 359.99):
    # net = 18 193.55 - (5 458.07 + 359.99) = 12 375.49 = 12 735.48 - 359.99.
    s = solde_candidature([
        LigneSolde("P1.O2", D("18193.55"), D("5458.07"), True),
        LigneSolde("P1.O3", D("1199.98"), D("359.99"), False),
    ])
    assert [(r.objectif, r.nature, r.montant) for r in s.lignes] == [
        ("P1.O2", "solde", D("12735.48")), ("P1.O3", "reprise", D("359.99"))]
    assert s.net == D("12375.49")
    assert s.nature == "solde"


def test_solde_candidature_negatif_est_une_reprise():
    # Nothing reached: net = 0 - (2 700.00 + 1 575.00) = -4 275.00, owed back by the ES.
    s = solde_candidature([
        LigneSolde("P1.O2", D("9000.00"), D("2700.00"), False),
        LigneSolde("P1.O1", D("5250.00"), D("1575.00"), False),
    ])
    assert s.net == D("-4275.00")
    assert s.nature == "reprise"
    assert all(r.montant > 0 for r in s.lignes)


def test_solde_refuse_les_entrees_incoherentes():
    with pytest.raises(RegleMetierError):
        solder_objectif(D("100.00"), D("100.01"), True)
    with pytest.raises(RegleMetierError):
        solder_objectif(D("100.001"), D("30.00"), True)
    with pytest.raises(RegleMetierError):
        solde_candidature([LigneSolde("P1.O2", D("10.00"), D("3.00"), True)] * 2)


# --- properties --------------------------------------------------------------------------------

objectifs = st.sampled_from(OBJECTIFS)
# AC are multiples of 0.5 (half séances/journées); also allow finer decimals for robustness.
ac_demis = st.integers(min_value=0, max_value=3_000_000).map(lambda n: D(n) / 2)
ac_fins = st.decimals(min_value=0, max_value=1_500_000, places=3, allow_nan=False, allow_infinity=False)
acs = st.one_of(ac_demis, ac_fins)
max_supplementaire = st.decimals(min_value=0, max_value=2_000_000, places=1, allow_nan=False,
                                 allow_infinity=False)


def _max_pour(*acs_vus: Decimal, extra: Decimal) -> Decimal:
    # The national max is >= every AC and (in the real base) >= tranche D's lower bound.
    return max(*acs_vus, D("230000")) + extra


@settings(max_examples=300, deadline=None)
@given(objectifs, acs, max_supplementaire)
def test_amorcage_et_solde_font_le_forfait(objectif, ac, extra):
    c = calculer_forfait_phase1(ac, objectif, _max_pour(ac, extra=extra), PROGRAMME)
    assert c.amorcage + c.solde == c.forfait
    assert c.amorcage == (c.forfait * D("0.30")).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert c.solde > 0 or c.forfait == 0


@settings(max_examples=300, deadline=None)
@given(objectifs, acs, max_supplementaire)
def test_forfait_dans_sa_fourchette_et_au_centime(objectif, ac, extra):
    c = calculer_forfait_phase1(ac, objectif, _max_pour(ac, extra=extra), PROGRAMME)
    fourchette = PROGRAMME.objectifs[objectif].bareme[c.tranche]
    assert fourchette.minimum <= c.forfait <= fourchette.maximum
    for montant in (c.forfait, c.amorcage, c.solde):
        assert montant.as_tuple().exponent == -2
    # Rounded once, from the exact value.
    assert abs(Fraction(c.forfait) - Fraction(c.montant_exact)) <= Fraction(1, 200)


@settings(max_examples=300, deadline=None)
@given(objectifs, acs, acs, max_supplementaire)
def test_monotone_en_activite(objectif, a, b, extra):
    bas, haut = sorted((a, b))
    maximum = _max_pour(haut, extra=extra)
    assert (calculer_forfait_phase1(bas, objectif, maximum, PROGRAMME).forfait
            <= calculer_forfait_phase1(haut, objectif, maximum, PROGRAMME).forfait)
    assert (Fraction(calculer_forfait_phase1(bas, objectif, maximum, PROGRAMME).montant_exact)
            <= Fraction(calculer_forfait_phase1(haut, objectif, maximum, PROGRAMME).montant_exact))


BORNES = [t.borne_inferieure for t in PROGRAMME.tranches[1:]]


@pytest.mark.parametrize("objectif", OBJECTIFS)
@pytest.mark.parametrize("borne", BORNES)
def test_continuite_exacte_a_chaque_borne(objectif, borne):
    # The lower tranche's formula at next_lo gives its max, which the data makes equal to the next min:
    # just below the boundary the forfait rounds to the next tranche's min, at the boundary it is that min.
    rang = [t.borne_inferieure for t in PROGRAMME.tranches].index(borne)
    dessous, dessus = PROGRAMME.tranches[rang - 1], PROGRAMME.tranches[rang]
    bareme = PROGRAMME.objectifs[objectif].bareme
    juste_dessous = calculer_forfait_phase1(borne - D("0.000001"), objectif, MAX_BASE, PROGRAMME)
    a_la_borne = calculer_forfait_phase1(borne, objectif, MAX_BASE, PROGRAMME)
    assert juste_dessous.tranche == dessous.lettre
    assert a_la_borne.tranche == dessus.lettre
    assert juste_dessous.forfait == bareme[dessus.lettre].minimum == a_la_borne.forfait
    # The exact lower-tranche formula evaluated at the boundary itself equals the upper tranche's min.
    f = bareme[dessous.lettre]
    largeur = Fraction(borne) - Fraction(dessous.borne_inferieure)
    limite = Fraction(f.minimum) + (Fraction(f.maximum) - Fraction(f.minimum)) * largeur / largeur
    assert limite == Fraction(bareme[dessus.lettre].minimum)


@settings(max_examples=300, deadline=None)
@given(objectifs, st.sampled_from(BORNES), st.decimals(min_value=D("0.001"), max_value=D("500"), places=3))
def test_continuite_pres_des_bornes(objectif, borne, epsilon):
    # Approaching a boundary from below the forfait never jumps: it is below the boundary's value
    # by at most slope x epsilon (+ a cent of rounding).
    dessous = calculer_forfait_phase1(borne - epsilon, objectif, MAX_BASE, PROGRAMME)
    a_la_borne = calculer_forfait_phase1(borne, objectif, MAX_BASE, PROGRAMME)
    f = PROGRAMME.objectifs[objectif].bareme[dessous.tranche]
    pente = (Fraction(f.maximum) - Fraction(f.minimum)) / (
        Fraction(dessous.borne_suivante) - Fraction(dessous.borne_inferieure))
    ecart = Fraction(a_la_borne.forfait) - Fraction(dessous.forfait)
    assert 0 <= ecart <= pente * Fraction(epsilon) + Fraction(1, 100)


@settings(max_examples=200, deadline=None)
@given(objectifs, st.decimals(min_value=D("230000"), max_value=D("3000000"), places=1))
def test_tranche_d_atteint_son_max_au_max_national(objectif, maximum):
    c = calculer_forfait_phase1(maximum, objectif, maximum, PROGRAMME)
    f = PROGRAMME.objectifs[objectif].bareme["D"]
    assert c.forfait == (f.minimum if maximum == D("230000") else f.maximum)

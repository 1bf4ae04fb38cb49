"""HospiConnect yearly amounts (domain.md 4.2, instruction DNS/2025/180 annex 2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_financement.hospiconnect.rules import montant_annuel, plafond_annuel, taux

PROGRAMME = charger_programme_hospiconnect("2026.1")
D = Decimal
TOUS = ["1.0", "1.1", "1.2", "1.3", "1.4", "2.1", "2.2"]


@pytest.mark.parametrize(("effectifs", "plafond"), [
    (0, "0.00"),  # no staff, no ceiling
    (1, "6600.00"),  # fixed amount from the first agent
    (50, "6600.00"),
    (51, "6633.00"),  # 6 600 + 1 x 33
    (250, "13200.00"),  # domain example: 6 600 + 200 x 33
    (251, "13247.00"),  # 13 200 + 1 x 47
    (1000, "48450.00"),  # domain example: 13 200 + 750 x 47
    (5000, "236450.00"),  # 13 200 + 4 750 x 47
    (5001, "236483.00"),  # 236 450 + 1 x 33
    (10000, "401450.00"),  # 236 450 + 5 000 x 33
    (10001, "401482.00"),  # 401 450 + 1 x 32
    (12000, "465450.00"),  # 401 450 + 2 000 x 32
])
def test_plafond(effectifs, plafond):
    assert plafond_annuel(effectifs, PROGRAMME) == D(plafond)


@pytest.mark.parametrize("effectifs", [-1, True])
def test_effectifs_invalides(effectifs):
    with pytest.raises(RegleMetierError) as exc:
        plafond_annuel(effectifs, PROGRAMME)
    assert exc.value.champ == "effectifs"


@pytest.mark.parametrize(("atteints", "attendu"), [
    (set(), "0"),
    ({"1.0"}, "0.40"),
    ({"1.0", "1.1"}, "0.52"),
    ({"1.0", "1.1", "1.2"}, "0.64"),
    ({"1.0", "1.1", "1.2", "1.3"}, "0.76"),
    ({"1.0", "1.1", "1.2", "1.3", "1.4"}, "0.88"),
    ({"1.0", "1.1", "1.2", "1.3", "1.4", "2.1"}, "1.00"),
    (set(TOUS), "1.00"),  # 7 objectives: "6 or more" -> 100 % [reading]
])
def test_taux(atteints, attendu):
    assert taux(atteints, PROGRAMME) == D(attendu)


def test_sans_objectif_obligatoire_rien():
    assert taux({"1.1", "1.2", "1.3", "1.4", "2.1", "2.2"}, PROGRAMME) == 0
    calcul = montant_annuel(1000, {"1.1", "2.2"}, D("100000.00"), PROGRAMME)
    assert calcul.taux == 0
    assert calcul.montant == D("0.00")
    assert not calcul.objectif_obligatoire_atteint


def test_objectif_inconnu():
    with pytest.raises(RegleMetierError, match="3.1") as exc:
        taux({"1.0", "3.1"}, PROGRAMME)
    assert exc.value.champ == "objectifs_atteints"
    with pytest.raises(RegleMetierError):
        montant_annuel(10, {"9.9"}, D("0"), PROGRAMME)
    with pytest.raises(RegleMetierError):
        taux("1.0", PROGRAMME)  # a bare string is not a set of ids


def test_objectif_sans_cible_dans_l_annee():
    # 2026: only 1.0 has a target (annex 1).
    assert montant_annuel(1000, {"1.0"}, D("1000000.00"), PROGRAMME, annee=2026).montant == D("19380.00")
    with pytest.raises(RegleMetierError):
        montant_annuel(1000, {"1.0", "1.1"}, D("1000000.00"), PROGRAMME, annee=2026)
    with pytest.raises(RegleMetierError):
        montant_annuel(1000, {"1.0"}, D("0.00"), PROGRAMME, annee=2029)


def test_montant_plafonne_par_les_depenses():
    # E = 1 000 -> 48 450; 2 objectives -> 52 % = 25 194.00.
    large = montant_annuel(1000, {"1.0", "1.1"}, D("100000.00"), PROGRAMME)
    assert (large.plafond, large.taux, large.montant_theorique, large.montant) == (
        D("48450.00"), D("0.52"), D("25194.00"), D("25194.00"))
    serre = montant_annuel(1000, {"1.0", "1.1"}, D("20000.50"), PROGRAMME)
    assert serre.montant_theorique == D("25194.00")
    assert serre.montant == D("20000.50")
    # E = 250 -> 13 200; all objectives -> 100 %.
    assert montant_annuel(250, set(TOUS), D("13200.00"), PROGRAMME).montant == D("13200.00")


def test_depenses_invalides():
    for depenses in (D("-1"), D("10.001"), D("NaN")):
        with pytest.raises(RegleMetierError) as exc:
            montant_annuel(10, {"1.0"}, depenses, PROGRAMME)
        assert exc.value.champ == "depenses_eligibles"


def test_montant_theorique_au_centime():
    # E = 51 -> 6 633; 1 objective -> 40 % = 2 653.20 exactly.
    assert montant_annuel(51, {"1.0"}, D("99999.00"), PROGRAMME).montant_theorique == D("2653.20")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=50_000), st.integers(min_value=0, max_value=50_000))
def test_plafond_croissant_en_effectifs(a, b):
    bas, haut = sorted((a, b))
    assert plafond_annuel(bas, PROGRAMME) <= plafond_annuel(haut, PROGRAMME)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=50_000))
def test_un_agent_de_plus_coute_un_tarif_du_bareme(e):
    pas = plafond_annuel(e + 1, PROGRAMME) - plafond_annuel(e, PROGRAMME)
    assert pas in {D("6600"), D("0"), D("33"), D("47"), D("32")}


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=50_000), st.sets(st.sampled_from(TOUS)),
       st.decimals(min_value=0, max_value=10_000_000, places=2))
def test_montant_jamais_au_dessus_du_plafond_ni_des_depenses(e, atteints, depenses):
    c = montant_annuel(e, atteints, depenses, PROGRAMME)
    assert c.montant <= c.plafond
    assert c.montant <= depenses
    assert c.montant >= 0
    assert c.montant.as_tuple().exponent == -2

"""Every phase-1 and HospiConnect amount of the rules equals the independent computation of the
instructions' text (tests/oracle.py), to the cent: worked examples, then a national-size base, then
properties over random inputs."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_financement.forfaits.rules import calculer_forfait_phase1
from hopen_financement.hospiconnect.rules import montant_annuel

from .. import oracle

PHASE1 = charger_programme_phase1()
HC = charger_programme_hospiconnect()
D = Decimal
OBJECTIFS = sorted(oracle.ANNEXE_2_KEUR)
HC_OBJECTIFS = ["1.0", "1.1", "1.2", "1.3", "1.4", "2.1", "2.2"]


def _compare_phase1(ac: Decimal, objectif: str, ac_max: Decimal) -> None:
    attendu = oracle.forfait_phase1(ac, objectif, ac_max)
    c = calculer_forfait_phase1(ac, objectif, ac_max, PHASE1)
    assert (c.tranche, c.forfait, c.amorcage, c.solde) == (
        attendu["tranche"], attendu["forfait"], attendu["amorcage"], attendu["solde"]), (ac, objectif)


def test_le_programme_charge_est_l_annexe_2():
    # The data file and the instruction's table agree, tranche by tranche, objective by objective.
    for objectif in OBJECTIFS:
        for rang, lettre in enumerate(oracle.LETTRES):
            f = PHASE1.objectifs[objectif].bareme[lettre]
            mini, maxi = (D(x.strip().replace(",", ".")) * 1000
                          for x in oracle.ANNEXE_2_KEUR[objectif][rang].split("-"))
            assert (f.minimum, f.maximum) == (mini, maxi)
    assert [t.borne_inferieure for t in PHASE1.tranches] == [D(s) for s in oracle.SEUILS]


def test_base_nationale_de_taille_reelle():
    # 3 000 establishments x 8 objectives, AC in half journées up to 600 000.
    hasard = random.Random(2024)
    acs = [D(hasard.randint(0, 1_200_000)) / 2 for _ in range(3000)]
    maximum = max(acs)
    for ac in acs:
        for objectif in OBJECTIFS:
            _compare_phase1(ac, objectif, maximum)


@pytest.mark.parametrize("ac", ["0", "0.5", "6999", "6999.5", "7000", "7000.5", "22499.5", "22500",
                                "229999.5", "230000", "230000.5", "412345.5"])
@pytest.mark.parametrize("objectif", OBJECTIFS)
def test_bornes_et_voisinages(ac, objectif):
    _compare_phase1(D(ac), objectif, D("412345.5"))


def test_maximum_national_egal_a_230000():
    for objectif in OBJECTIFS:
        _compare_phase1(D("230000"), objectif, D("230000"))


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 2_000_000), st.sampled_from(OBJECTIFS), st.integers(0, 2_000_000))
def test_phase1_egale_l_oracle(demi_journees, objectif, extra):
    ac = D(demi_journees) / 2
    _compare_phase1(ac, objectif, max(ac, D(230000)) + D(extra) / 2)


@pytest.mark.parametrize(("effectifs", "plafond"), [(0, 0), (1, 6600), (50, 6600), (250, 13200),
                                                     (1000, 48450), (5000, 236450), (10001, 401482)])
def test_exemples_du_plafond(effectifs, plafond):
    assert oracle.plafond_hospiconnect(effectifs) == plafond  # the oracle itself, on domain.md's examples


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 30_000), st.lists(st.sampled_from(HC_OBJECTIFS), unique=True),
       st.integers(0, 2_000_000_00))
def test_hospiconnect_egal_l_oracle(effectifs, objectifs, depenses_centimes):
    depenses = D(depenses_centimes).scaleb(-2)
    attendu = oracle.montant_hospiconnect(effectifs, objectifs, depenses)
    c = montant_annuel(effectifs, objectifs, depenses, HC)
    assert (c.plafond, c.taux, c.montant_theorique, c.montant) == (
        attendu["plafond"], attendu["taux"], attendu["montant_theorique"], attendu["montant"])


def test_hospiconnect_base_nationale():
    hasard = random.Random(2026)
    for _ in range(3000):
        effectifs = hasard.randint(0, 15000)
        objectifs = hasard.sample(HC_OBJECTIFS, hasard.randint(0, 7))
        depenses = D(hasard.randint(0, 50_000_000)).scaleb(-2)
        attendu = oracle.montant_hospiconnect(effectifs, objectifs, depenses)
        assert montant_annuel(effectifs, objectifs, depenses, HC).montant == attendu["montant"]

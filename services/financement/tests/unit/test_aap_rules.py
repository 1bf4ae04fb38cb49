"""AAP: granted <= theoretical maximum and <= forecast; two halves that add up."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hopen_common.programme.aap import charger_programme_aap, maximum_theorique
from hopen_common.programme.erreurs import RegleMetierError
from hopen_financement.aap.rules import CibleAap, cible, decider_montant, tranches

P = charger_programme_aap("2026.1")
D = Decimal


def _attendu(ac: Decimal, n: int) -> Decimal:
    """The data file's function, recomputed independently with fractions."""
    points = [(Fraction(a), Fraction(m)) for a, m in P.maximum.points]
    coefficient = Fraction(P.maximum.coefficients[min(n, max(P.maximum.coefficients))])
    base = points[-1][1]
    for (a0, m0), (a1, m1) in zip(points, points[1:], strict=False):
        if Fraction(ac) < a1:
            base = m0 + (m1 - m0) * (Fraction(ac) - a0) / (a1 - a0)
            break
    v = base * coefficient * 100
    q, r = divmod(v.numerator, v.denominator)
    return D(q + (1 if 2 * r >= v.denominator else 0)).scaleb(-2)


def test_exemple():
    # 150 000 + 450 000 x 77 500 / 207 500 = 318 072.289..., x 0.80 = 254 457.831... -> 254 457.83.
    assert maximum_theorique(D("100000"), 2, P).maximum == D("254457.83")


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 4_000_000), st.integers(1, 8))
def test_maximum_independant_et_monotone(demi, n):
    ac = D(demi) / 2
    m = maximum_theorique(ac, n, P).maximum
    assert m == _attendu(ac, n)
    assert maximum_theorique(ac + 1, n, P).maximum >= m
    assert maximum_theorique(ac, n + 1, P).maximum >= m


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**10))
def test_tranches_font_le_montant(centimes):
    montant = D(centimes).scaleb(-2)
    t = tranches(montant, P)
    assert [x.annee for x in t] == [2026, 2027]
    assert sum(x.montant for x in t) == montant
    assert abs(t[0].montant - t[1].montant) <= D("0.01")


def test_montant_accorde_plafonne():
    maxi = maximum_theorique(D("100000"), 2, P).maximum
    ok = decider_montant(D("100000"), ["a", "b"], "desengorgement_urgences", D("300000.00"), maxi, P)
    assert ok.plafond == maxi
    assert ok.tranches[0].montant + ok.tranches[1].montant == maxi
    with pytest.raises(RegleMetierError, match="maximum théorique") as exc:
        decider_montant(D("100000"), ["a", "b"], "desengorgement_urgences", D("300000.00"),
                        maxi + D("0.01"), P)
    assert exc.value.champ == "montant_accorde"
    with pytest.raises(RegleMetierError, match="dépenses prévues"):
        decider_montant(D("100000"), ["a", "b"], "desengorgement_urgences", D("1000.00"), D("1000.01"), P)
    with pytest.raises(RegleMetierError) as exc:
        decider_montant(D("100000"), ["a"], "inconnu", D("1000.00"), D("10.00"), P)
    assert exc.value.champ == "theme"
    with pytest.raises(RegleMetierError) as exc:
        decider_montant(D("100000"), [], "desengorgement_urgences", D("1000.00"), D("10.00"), P)
    assert exc.value.champ == "objectifs"


def test_cible_suit_les_decisions_courantes():
    """What a project is worth from its current decisions (issue 9): the halves when retained, 0 for
    every due tranche when not retained, the second half 0 (and released) when not reached."""
    programme = charger_programme_aap()
    retenu = cible(D("200000.01"), None, programme)
    assert retenu.tranches == {"aap_acceptation": D("100000.01"), "aap_atteinte": None}
    assert retenu.engage == D("200000.01")
    assert cible(D("200000.01"), True, programme).tranches["aap_atteinte"] == D("100000.00")
    rate = cible(D("200000.01"), False, programme)
    assert rate.tranches["aap_atteinte"] == D("0.00")
    assert rate.engage == D("100000.01")
    assert cible(None, None, programme) == CibleAap(D("0.00"), {"aap_acceptation": D("0.00"),
                                                                "aap_atteinte": None})
    assert cible(None, True, programme).tranches == {"aap_acceptation": D("0.00"), "aap_atteinte": D("0.00")}

"""Phase-1 attainment, table-driven, no fixtures: each indicator against its own target, SUN-ES when
the ES reached that indicator's domain (domain.md 3.1, ADR 0007); ≥ wins, exact rationals."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_instruction.objectifs.rules import Mesure, evaluer_objectif

PROGRAMME = charger_programme_phase1()
TOUS = frozenset({"DS1.1", "DS1.2", "DS1.3", "DS2.1", "DS3.1"})
D = Decimal

# (objective, SUN-ES domains reached, [(indicator, expected target, is it the SUN-ES one)]).
CAS = [
    ("P1.O1", set(), [("P1.O1.a", "0.80", False)]),
    ("P1.O1", TOUS, [("P1.O1.a", "0.80", False)]),  # new objective: one target
    ("P1.O2", set(), [("P1.O2.a", "0.55", False), ("P1.O2.b", "0.50", False)]),
    ("P1.O2", {"DS1.1"}, [("P1.O2.a", "0.70", True), ("P1.O2.b", "0.50", False)]),
    ("P1.O2", {"DS1.2"}, [("P1.O2.a", "0.55", False), ("P1.O2.b", "0.65", True)]),
    ("P1.O2", {"DS1.1", "DS1.2"}, [("P1.O2.a", "0.70", True), ("P1.O2.b", "0.65", True)]),
    ("P1.O2", TOUS - {"DS1.1", "DS1.2"}, [("P1.O2.a", "0.55", False), ("P1.O2.b", "0.50", False)]),
    ("P1.O3", set(), [("P1.O3.a", "0.55", False)]),
    ("P1.O3", {"DS1.3"}, [("P1.O3.a", "0.70", True)]),
    ("P1.O3", TOUS - {"DS1.3"}, [("P1.O3.a", "0.55", False)]),
    ("P1.O4", set(), [("P1.O4.a", "0.50", False)]),
    ("P1.O4", TOUS, [("P1.O4.a", "0.50", False)]),  # new objective: one target
    ("P1.O5", set(), [("P1.O5.a", "0.50", False)]),
    ("P1.O5", {"DS2.1"}, [("P1.O5.a", "0.65", True)]),
    ("P1.O5", TOUS - {"DS2.1"}, [("P1.O5.a", "0.50", False)]),
    ("P1.O6", set(), [("P1.O6.a", "0.45", False)]),
    ("P1.O6", {"DS3.1"}, [("P1.O6.a", "0.60", True)]),
    ("P1.O6", TOUS - {"DS3.1"}, [("P1.O6.a", "0.45", False)]),
    # "Changement d'indicateur": no SUN-ES domain entitles an ES to 70 % (ADR 0007).
    ("P1.O7", set(), [("P1.O7.a", "0.50", False)]),
    ("P1.O7", TOUS, [("P1.O7.a", "0.50", False)]),
    ("P1.O8", set(), [("P1.O8.a", "0.50", False)]),
    ("P1.O8", TOUS, [("P1.O8.a", "0.50", False)]),
]


def test_chaque_objectif_et_chaque_indicateur_est_dans_la_table() -> None:
    vus = {(o, i) for o, _, attendus in CAS for i, _, _ in attendus}
    assert vus == {(o.id, i.id) for o in PROGRAMME.objectifs.values() for i in o.indicateurs}
    for objectif in PROGRAMME.objectifs.values():  # each SUN-ES domain both reached and not
        for indicateur in objectif.indicateurs:
            drapeaux = {sun_es for o, _, att in CAS for i, _, sun_es in att if i == indicateur.id}
            assert drapeaux == ({False} if indicateur.domaine_sun_es is None else {False, True})


def _a_la_cible(cible: Decimal, echelle: int = 1000) -> tuple[int, int]:
    num, den = Fraction(cible).as_integer_ratio()
    return num * echelle, den * echelle


@pytest.mark.parametrize(("objectif", "domaines", "attendus"), CAS)
def test_cible_par_indicateur_et_frontiere_exacte(objectif: str, domaines: set[str],
                                                  attendus: list[tuple[str, str, bool]]) -> None:
    sans_mesure = evaluer_objectif(PROGRAMME.objectif(objectif), {}, domaines_sun_es_atteints=domaines)
    assert [(i.indicateur, i.cible, i.cible_sun_es) for i in sans_mesure.indicateurs] == [
        (i, D(c), s) for i, c, s in attendus]
    assert not sans_mesure.complet
    assert not sans_mesure.atteint

    # Exactly at each target: reached (≥ wins).
    mesures = {i: Mesure(*_a_la_cible(D(c))) for i, c, _ in attendus}
    pile = evaluer_objectif(PROGRAMME.objectif(objectif), mesures, domaines_sun_es_atteints=domaines)
    assert [(i.cible, i.taux, i.atteint) for i in pile.indicateurs] == [
        (D(c), D(c).quantize(D("0.0001")), True) for _, c, _ in attendus]
    assert pile.complet
    assert pile.atteint

    # One unit under each target: missed, on every indicator and so on the objective.
    dessous = {i: Mesure(m.numerateur - 1, m.denominateur) for i, m in mesures.items()}
    rate = evaluer_objectif(PROGRAMME.objectif(objectif), dessous, domaines_sun_es_atteints=domaines)
    assert [i.atteint for i in rate.indicateurs] == [False] * len(attendus)
    assert rate.complet
    assert not rate.atteint


def test_p1_o2_avec_ds1_1_seul() -> None:
    objectif = PROGRAMME.objectif("P1.O2")
    # 69 % LDL meets the others' 55 % but not its own SUN-ES 70 %; 50 % ODS meets b's 50 %.
    evaluation = evaluer_objectif(objectif, {"P1.O2.a": Mesure(69, 100), "P1.O2.b": Mesure(50, 100)},
                                  domaines_sun_es_atteints={"DS1.1"})
    assert [(i.indicateur, i.cible, i.cible_sun_es, i.atteint) for i in evaluation.indicateurs] == [
        ("P1.O2.a", D("0.70"), True, False), ("P1.O2.b", D("0.50"), False, True)]
    assert not evaluation.atteint
    atteint = evaluer_objectif(objectif, {"P1.O2.a": Mesure(7, 10), "P1.O2.b": Mesure(1, 2)},
                               domaines_sun_es_atteints={"DS1.1"})
    assert atteint.atteint


def test_le_verdict_utilise_la_fraction_exacte_pas_le_taux_arrondi() -> None:
    evaluation = evaluer_objectif(PROGRAMME.objectif("P1.O3"), {"P1.O3.a": Mesure(699999, 1000000)},
                                  domaines_sun_es_atteints={"DS1.3"})
    (ligne,) = evaluation.indicateurs
    assert ligne.taux == D("0.7000")  # shown rounded to the target...
    assert ligne.cible == D("0.70")
    assert not ligne.atteint
    tiers = evaluer_objectif(PROGRAMME.objectif("P1.O6"), {"P1.O6.a": Mesure(2, 3)},
                             domaines_sun_es_atteints={"DS3.1"})
    assert tiers.indicateurs[0].taux == D("0.6667")
    assert tiers.atteint


def test_indicateur_manquant() -> None:
    evaluation = evaluer_objectif(PROGRAMME.objectif("P1.O2"), {"P1.O2.a": Mesure(9, 10)},
                                  domaines_sun_es_atteints=TOUS)
    assert [i.atteint for i in evaluation.indicateurs] == [True, False]
    assert evaluation.indicateurs[1].numerateur is None
    assert not evaluation.complet
    assert not evaluation.atteint

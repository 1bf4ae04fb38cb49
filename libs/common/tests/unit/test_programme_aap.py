"""The AAP programme and its regional envelopes: one copy every service loads, consistent, and the
theoretical maximum instruction and financement both compute (exact, rounded once)."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from hopen_common.programme.aap import (
    charger_enveloppes_aap,
    charger_programme_aap,
    construire_enveloppes_aap,
    construire_programme_aap,
    maximum_theorique,
)
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.phase1 import DonneesProgrammeInvalides, lire_donnees, versions_disponibles

D = Decimal
P = charger_programme_aap("2026.1")


def test_derniere_version_et_cache():
    assert charger_programme_aap() is charger_programme_aap(versions_disponibles("aap")[-1])
    assert charger_enveloppes_aap() is charger_enveloppes_aap(versions_disponibles("enveloppes_aap")[-1])
    # "aap_v" must not pick up "enveloppes_aap_v" files, nor the reverse.
    assert versions_disponibles("aap") == ["2026.1"]
    assert versions_disponibles("enveloppes_aap") == ["2026.1"]
    with pytest.raises(RegleMetierError) as exc:
        charger_programme_aap("1999.1")
    assert exc.value.champ == "version"


def test_themes_conditions_calendrier():
    assert {t.id: t.condition for t in P.themes.values()} == {
        "rattrapage_maturite": "sans_versement_usage",
        "desengorgement_urgences": "hospiconnect_valide",
        "logistique_produits_sante": "hospiconnect_valide",
        "temps_ressources_humaines": "hospiconnect_valide",
    }
    assert all(t.libelle and t.condition_libelle for t in P.themes.values())
    assert (P.participations_max, P.annees_depenses) == (2, (2026, 2027))
    assert (P.calendrier.fin_depot_dossiers, P.calendrier.fin_selection,
            P.calendrier.fin_depot_preuves_2027) == (date(2026, 5, 29), date(2026, 10, 2), date(2027, 6, 30))
    assert [(v.nature, v.annee, v.taux) for v in P.versements] == [
        ("aap_acceptation", 2026, D("0.50")), ("aap_atteinte", 2027, D("0.50"))]
    assert "DNS/2025/180" in P.reference


def test_parametres_du_maximum_restent_marques_provisoires():
    # ADR 0021: the guide's formula is not in our texts; the numbers are placeholders until it is.
    assert lire_donnees("aap", "2026.1")["source"]["statut_maximum_theorique"].startswith("PROVISOIRE")
    assert P.maximum.points == ((D(0), D(50000)), (D(22500), D(150000)), (D(230000), D(600000)),
                                (D(1000000), D(1500000)))
    assert dict(P.maximum.coefficients) == {1: D("0.60"), 2: D("0.80"), 3: D("1.00")}


def test_enveloppes():
    e = charger_enveloppes_aap("2026.1")
    assert (e.dispositif, e.total, len(e.regions)) == ("aap", D(87_200_000), 18)
    assert sum(r.montant for r in e.regions) == e.total
    assert e.region("94").montant == D(456_000)
    assert e.region("99") is None


def _attendu(ac: Decimal, n: int) -> Decimal:
    """The annex-3 shape recomputed by hand: linear between points, flat after, x coefficient, half up."""
    points = [(Fraction(a), Fraction(m)) for a, m in P.maximum.points]
    base = points[-1][1]
    for (a0, m0), (a1, m1) in zip(points, points[1:], strict=False):
        if Fraction(ac) < a1:
            base = m0 + (m1 - m0) * (Fraction(ac) - a0) / (a1 - a0)
            break
    v = base * Fraction(P.maximum.coefficients[min(n, 3)]) * 100
    q, r = divmod(v.numerator, v.denominator)
    return D(q + (1 if 2 * r >= v.denominator else 0)).scaleb(-2)


@pytest.mark.parametrize("ac", ["0", "0.01", "4910", "5120", "22499.99", "22500", "62180.5", "110900.5",
                                "229999.99", "230000", "612480", "999999.99", "1000000", "87654321.99"])
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_maximum_sur_chaque_segment(ac, n):
    calcul = maximum_theorique(D(ac), n, P)
    assert calcul.maximum == _attendu(D(ac), n)
    assert calcul.parametres_version == "2026.1"


def test_maximum_exemples():
    # 150 000 + 450 000 x 77 500 / 207 500 = 318 072.289..., x 0.80 = 254 457.831... -> 254 457.83.
    calcul = maximum_theorique(D("100000"), 2, P)
    assert (calcul.maximum, calcul.point_bas, calcul.point_haut, calcul.coefficient) == (
        D("254457.83"), (D(22500), D(150000)), (D(230000), D(600000)), D("0.80"))
    au_dela = maximum_theorique(D("1062180.50"), 3, P)
    assert (au_dela.maximum, au_dela.point_haut) == (D("1500000.00"), None)
    # 50 000 + 100 000 x 5 120 / 22 500 = 72 755.55..., x 0.80 = 58 204.44...
    assert maximum_theorique(D("5120"), 2, P).maximum == D("58204.44")


@pytest.mark.parametrize(("ac", "n", "champ"), [
    (D("-0.01"), 1, "activite_combinee_cumulee"),
    (D("NaN"), 1, "activite_combinee_cumulee"),
    (D("100"), 0, "objectifs"),
])
def test_maximum_refuse(ac, n, champ):
    with pytest.raises(RegleMetierError) as exc:
        maximum_theorique(ac, n, P)
    assert exc.value.champ == champ


@pytest.mark.parametrize("casse", [
    lambda d: d["themes"][0].update(condition="inconnue"),
    lambda d: d["themes"].append(dict(d["themes"][0])),
    lambda d: d["versements"][1].update(taux="0.49"),
    lambda d: d["maximum_theorique"]["points_activite_euros"].__setitem__(0, ["1", "50000"]),
    lambda d: d["maximum_theorique"]["points_activite_euros"].__setitem__(2, ["230000", "100000"]),
    lambda d: d["maximum_theorique"]["coefficient_par_nombre_objectifs"].pop("2"),
    lambda d: d["maximum_theorique"]["coefficient_par_nombre_objectifs"].update({"3": "0.70"}),
    lambda d: d["maximum_theorique"]["coefficient_par_nombre_objectifs"].update({"1": 0.6}),
    lambda d: d["calendrier"].update(fin_selection="2026-05-28"),
    lambda d: d.update(participations_max=0),
])
def test_document_aap_incoherent_refuse(casse):
    donnees = copy.deepcopy(lire_donnees("aap", "2026.1"))
    construire_programme_aap(donnees)
    casse(donnees)
    with pytest.raises(DonneesProgrammeInvalides):
        construire_programme_aap(donnees)


@pytest.mark.parametrize("casse", [
    lambda d: d["regions"][0].update(montant_keur="10158"),  # no longer adds up to 87 200
    lambda d: d["regions"].append(dict(d["regions"][0])),
    lambda d: d.update(dispositif="autre"),
])
def test_document_enveloppes_incoherent_refuse(casse):
    donnees = copy.deepcopy(lire_donnees("enveloppes_aap", "2026.1"))
    construire_enveloppes_aap(donnees)
    casse(donnees)
    with pytest.raises(DonneesProgrammeInvalides):
        construire_enveloppes_aap(donnees)

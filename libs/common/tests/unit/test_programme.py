"""Programme data files: they load, they are consistent, and attainment compares exactly."""

from __future__ import annotations

import copy
import json
from dataclasses import FrozenInstanceError
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hopen_common.programme import charger_programme_hospiconnect, charger_programme_phase1
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.phase1 import (
    DonneesProgrammeInvalides,
    _construire,
    lire_donnees,
    taux_atteint,
    versions_disponibles,
)

D = Decimal


@pytest.fixture(scope="module")
def programme():
    return charger_programme_phase1("2024.1")


def test_version_la_plus_recente_et_cache(programme):
    assert charger_programme_phase1() is charger_programme_phase1(versions_disponibles("phase1")[-1])
    assert charger_programme_phase1("2024.1") is programme
    assert "2024.1" in versions_disponibles("phase1")


def test_version_inconnue():
    with pytest.raises(RegleMetierError) as exc:
        charger_programme_phase1("1999.1")
    assert exc.value.champ == "version"


def test_huit_objectifs(programme):
    assert list(programme.objectifs) == [f"P1.O{i}" for i in range(1, 9)]
    for objectif in programme.objectifs.values():
        assert objectif.libelle
        assert objectif.indicateurs
        assert all(i.id.startswith(objectif.id + ".") for i in objectif.indicateurs)
    assert [i.id for i in programme.objectifs["P1.O2"].indicateurs] == ["P1.O2.a", "P1.O2.b"]


def test_cibles(programme):
    o2 = programme.objectifs["P1.O2"]
    a, b = o2.indicateurs
    assert (a.cible_sun_es, a.cible_autres, b.cible_sun_es, b.cible_autres) == (
        D("0.70"), D("0.55"), D("0.65"), D("0.50"))
    assert programme.objectifs["P1.O1"].indicateurs[0].cible_autres == D("0.80")
    assert programme.objectifs["P1.O4"].indicateurs[0].cible_autres == D("0.50")
    assert programme.objectifs["P1.O6"].indicateurs[0].cible_sun_es == D("0.60")


def test_domaines_sun_es(programme):
    domaines = {oid: o.domaines_sun_es for oid, o in programme.objectifs.items()}
    assert domaines == {
        "P1.O1": (), "P1.O2": ("DS1.1", "DS1.2"), "P1.O3": ("DS1.3",), "P1.O4": (),
        "P1.O5": ("DS2.1",), "P1.O6": ("DS3.1",), "P1.O7": (), "P1.O8": (),
    }
    a, b = programme.objectifs["P1.O2"].indicateurs
    # Per-indicator reading of annex 1: DS1.1 alone raises only the LDL target.
    assert a.cible({"DS1.1"}) == D("0.70")
    assert b.cible({"DS1.1"}) == D("0.50")
    assert b.cible({"DS1.1", "DS1.2"}) == D("0.65")


def test_bareme_continu(programme):
    lettres = [t.lettre for t in programme.tranches]
    assert lettres == ["A", "B", "C", "D"]
    assert [t.borne_inferieure for t in programme.tranches] == [D(0), D(7000), D(22500), D(230000)]
    for objectif in programme.objectifs.values():
        for avant, apres in zip(lettres, lettres[1:], strict=False):
            assert objectif.bareme[avant].maximum == objectif.bareme[apres].minimum
        assert all(f.minimum < f.maximum for f in objectif.bareme.values())
    # Spot checks against annex 2 (k€ -> €).
    assert programme.objectifs["P1.O2"].bareme["D"].maximum == D("160000")
    assert programme.objectifs["P1.O3"].bareme["A"].minimum == D("900")
    assert programme.objectifs["P1.O7"].bareme["D"].maximum == D("42600")


def test_taux_amorcage_et_calendrier(programme):
    assert programme.taux_amorcage == D("0.30")
    cal = programme.calendrier
    assert (cal.candidature_debut, cal.candidature_fin, cal.fin_instruction, cal.fin_mesure_indicateurs) == (
        date(2024, 7, 25), date(2024, 10, 4), date(2024, 11, 8), date(2025, 7, 31))
    assert "DNS/2024/123" in programme.reference


def test_immuable(programme):
    with pytest.raises(FrozenInstanceError):
        programme.version = "x"
    with pytest.raises(TypeError):
        programme.objectifs["P1.O9"] = programme.objectifs["P1.O1"]


def test_objectif_inconnu(programme):
    with pytest.raises(RegleMetierError, match="P1.O9") as exc:
        programme.objectif("P1.O9")
    assert exc.value.champ == "objectif"


def test_fichiers_sans_nombre_flottant():
    # Numbers are strings in the data files so nothing is ever parsed as a binary float.
    dossier = resources.files("hopen_common.programme").joinpath("data")
    for fichier in dossier.iterdir():
        if fichier.name.endswith(".json"):
            json.loads(fichier.read_text("utf-8"), parse_float=_refuser_flottant)


def _refuser_flottant(texte: str) -> float:
    raise AssertionError(f"nombre flottant dans les données : {texte}")


@pytest.mark.parametrize(("num", "den", "cible", "attendu"), [
    (7, 10, "0.70", True),
    (699999, 1000000, "0.70", False),
    (700000, 1000000, "0.70", True),
    (11, 20, "0.55", True),  # 0.55 exactly; 0.55 as a float is 0.55000000000000004
    (54999, 100000, "0.55", False),
    (0, 1, "0", True),
    (0, 5, "0.50", False),
    (1, 1, "1", True),
    (2, 3, "0.6666666666666666666666666667", False),  # 2/3 < that decimal
    (2, 3, "0.6666666666666666666666666666", True),
])
def test_taux_atteint(num, den, cible, attendu):
    assert taux_atteint(num, den, D(cible)) is attendu


@pytest.mark.parametrize(("num", "den", "champ"), [
    (1, 0, "denominateur"), (0, -3, "denominateur"), (-1, 10, "numerateur"), (11, 10, "numerateur"),
])
def test_taux_atteint_refuse(num, den, champ):
    with pytest.raises(RegleMetierError) as exc:
        taux_atteint(num, den, D("0.5"))
    assert exc.value.champ == champ


@given(st.integers(min_value=1, max_value=10**9), st.data())
def test_taux_atteint_egal_a_la_comparaison_entiere(den, data):
    num = data.draw(st.integers(min_value=0, max_value=den))
    centiemes = data.draw(st.integers(min_value=0, max_value=100))
    cible = D(centiemes) / 100
    assert taux_atteint(num, den, cible) is (num * 100 >= centiemes * den)


def test_hospiconnect():
    h = charger_programme_hospiconnect("2026.1")
    assert charger_programme_hospiconnect() is charger_programme_hospiconnect(
        versions_disponibles("hospiconnect")[-1])
    assert list(h.objectifs) == ["1.0", "1.1", "1.2", "1.3", "1.4", "2.1", "2.2"]
    assert h.objectif_obligatoire == "1.0"
    assert h.objectifs_de(2026) == ("1.0",)
    assert len(h.objectifs_de(2028)) == 7
    assert dict(h.taux_par_nombre_objectifs) == {
        1: D("0.40"), 2: D("0.52"), 3: D("0.64"), 4: D("0.76"), 5: D("0.88"), 6: D("1.00")}
    assert h.forfait_fixe.montant == D("6600")
    assert [(p.du_agent, p.au_agent, p.montant_par_agent) for p in h.paliers] == [
        (51, 250, D("33")), (251, 5000, D("47")), (5001, 10000, D("33")), (10001, None, D("32"))]
    assert h.objectifs["2.1"].cibles_taux == {2027: D("0.75"), 2028: D("0.90")}
    assert h.calendrier.fin_candidatures == date(2026, 2, 13)
    assert [(a, v.fin_depot_preuves, v.fin_instruction) for a, v in sorted(h.calendrier.annees.items())] == [
        (2026, date(2026, 6, 26), date(2026, 9, 15)),
        (2027, date(2027, 6, 11), date(2027, 9, 15)),
        (2028, date(2028, 6, 16), date(2028, 9, 15)),
    ]
    assert "DNS/2025/180" in h.reference


# --- SUN-ES target per indicator (domain.md 3.1, ADR 0007) ---------------------------------------

TOUS_LES_DOMAINES = frozenset({"DS1.1", "DS1.2", "DS1.3", "DS2.1", "DS3.1"})

# Annex 1, one row per indicator: (indicator, its SUN-ES domain, SUN-ES target, others' target).
ANNEXE_1 = [
    ("P1.O1.a", None, "0.80", "0.80"),
    ("P1.O2.a", "DS1.1", "0.70", "0.55"),
    ("P1.O2.b", "DS1.2", "0.65", "0.50"),
    ("P1.O3.a", "DS1.3", "0.70", "0.55"),
    ("P1.O4.a", None, "0.50", "0.50"),
    ("P1.O5.a", "DS2.1", "0.65", "0.50"),
    ("P1.O6.a", "DS3.1", "0.60", "0.45"),
    ("P1.O7.a", None, "0.70", "0.50"),  # "Changement d'indicateur": no domain (ADR 0007)
    ("P1.O8.a", None, "0.70", "0.50"),
]


def _indicateur(version: str, indicateur_id: str):
    objectif = charger_programme_phase1(version).objectif(indicateur_id.rsplit(".", 1)[0])
    return next(i for i in objectif.indicateurs if i.id == indicateur_id)


def test_annexe_1_couvre_chaque_indicateur():
    programme = charger_programme_phase1()
    assert [i.id for o in programme.objectifs.values() for i in o.indicateurs] == [r[0] for r in ANNEXE_1]


@pytest.mark.parametrize("version", ["2024.1", "2024.2"])
@pytest.mark.parametrize(("indicateur_id", "domaine", "cible_sun_es", "cible_autres"), ANNEXE_1)
def test_cible_par_indicateur(version, indicateur_id, domaine, cible_sun_es, cible_autres):
    indicateur = _indicateur(version, indicateur_id)
    assert (indicateur.domaine_sun_es, indicateur.cible_sun_es, indicateur.cible_autres) == (
        domaine, D(cible_sun_es), D(cible_autres))
    autres_domaines = TOUS_LES_DOMAINES - {domaine}
    # Without its own domain, every other domain reached changes nothing.
    for atteints in (set(), autres_domaines):
        assert indicateur.cible_sun_es_applicable(atteints) is False
        assert indicateur.cible(atteints) == D(cible_autres)
    if domaine is None:
        assert indicateur.cible_sun_es_applicable(TOUS_LES_DOMAINES) is False
        assert indicateur.cible(TOUS_LES_DOMAINES) == D(cible_autres)
    else:
        for atteints in ({domaine}, TOUS_LES_DOMAINES):
            assert indicateur.cible_sun_es_applicable(atteints) is True
            assert indicateur.cible(atteints) == D(cible_sun_es)


def test_p1_o2_avec_ds1_1_seul():
    a, b = charger_programme_phase1().objectif("P1.O2").indicateurs
    assert (a.cible(["DS1.1"]), b.cible(["DS1.1"])) == (D("0.70"), D("0.50"))
    assert (a.cible(["DS1.2"]), b.cible(["DS1.2"])) == (D("0.55"), D("0.65"))


def test_2024_2_ne_change_aucun_nombre_de_2024_1():
    ancienne, nouvelle = charger_programme_phase1("2024.1"), charger_programme_phase1("2024.2")
    assert (ancienne.tranches, ancienne.taux_amorcage, ancienne.calendrier, ancienne.reference) == (
        nouvelle.tranches, nouvelle.taux_amorcage, nouvelle.calendrier, nouvelle.reference)
    for oid, objectif in ancienne.objectifs.items():
        autre = nouvelle.objectifs[oid]
        assert (objectif.libelle, objectif.bareme, objectif.domaines_sun_es) == (
            autre.libelle, autre.bareme, autre.domaines_sun_es)
        assert [(i.id, i.libelle, i.cible_sun_es, i.cible_autres, i.domaine_sun_es)
                for i in objectif.indicateurs] == [
            (i.id, i.libelle, i.cible_sun_es, i.cible_autres, i.domaine_sun_es) for i in autre.indicateurs]


def test_chaque_indicateur_sans_domaine_dit_pourquoi():
    programme = charger_programme_phase1("2024.2")
    for objectif in programme.objectifs.values():
        for i in objectif.indicateurs:
            assert (i.domaine_sun_es is None) == bool(i.motif_sans_domaine_sun_es), i.id
    # The annex's own words for the rows without a domain.
    nouvel, changement = "Nouvel objectif", "Changement d'indicateur"
    for indicateur_id, annexe in (("P1.O1.a", nouvel), ("P1.O4.a", nouvel),
                                  ("P1.O7.a", changement), ("P1.O8.a", changement)):
        assert annexe in (_indicateur("2024.2", indicateur_id).motif_sans_domaine_sun_es or "")


def test_domaine_et_motif_sans_domaine_a_la_fois_refuses():
    donnees = copy.deepcopy(lire_donnees("phase1", "2024.2"))
    donnees["objectifs"][1]["indicateurs"][0]["motif_sans_domaine_sun_es"] = "contradiction"
    with pytest.raises(DonneesProgrammeInvalides, match="P1.O2.a"):
        _construire(donnees)

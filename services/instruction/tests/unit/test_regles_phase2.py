"""Pure rules of instruction's phase 2, table-driven, no fixtures: HospiConnect evidence against the
year's targets (exact rationals) and the AAP selection ceilings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_instruction.hospiconnect.rules import PreuveVue, evaluer_annee, verifier_objectifs_atteints
from hopen_instruction.projets.rules import activites_participants, disponibilite, verifier_selection

PROGRAMME = charger_programme_hospiconnect()
T0 = datetime(2027, 5, 1, tzinfo=UTC)


def taux(objectif: str, num: int, den: int, minutes: int = 0) -> PreuveVue:
    return PreuveVue(objectif, "taux", None, num, den, T0 + timedelta(minutes=minutes))


def document(objectif: str) -> PreuveVue:
    return PreuveVue(objectif, "document", {"nom": "pv.pdf", "type": "pv", "sha256": "0" * 64}, None, None,
                     T0)


@pytest.mark.parametrize(("annee", "objectif", "num", "den", "atteint"), [
    (2027, "2.1", 3, 4, True),  # exactly 75 %
    (2027, "2.1", 749999, 1000000, False),
    (2028, "2.1", 9, 10, True),  # 90 % in 2028
    (2028, "2.1", 89, 100, False),
    (2027, "2.2", 2, 5, True),  # exactly 40 %
    (2027, "2.2", 399999999, 1000000000, False),
    (2028, "2.2", 3, 5, True),
    (2028, "2.2", 59, 100, False),
])
def test_taux_contre_la_cible_de_l_annee(annee: int, objectif: str, num: int, den: int,
                                         atteint: bool) -> None:
    evaluation = {e.objectif: e for e in evaluer_annee(PROGRAMME, annee, [taux(objectif, num, den)])}
    assert evaluation[objectif].cible_atteinte is atteint


def test_le_dernier_taux_depose_compte() -> None:
    (e,) = [x for x in evaluer_annee(PROGRAMME, 2027, [taux("2.1", 3, 4, 1), taux("2.1", 1, 4, 2)])
            if x.objectif == "2.1"]
    assert (e.numerateur, e.denominateur, e.cible_atteinte) == (1, 4, False)


def test_2026_ne_juge_que_1_0() -> None:
    assert [e.objectif for e in evaluer_annee(PROGRAMME, 2026, [])] == ["1.0"]


@pytest.mark.parametrize(("annee", "preuves", "atteints", "erreur"), [
    (2027, [document("1.0"), taux("2.1", 3, 4)], ["2.1", "1.0"], None),
    (2027, [], [], None),  # nothing reached is a decision too
    (2027, [], ["1.0"], "aucun document"),
    (2027, [taux("2.2", 1, 4)], ["2.2"], "sous la cible"),
    (2027, [], ["2.2"], "aucun taux"),
    (2026, [document("1.1")], ["1.1"], "sans cible en 2026"),
    (2027, [document("1.0")], ["1.0", "1.0"], "deux fois"),
    (2027, [], ["9.9"], "inconnu"),
])
def test_objectifs_atteints(annee: int, preuves: list[PreuveVue], atteints: list[str],
                            erreur: str | None) -> None:
    evaluation = evaluer_annee(PROGRAMME, annee, preuves)
    if erreur is None:
        assert verifier_objectifs_atteints(atteints, annee, PROGRAMME, evaluation) == sorted(atteints)
        return
    with pytest.raises(RegleMetierError, match=erreur) as exc:
        verifier_objectifs_atteints(atteints, annee, PROGRAMME, evaluation)
    assert exc.value.champ == "objectifs_atteints"


D = Decimal


@pytest.mark.parametrize(("decision", "montant", "prevu", "disponible", "attente", "erreur"), [
    ("selectionne", D("100.00"), D("100.00"), D("100.00"), [], None),
    ("selectionne", D("100.01"), D("100.00"), D("1000.00"), [], "dépenses prévues"),
    ("selectionne", D("100.00"), D("500.00"), D("250.00"), [D("150.01")], "disponible"),
    ("selectionne", D("100.00"), D("500.00"), D("250.00"), [D("150.00")], None),
    ("selectionne", None, D("500.00"), D("250.00"), [], "reçoit un montant"),
    ("selectionne", D("0"), D("500.00"), D("250.00"), [], "strictement positif"),
    ("selectionne", D("1.005"), D("500.00"), D("250.00"), [], "centime"),
    ("non_retenu", None, D("500.00"), None, [], None),
    ("non_retenu", D("1.00"), D("500.00"), None, [], "non retenu"),
])
def test_selection(decision: str, montant: Decimal | None, prevu: Decimal, disponible: Decimal | None,
                   attente: list[Decimal], erreur: str | None) -> None:
    place = None if disponible is None else disponibilite(disponible, attente)
    if erreur is None:
        assert verifier_selection(decision, montant, prevu, place) == montant
        return
    with pytest.raises(RegleMetierError, match=erreur) as exc:
        verifier_selection(decision, montant, prevu, place)
    assert exc.value.champ == "montant_accorde"


def test_ac_2024_inconnue_bloque() -> None:
    assert activites_participants(["a", "b"], {"a": D("1"), "b": D("2")}) == [("a", D("1")), ("b", D("2"))]
    with pytest.raises(RegleMetierError) as exc:
        activites_participants(["a", "b"], {"a": D("1"), "b": None})
    assert exc.value.champ == "participants.1"

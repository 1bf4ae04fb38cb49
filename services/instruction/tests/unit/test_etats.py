"""The dossier state machine and the processing time without the waits for a correction (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hopen_common.problemes import ProblemError
from hopen_instruction.etats.rules import Passage, duree_instruction, verifier_transition

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize(("statut", "action", "attendu"), [
    ("deposee", "prendre_en_instruction", "en_instruction"),
    ("deposee", "demander_correction", "correction_demandee"),
    ("en_instruction", "demander_correction", "correction_demandee"),
    ("correction_demandee", "demander_correction", "correction_demandee"),  # several open requests
    ("correction_demandee", "redeposer", "deposee"),
    ("en_instruction", "classer_sans_suite", "classee_sans_suite"),
    ("classee_sans_suite", "rouvrir", "en_instruction"),
    ("correction_demandee", "desister", "desistee"),
])
def test_transitions_permises(statut: str, action: str, attendu: str) -> None:
    assert verifier_transition("candidature", "c1", statut, action) == attendu  # type: ignore[arg-type]


def test_projet_au_masculin() -> None:
    assert verifier_transition("projet", "p1", "depose", "prendre_en_instruction") == "en_instruction"
    assert verifier_transition("projet", "p1", "en_instruction", "classer_sans_suite") == "classe_sans_suite"
    selection = verifier_transition("projet", "p1", "en_instruction", "decider", decision="selectionne")
    assert selection == "selectionne"


@pytest.mark.parametrize(("statut", "action"), [
    ("validee", "rouvrir"),  # a decision (money) is changed by a decision correction, never reopened
    ("refusee", "rouvrir"),
    ("en_instruction", "prendre_en_instruction"),
    ("correction_demandee", "decider"),  # decide once the answer is in
    ("validee", "demander_correction"),
    ("classee_sans_suite", "classer_sans_suite"),
    ("deposee", "redeposer"),
    ("desistee", "prendre_en_instruction"),
])
def test_transitions_interdites(statut: str, action: str) -> None:
    with pytest.raises(ProblemError) as refus:
        verifier_transition("candidature", "c1", statut, action, decision="validee")  # type: ignore[arg-type]
    probleme = refus.value
    assert (probleme.status, probleme.code, probleme.champ) == (409, "transition-interdite", "statut")
    assert refus.value.extra == {"statut": statut, "transition": action}
    assert statut in (refus.value.detail or "")


def _h(heures: float) -> datetime:
    return T0 + timedelta(hours=heures)


def test_duree_sans_attente_de_correction() -> None:
    passages = [Passage("deposee", _h(0)), Passage("en_instruction", _h(10)),
                Passage("correction_demandee", _h(20)),  # 20 h with the ARS
                Passage("correction_demandee", _h(30)),  # a second request while waiting: still waiting
                Passage("deposee", _h(120)),  # the answer, 100 h later: not counted
                Passage("validee", _h(125))]
    assert duree_instruction(passages, _h(1000)) == timedelta(hours=25)


def test_duree_en_cours_et_reouverture() -> None:
    assert duree_instruction([Passage("deposee", _h(0))], _h(7)) == timedelta(hours=7)
    passages = [Passage("deposee", _h(0)), Passage("classee_sans_suite", _h(5)),
                Passage("en_instruction", _h(50)), Passage("refusee", _h(52))]
    assert duree_instruction(passages, _h(99)) == timedelta(hours=7)
    # Waiting for a correction now: the clock is stopped.
    assert duree_instruction([Passage("deposee", _h(0)), Passage("correction_demandee", _h(3))],
                             _h(40)) == timedelta(hours=3)
    assert duree_instruction([], _h(1)) == timedelta(0)

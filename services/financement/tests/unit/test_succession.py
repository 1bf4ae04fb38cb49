"""Issue 7: which decision may follow the ones received for the same thing (pure rule)."""

from __future__ import annotations

import pytest

from hopen_common.inbox import EvenementRefuse
from hopen_common.programme.erreurs import RegleMetierError
from hopen_financement.erreurs import DonneeManquante
from hopen_financement.notifications.succession import Courante, verifier_succession

D1 = Courante("d1", "d1, candidature c1")


def _verifier(*, deja_recue: bool = False, remplace: str | None = None, courante: Courante | None = None,
              connue: bool = True, meme: bool = True) -> None:
    verifier_succession(objet="EJ P1.O1", decision_id="d2", deja_recue=deja_recue, remplace=remplace,
                        courante=courante, remplacee_connue=connue, meme_objet=meme,
                        exigence_meme_objet="même objet")


@pytest.mark.parametrize(("cas", "attendu"), [
    ({}, None),  # a first decision
    ({"remplace": "d1", "courante": D1}, None),  # a correction of the current one
    ({"deja_recue": True}, "paiement-en-double"),  # the same decision under another event id
    ({"courante": D1}, "paiement-en-double"),  # a second decision naming none
    ({"remplace": "d0", "courante": D1}, "correction-perimee"),  # corrects a replaced decision
    ({"remplace": "d1", "courante": None}, "correction-perimee"),
])
def test_verdicts(cas: dict[str, object], attendu: str | None) -> None:
    if attendu is None:
        _verifier(**cas)  # type: ignore[arg-type]
        return
    with pytest.raises(EvenementRefuse) as exc:
        _verifier(**cas)  # type: ignore[arg-type]
    assert exc.value.motif == attendu
    if cas.get("courante") and not cas.get("remplace"):
        assert "d1, candidature c1" in str(exc.value)


def test_correction_en_avance_attend_et_objet_different_refuse() -> None:
    with pytest.raises(DonneeManquante):
        _verifier(remplace="d1", courante=D1, connue=False)
    with pytest.raises(RegleMetierError) as exc:
        _verifier(remplace="d1", courante=D1, meme=False)
    assert exc.value.champ == "remplace"

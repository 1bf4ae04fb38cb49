"""The pure rules of a dossier's thread (issue 9, ADR 0015)."""

from __future__ import annotations

import pytest

from hopen_common.fil import EXTRAIT_MAX, STATUTS_FERMES, extrait, verifier_fil_ouvert
from hopen_common.problemes import ProblemError


def test_extrait_sur_une_ligne_et_borne() -> None:
    assert extrait("Bonjour,\n\n  voici\tla pièce.") == "Bonjour, voici la pièce."
    long = extrait("mot " * 100)
    assert len(long) == EXTRAIT_MAX
    assert long.endswith("…")
    assert extrait("x" * EXTRAIT_MAX) == "x" * EXTRAIT_MAX  # exactly the bound: whole


@pytest.mark.parametrize("statut", sorted(STATUTS_FERMES))
def test_un_dossier_clos_ne_recoit_plus_de_message(statut: str) -> None:
    with pytest.raises(ProblemError) as e:
        verifier_fil_ouvert(statut, "d1")
    assert (e.value.status, e.value.code, e.value.champ) == (409, "dossier-clos", "statut")


@pytest.mark.parametrize("statut", ["deposee", "depose", "en_instruction", "correction_demandee", "validee",
                                    "refusee", "selectionne", "non_retenu", "a_instruire",
                                    "desistement_demande"])
def test_un_dossier_ouvert_ou_decide_recoit_des_messages(statut: str) -> None:
    verifier_fil_ouvert(statut, "d1")

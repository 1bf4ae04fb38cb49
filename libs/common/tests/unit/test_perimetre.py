"""The one perimeter rule: which EJ a candidature covers, which one a fact is about."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from hopen_common.contracts import PerimetreEj
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.perimetre import Membre, ej_couvertes, ej_visee

SUPPORT, MEMBRE, AUTRE = "210780581", "520780032", "2A0002606"
PERIMETRE = [{"finess_ej": SUPPORT, "objectifs": ["P1.O1"]}, {"finess_ej": MEMBRE, "objectifs": ["P1.O3"]}]
MODELES = [PerimetreEj(finess_ej=m["finess_ej"], raison_sociale="x", activite_combinee=None,
                       objectifs=m["objectifs"]) for m in PERIMETRE]


@pytest.mark.parametrize("perimetre", [PERIMETRE, MODELES])
def test_ej_couvertes(perimetre: Sequence[Membre]) -> None:
    assert ej_couvertes(perimetre, SUPPORT) == [SUPPORT, MEMBRE]
    assert ej_couvertes(None, AUTRE) == [AUTRE]


@pytest.mark.parametrize("perimetre", [PERIMETRE, MODELES])
@pytest.mark.parametrize(("finess_ej", "objectif", "attendu"), [
    (MEMBRE, None, MEMBRE), (MEMBRE, "P1.O3", MEMBRE), (SUPPORT, "P1.O1", SUPPORT),
    (None, None, "finess_ej"), (AUTRE, None, "finess_ej"), (MEMBRE, "P1.O1", "objectif"),
])
def test_ej_visee_avec_perimetre(perimetre: Sequence[Membre], finess_ej: str | None, objectif: str | None,
                                 attendu: str) -> None:
    if attendu in ("finess_ej", "objectif"):
        with pytest.raises(RegleMetierError) as refus:
            ej_visee(finess_ej, perimetre, SUPPORT, objectif=objectif)
        assert refus.value.champ == attendu
    else:
        assert ej_visee(finess_ej, perimetre, SUPPORT, objectif=objectif) == attendu


def test_ej_visee_sans_perimetre() -> None:
    assert ej_visee(None, None, AUTRE) == AUTRE
    assert ej_visee(AUTRE, None, AUTRE, objectif="P1.O1") == AUTRE  # no member list: no objective check
    with pytest.raises(RegleMetierError) as refus:
        ej_visee(MEMBRE, None, AUTRE)
    assert refus.value.champ == "finess_ej"

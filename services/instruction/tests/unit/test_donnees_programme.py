"""The AAP programme data instruction ships are the same as the other services': one source of truth
published in several packages (services share no code but libs/common)."""

from __future__ import annotations

import json
from pathlib import Path

RACINE = Path(__file__).resolve().parents[4]


def _json(chemin: str) -> dict[str, object]:
    return dict(json.loads((RACINE / chemin).read_text("utf-8")))


def test_calendrier_et_themes_identiques_a_candidature() -> None:
    assert _json("services/instruction/src/hopen_instruction/data/appel_a_projets_v2026.1.json") == _json(
        "services/candidature/src/hopen_candidature/data/appel_a_projets_v2026.1.json")


def test_themes_identiques_a_financement_et_au_referentiel() -> None:
    nos_themes = {t["id"] for t in _json(  # type: ignore[attr-defined]
        "services/instruction/src/hopen_instruction/data/appel_a_projets_v2026.1.json")["themes"]}
    for chemin in ("services/financement/src/hopen_financement/data/aap_v2026.1.json",
                   "services/referentiel/data/programme/publications/aap_v2026.1.json"):
        assert {t["id"] for t in _json(chemin)["themes"]} == nos_themes  # type: ignore[attr-defined]


def test_enveloppes_identiques_a_financement() -> None:
    assert _json("services/instruction/src/hopen_instruction/data/enveloppes_aap_v2026.1.json") == _json(
        "services/financement/src/hopen_financement/data/enveloppes_aap_v2026.1.json")


def test_parametres_du_maximum_identiques_a_financement() -> None:
    assert _json("services/instruction/src/hopen_instruction/data/aap_v2026.1.json") == _json(
        "services/financement/src/hopen_financement/data/aap_v2026.1.json")


def test_maximum_theorique_egal_a_celui_de_financement() -> None:
    """Financement is the authority (it parks a selection above its maximum); instruction refuses it
    first, so both must compute the same ceiling, to the cent, on every segment and at each point."""
    from decimal import Decimal

    from hopen_financement.aap.parametres import charger_parametres_aap
    from hopen_financement.aap.rules import maximum_theorique as maximum_financement
    from hopen_instruction.projets.maximum import maximum_theorique, parametres_maximum

    les_notres, les_leurs = parametres_maximum(), charger_parametres_aap("2026.1")
    activites = [Decimal(v) for v in ("0", "0.01", "4910", "5120", "22499.99", "22500", "62180.5", "110900.5",
                                      "229999.99", "230000", "612480", "999999.99", "1000000", "1062180.5",
                                      "87654321.99")]
    for ac in activites:
        for n in range(1, 6):
            assert maximum_theorique(ac, n, les_notres) == maximum_financement(ac, n,
                                                                               les_leurs).maximum, (ac, n)

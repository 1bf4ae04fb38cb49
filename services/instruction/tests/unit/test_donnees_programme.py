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

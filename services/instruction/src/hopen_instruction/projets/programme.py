"""AAP programme data the instruction service needs (themes and their eligibility condition,
calendar, participation cap, forecast years), from `hopen_instruction/data/appel_a_projets_v*.json`.
Numbers and dates live in the file, never in code."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from types import MappingProxyType

from hopen_common.programme.phase1 import DonneesProgrammeInvalides, date_iso

_PAQUET = "hopen_instruction"
_PREFIXE = "appel_a_projets"
_VERSION = re.compile(r"^\d+(\.\d+)*$")
CONDITIONS = ("sans_versement_usage", "hospiconnect_valide")


@dataclass(frozen=True)
class ThemeAap:
    id: str
    libelle: str
    condition: str  # sans_versement_usage (rattrapage) | hospiconnect_valide (the three others)
    condition_libelle: str


@dataclass(frozen=True)
class ProgrammeAap:
    version: str
    themes: Mapping[str, ThemeAap]
    participations_max: int
    annees_depenses: tuple[int, ...]
    fin_depot_dossiers: date  # inclusive
    fin_selection: date  # inclusive


def _versions() -> list[str]:
    trouvees = []
    for entree in resources.files(_PAQUET).joinpath("data").iterdir():
        nom = entree.name
        if nom.startswith(f"{_PREFIXE}_v") and nom.endswith(".json"):
            version = nom[len(_PREFIXE) + 2: -len(".json")]
            if _VERSION.match(version):
                trouvees.append(version)
    return sorted(trouvees, key=lambda v: tuple(int(p) for p in v.split(".")))


@cache
def charger_programme_aap(version: str | None = None) -> ProgrammeAap:
    """The AAP programme of `version` ("2026.1"), the latest shipped when None. Cached."""
    if version is None:
        return charger_programme_aap(_versions()[-1])
    texte = resources.files(_PAQUET).joinpath("data", f"{_PREFIXE}_v{version}.json").read_text("utf-8")
    donnees = json.loads(texte)
    if donnees.get("version") != version:
        raise DonneesProgrammeInvalides(f"{_PREFIXE}_v{version}.json déclare {donnees.get('version')!r}")
    themes = {}
    for t in donnees["themes"]:
        theme = ThemeAap(str(t["id"]), str(t["libelle"]), str(t["condition"]), str(t["condition_libelle"]))
        if theme.condition not in CONDITIONS or theme.id in themes:
            raise DonneesProgrammeInvalides(f"thème {theme.id} : condition inconnue ou doublon")
        themes[theme.id] = theme
    cal = donnees["calendrier"]
    programme = ProgrammeAap(
        version=version, themes=MappingProxyType(themes),
        participations_max=int(donnees["participations_max"]),
        annees_depenses=tuple(int(a) for a in donnees["annees_depenses"]),
        fin_depot_dossiers=date_iso(cal["fin_depot_dossiers"], "fin_depot_dossiers"),
        fin_selection=date_iso(cal["fin_selection"], "fin_selection"),
    )
    if programme.participations_max < 1 or not programme.annees_depenses:
        raise DonneesProgrammeInvalides("participations_max et annees_depenses attendus")
    if programme.fin_selection < programme.fin_depot_dossiers:
        raise DonneesProgrammeInvalides("calendrier AAP non chronologique")
    return programme

"""Reading the service's versioned data files (`hopen_financement/data/<prefixe>_v<version>.json`).

Programme numbers (envelopes, AAP parameters) live in those files, never in code; a new
version of the programme is a new file. Numbers are JSON strings parsed as exact Decimal.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from importlib import resources
from typing import Any

from hopen_common.programme.phase1 import DonneesProgrammeInvalides, decimal_exact

__all__ = ["DonneesProgrammeInvalides", "decimal_exact", "lire", "versions"]

_PAQUET = "hopen_financement"
_VERSION = re.compile(r"^\d+(\.\d+)*$")


def versions(prefixe: str) -> list[str]:
    """Versions shipped for `prefixe`, oldest first (numeric order)."""
    trouvees = []
    for entree in resources.files(_PAQUET).joinpath("data").iterdir():
        nom = entree.name
        if nom.startswith(f"{prefixe}_v") and nom.endswith(".json"):
            version = nom[len(prefixe) + 2 : -len(".json")]
            if _VERSION.match(version):
                trouvees.append(version)
    return sorted(trouvees, key=lambda v: tuple(int(p) for p in v.split(".")))


def lire(prefixe: str, version: str | None) -> dict[str, Any]:
    disponibles = versions(prefixe)
    if not disponibles:
        raise DonneesProgrammeInvalides(f"aucun fichier {prefixe}_v*.json installé")
    choisie = disponibles[-1] if version is None else version
    if choisie not in disponibles:
        raise DonneesProgrammeInvalides(f"{prefixe} v{choisie} absent (disponibles : {disponibles})")
    texte = resources.files(_PAQUET).joinpath("data", f"{prefixe}_v{choisie}.json").read_text("utf-8")
    donnees: dict[str, Any] = json.loads(texte, parse_float=Decimal)
    if donnees.get("version") != choisie:
        raise DonneesProgrammeInvalides(f"{prefixe}_v{choisie}.json déclare {donnees.get('version')!r}")
    return donnees

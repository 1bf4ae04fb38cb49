"""Phase-1 GHT perimeter (instruction 2024/123 annex 4): targets are measured, and objectives
decided, per member EJ. Shared by candidature (evidence) and instruction (decisions). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hopen_common.programme.erreurs import RegleMetierError


def membre_vise(finess_ej: str | None, objectif: str, perimetre: Sequence[Mapping[str, Any]] | None,
                finess_candidature: str) -> str:
    """Which EJ a measure or a decision is about: a member of the perimeter applying to that
    objective for a GHT candidature (required), the candidature's own FINESS otherwise."""
    if perimetre is None:
        if finess_ej not in (None, finess_candidature):
            raise RegleMetierError("finess_ej ne s'utilise que pour une candidature de GHT", "finess_ej")
        return finess_candidature
    if finess_ej is None:
        raise RegleMetierError("candidature de GHT : précisez l'entité juridique (finess_ej)", "finess_ej")
    membre = next((m for m in perimetre if m["finess_ej"] == finess_ej), None)
    if membre is None:
        raise RegleMetierError(f"{finess_ej} ne fait pas partie du périmètre de la candidature", "finess_ej")
    if objectif not in membre["objectifs"]:
        raise RegleMetierError(f"{finess_ej} ne candidate pas à l'objectif {objectif}", "objectif")
    return finess_ej

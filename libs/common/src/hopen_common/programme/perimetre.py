"""Which EJ a candidature covers, and which one a measure, an evidence, a declaration or a decision
is about (instruction 2024/123 annex 4, DNS/2025/180): targets are measured, evidence deposited and
attainment decided per member EJ of a GHT candidature, else for the applicant itself. One rule for
candidature (evidence, expenses) and instruction (decisions), phase 1 and HospiConnect. Pure.

A perimeter is the candidature's list of members, as stored (JSON objects) or as the contract's
`PerimetreEj`; None for a candidature without perimeter (the applicant is its only EJ)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from hopen_common.programme.erreurs import RegleMetierError


class _MembreModele(Protocol):
    @property
    def finess_ej(self) -> str: ...

    @property
    def objectifs(self) -> list[str]: ...


Membre = Mapping[str, Any] | _MembreModele
"""One member of a perimeter: a stored JSON object or a contract model (`PerimetreEj`)."""


def _finess_ej(membre: Membre) -> str:
    return str(membre["finess_ej"]) if isinstance(membre, Mapping) else membre.finess_ej


def _objectifs(membre: Membre) -> Sequence[str]:
    return membre["objectifs"] if isinstance(membre, Mapping) else membre.objectifs


def ej_couvertes(perimetre: Sequence[Membre] | None, finess_candidature: str) -> list[str]:
    """The EJ a candidature covers, in the perimeter's order: its members (GHT support), else the
    applicant itself."""
    return [finess_candidature] if perimetre is None else [_finess_ej(m) for m in perimetre]


def ej_visee(finess_ej: str | None, perimetre: Sequence[Membre] | None, finess_candidature: str, *,
             objectif: str | None = None) -> str:
    """Which EJ a measure, an evidence, a declaration or a decision is about: for a candidature with a
    perimeter, one of its members (required) and, when `objectif` is given (phase 1), a member applying
    to that objective; otherwise the applicant itself (`finess_ej` may be left out)."""
    if perimetre is None:
        if finess_ej not in (None, finess_candidature):
            raise RegleMetierError(f"{finess_ej} n'est pas l'entité juridique de la candidature"
                                   f" ({finess_candidature})", "finess_ej")
        return finess_candidature
    if finess_ej is None:
        raise RegleMetierError("candidature de GHT : précisez l'entité juridique (finess_ej)", "finess_ej")
    membre = next((m for m in perimetre if _finess_ej(m) == finess_ej), None)
    if membre is None:
        raise RegleMetierError(f"{finess_ej} ne fait pas partie du périmètre de la candidature", "finess_ej")
    if objectif is not None and objectif not in _objectifs(membre):
        raise RegleMetierError(f"{finess_ej} ne candidate pas à l'objectif {objectif}", "objectif")
    return finess_ej

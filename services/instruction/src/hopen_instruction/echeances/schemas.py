from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from hopen_common.pagination import Page


class ObjectifNonDecideLu(BaseModel):
    dossier_id: str
    dispositif: str
    region: str
    finess: str
    finess_ej: str
    objectif: str  # a phase-1 objective, or "hospiconnect.<annee>"
    fin_instruction: date


class ObjectifsNonDecides(Page[ObjectifNonDecideLu]):
    # The DNS's national view: how many are left in each region (an ARS: its own only).
    par_region: dict[str, int]

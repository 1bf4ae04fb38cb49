from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from hopen_common.monnaie import Euros
from hopen_financement.schemas import DecimalTexte


class ProjetAapLu(BaseModel):
    projet_id: str
    decision_id: str
    finess: str
    region: str
    theme: str
    objectifs: list[str]
    perimetre: list[str]
    activite_combinee_cumulee: DecimalTexte
    depenses_prevues: Euros
    maximum_theorique: Euros
    montant_accorde: Euros
    calcul: dict[str, Any]
    decide_par: str
    decide_le: datetime
    atteint: bool | None = None  # the 2027 decision, once taken (the current one, issue 9)
    # Issue 9: a selection corrected to non-retained (decision_id, montant_accorde, calcul: the current
    # selection when retained; the last retained one otherwise).
    retenu: bool = True

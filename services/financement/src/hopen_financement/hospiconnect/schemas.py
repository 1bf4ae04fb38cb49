from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from hopen_common.monnaie import Euros
from hopen_financement.schemas import DecimalTexte


class MontantHospiconnectLu(BaseModel):
    finess_ej: str
    annee: int
    rang: int  # 1, then one more per correction
    candidature_id: str
    finess: str  # paid
    region: str
    decision_id: str
    declarations: list[str]
    effectifs: int
    objectifs_atteints: list[str]
    plafond: Euros
    taux: DecimalTexte
    montant_theorique: Euros
    depenses_eligibles: Euros
    montant: Euros
    regressions: list[str]
    calcul: dict[str, Any]
    notification_id: str
    cree_le: datetime


class Regression(BaseModel):
    finess_ej: str
    finess: str
    region: str
    annee: int
    objectifs_perdus: list[str]  # reached in annee - 1, not reached in annee
    decision_id: str
    decision_precedente_id: str

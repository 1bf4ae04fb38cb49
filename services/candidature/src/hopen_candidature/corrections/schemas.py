from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ChampsDemande(BaseModel):
    """The fields the establishment corrects, by the name the request gives them."""

    model_config = ConfigDict(extra="forbid")
    champs: dict[str, Any] = Field(min_length=1, max_length=20,
                                   examples=[{"criteres_ght.sdsi_date": "2025-03-01"}])


class PieceDemandeeLue(BaseModel):
    type: str
    finess_ej: str | None


class DemandeCorrectionLue(BaseModel):
    correction_id: str
    pieces: list[PieceDemandeeLue]
    champs: list[str]
    motivation: str
    echeance: date
    demandee_par: str
    demandee_le: datetime
    repondue_le: datetime | None
    en_retard: bool


class DecisionArsLue(BaseModel):
    decision_id: str
    objet: str
    finess_ej: str | None
    decision: str
    motivation: str
    decide_par: str
    decide_le: datetime
    remplace: str | None


class TransitionLue(BaseModel):
    de: str
    vers: str
    par: str
    le: datetime
    motivation: str | None

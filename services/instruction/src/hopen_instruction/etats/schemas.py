from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PriseEnInstructionDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    motivation: str | None = Field(default=None, max_length=5000)


class TransitionMotiveeDemande(BaseModel):
    """Closing without a decision and reopening are always motivated."""

    model_config = ConfigDict(extra="forbid")
    motivation: str = Field(min_length=3, max_length=5000)


class TransitionLue(BaseModel):
    de: str | None
    vers: str
    par: str
    le: datetime
    motivation: str | None


class EtatLu(BaseModel):
    """The dossier's state, its history and its processing time (waits for a correction excluded)."""

    dossier_type: str
    dossier_id: str
    statut: str
    historique: list[TransitionLue]
    duree_instruction_secondes: int

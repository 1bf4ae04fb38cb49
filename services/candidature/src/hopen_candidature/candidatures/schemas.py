from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Requete(BaseModel):
    model_config = ConfigDict(extra="forbid")  # unknown input is rejected, not guessed


class CandidatureCreation(Requete):
    dispositif: str = Field(examples=["phase1"])
    finess: str = Field(pattern=r"^[0-9][0-9AB][0-9]{7}$", examples=["010780054"])
    objectifs: list[str] = Field(examples=[["P1.O1", "P1.O3"]])


class IndicateurDepot(Requete):
    objectif: str
    indicateur: str | None = None
    numerateur: int
    denominateur: int


class CandidatureLue(BaseModel):
    id: str
    dispositif: str
    finess: str
    region: str
    statut: str
    objectifs: list[str]
    cree_par: str
    cree_le: datetime
    deposee_par: str | None
    deposee_le: datetime | None


class IndicateurLu(BaseModel):
    id: int
    candidature_id: str
    objectif: str
    indicateur: str
    numerateur: int
    denominateur: int
    depose_par: str
    depose_le: datetime

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hopen_common.finess import Finess


class PieceDemandeeDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(max_length=50, examples=["P1.P1"])
    finess_ej: Finess | None = Field(default=None, description="GHT dossier: the member EJ concerned")


class CorrectionDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pieces: list[PieceDemandeeDemande] = Field(default_factory=list, max_length=50)
    champs: list[str] = Field(default_factory=list, max_length=20, examples=[["criteres_ght.sdsi_date"]])
    motivation: str = Field(min_length=3, max_length=5000)
    echeance: date


class PieceDemandeeLue(BaseModel):
    type: str
    finess_ej: str | None


class CorrectionLue(BaseModel):
    id: str
    dossier_id: str
    pieces: list[PieceDemandeeLue]
    champs: list[str]
    motivation: str
    echeance: date
    demandee_par: str
    demandee_le: datetime
    repondue_le: datetime | None
    en_retard: bool


class VersionLue(BaseModel):
    piece_id: str
    version: int
    sha256: str
    nom: str
    depose_le: datetime


class DiffPiece(BaseModel):
    type: str
    finess_ej: str | None
    avant: VersionLue | None
    apres: VersionLue | None
    modifiee: bool


class DiffChamp(BaseModel):
    champ: str
    avant: Any
    apres: Any


class DiffLu(BaseModel):
    correction: CorrectionLue
    pieces: list[DiffPiece]
    champs: list[DiffChamp]

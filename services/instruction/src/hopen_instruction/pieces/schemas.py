from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel


class PieceLue(BaseModel):
    piece_id: str
    type: str
    version: int
    sha256: str
    nom: str
    depose_le: datetime


class PieceRequiseLue(BaseModel):
    code: str  # the requirement's code (a piece type's, or a "one of" group's)
    libelle: str
    niveau: Literal["dossier", "ej"]
    finess_ej: str | None
    types: list[str]  # the piece types that satisfy it (any one)
    etat: Literal["fournie", "manquante", "a_regulariser"]
    piece: PieceLue | None  # fournie: the latest version; a_regulariser: the commitment letter
    echeance: date | None  # a_regulariser: the due date the GHT support gave
    en_retard: bool  # a_regulariser past its due date
    annee: int | None  # HospiConnect evidence: its year


class CritereLu(BaseModel):
    champ: str
    message: str


class PiecesRequisesLues(BaseModel):
    dossier_type: Literal["candidature", "projet"]
    dossier_id: str
    dispositif: str
    annee: int | None
    version_programme: str  # the pieces document the checklist was computed with
    complet: bool  # no piece manquante (a_regulariser counts as present: it allowed the deposit)
    pieces: list[PieceRequiseLue]
    criteres_ght: dict[str, Any] | None  # phase-1 GHT support: as deposited
    criteres_ght_invalides: list[CritereLu]  # judged at the deposit date

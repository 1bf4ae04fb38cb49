from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class PieceLue(BaseModel):
    """One version of a piece: what the upload answers and what the list shows (never the bytes)."""

    id: str
    type: str
    finess_ej: str | None  # the member EJ of a GHT dossier the piece is about; None: the dossier
    version: int
    courante: bool  # the latest version of its (type, finess_ej)
    nom: str
    media_type: str
    taille: int
    sha256: str
    depose_par: str
    depose_le: datetime


class BilanOrphelins(BaseModel):
    examines: int  # objects listed under pieces/
    recents: int  # within the grace period: left alone (an upload may not have its row yet)
    references: int  # a row points to them
    supprimes: int  # orphans deleted
    temporaires: int  # stale partial files of the files backend

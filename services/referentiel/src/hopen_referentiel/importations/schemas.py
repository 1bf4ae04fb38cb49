from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel


class SignalementLu(BaseModel):
    nature: str  # rejet | avertissement
    code: str
    message: str
    ligne: int | None = None
    feuille: str | None = None
    chemin: str | None = None
    finess: str | None = None
    champ: str | None = None
    valeur: str | None = None


class RapportImportLu(BaseModel):
    """What an import did: per table created / updated / unchanged / closed, the rejections and
    warnings by code (the first ones in full; every one at /v1/imports/{id}/signalements)."""

    id: uuid.UUID
    type: str
    nom_fichier: str
    sha256: str
    taille: int
    demande_par: str
    debut: datetime
    fin: datetime
    identique_a: uuid.UUID | None  # same bytes as that import: nothing was read again
    compteurs: dict[str, Any]
    rejets: int
    avertissements: int
    signalements: list[SignalementLu]

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from hopen_common.contracts.collaboration import SensAvis
from hopen_common.contracts.pieces import TypeDossier
from hopen_instruction.dossiers.schemas import DossierLu
from hopen_instruction.projets.schemas import ProjetLu


class AvisDemandeCorps(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expert: str = Field(min_length=1, max_length=200, pattern=r"^\S+$",
                        description="the expert's token subject (role expert)")
    question: str = Field(min_length=3, max_length=5000)
    echeance: date


class ReponseDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    avis: SensAvis
    texte: str = Field(min_length=3, max_length=10000)


class ReponseLue(BaseModel):
    avis: SensAvis
    texte: str
    rendu_par: str
    rendu_le: datetime


class AvisLu(BaseModel):
    id: str
    dossier_type: TypeDossier
    dossier_id: str
    region: str
    expert: str
    question: str
    echeance: date
    demande_par: str
    demande_le: datetime
    reponse: ReponseLue | None = Field(description="null until the expert answers")


class AvisDetail(AvisLu):
    """What the invited expert reads: the opinion and the dossier it is about (one of the two)."""

    dossier: DossierLu | None
    projet: ProjetLu | None

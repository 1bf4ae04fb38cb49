from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hopen_common.finess import Finess
from hopen_instruction.dossiers.schemas import UUID, DecisionLue


class DecisionAnnuelleDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    finess_ej: Finess | None = Field(default=None,
                                     description="the EJ (GHU) judged; required for a GHT candidature")
    objectifs_atteints: list[str] = Field(examples=[["1.0"]], max_length=20)
    motivation: str = Field(min_length=3, max_length=5000)
    remplace: str | None = Field(default=None, pattern=UUID,
                                 description="the current decision of this EJ and year, when correcting it")


class ObjectifEvalueHc(BaseModel):
    objectif: str
    libelle: str
    cible: str
    preuve: str
    documents: list[dict[str, Any]]
    numerateur: int | None
    denominateur: int | None
    taux: Decimal | None
    cible_taux: Decimal | None
    cible_atteinte: bool | None
    preuve_recue: bool


class EjAnnee(BaseModel):
    finess_ej: str
    effectifs: int | None  # the staff the referentiel publishes (the ceiling's driver), None: unknown
    objectifs: list[ObjectifEvalueHc]
    decision: DecisionLue | None  # the current decision of this EJ and year
    historique: list[DecisionLue]  # every decision, corrections included, oldest first


class AnneeHospiconnect(BaseModel):
    dossier_id: str
    annee: int
    fin_depot_preuves: str
    fin_instruction: str
    entites: list[EjAnnee]


class PreuveRecueLue(BaseModel):
    id: str
    finess_ej: str
    annee: int
    objectif: str
    nature: str
    document: dict[str, Any] | None
    numerateur: int | None
    denominateur: int | None
    depose_par: str
    depose_le: datetime

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hopen_common.finess import Finess


class Requete(BaseModel):
    model_config = ConfigDict(extra="forbid")  # unknown input is rejected, not guessed


class MembreDemande(Requete):
    finess_ej: Finess = Field(examples=["520780032"])
    objectifs: list[str] = Field(examples=[["P1.O3"]])


class CandidatureCreation(Requete):
    dispositif: str = Field(examples=["phase1", "hospiconnect"])
    finess: Finess = Field(examples=["010780054"])
    # Phase 1: the objectives applied to (required). HospiConnect: the whole dispositif, leave out.
    objectifs: list[str] | None = Field(default=None, examples=[["P1.O1", "P1.O3"]])
    # GHT support only: the member EJ and the objectives each applies to. Left out: every
    # eligible member applies to every objective of the candidature.
    perimetre: list[MembreDemande] | None = None


class DesistementDemande(Requete):
    motivation: str = Field(min_length=3, max_length=5000,
                            examples=["projet reporté : le GHT candidatera pour nous"])


class IndicateurDepot(Requete):
    objectif: str
    indicateur: str | None = None
    numerateur: int
    denominateur: int
    finess_ej: Finess | None = Field(default=None, description="GHT candidature: the member EJ measured")


class MembreLu(BaseModel):
    finess_ej: str
    raison_sociale: str
    objectifs: list[str]


class CandidatureLue(BaseModel):
    id: str
    dispositif: str
    finess: str
    region: str
    statut: str
    objectifs: list[str]
    perimetre: list[MembreLu] | None
    cree_par: str
    cree_le: datetime
    deposee_par: str | None
    deposee_le: datetime | None


class IndicateurLu(BaseModel):
    id: int
    candidature_id: str
    finess_ej: str
    objectif: str
    indicateur: str
    numerateur: int
    denominateur: int
    depose_par: str
    depose_le: datetime

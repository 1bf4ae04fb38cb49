from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hopen_common.finess import Finess


class Requete(BaseModel):
    model_config = ConfigDict(extra="forbid")  # unknown input is rejected, not guessed


class MembreDemande(Requete):
    finess_ej: Finess = Field(examples=["520780032"])
    objectifs: list[str] = Field(examples=[["P1.O3"]])


class DsiGhtDemande(Requete):
    nom: str | None = Field(default=None, max_length=200, examples=["Mme Claire Martin"])
    valide: bool = Field(default=False, description="validated by the director of the support ES")


class CriteresGhtDemande(Requete):
    """Annex 4 of DNS/2024/123, for a phase-1 GHT support: may be incomplete while the candidature is a
    draft; the deposit needs every criterion met (and the matching pieces, ADR 0012)."""

    dsi_ght: DsiGhtDemande = Field(default_factory=DsiGhtDemande)
    projet_medical_valide: bool = False
    sdsi_date: date | None = Field(default=None, description="less than two years before the deposit")
    sdsi_en_cours_de_mise_a_jour: bool = False
    convergence: str | None = Field(default=None, max_length=5000,
                                    description="the SI convergence information of the GHT")
    referentiel_identite_unique: bool | None = Field(
        default=None, description="one identity repository shared by every EJ: one GHT procedure P1.P3")
    preuve_capacite: Literal["convention", "costrat", "engagement"] | None = None
    a_regulariser_le: date | None = Field(
        default=None, description="engagement only: when the GHT's instance regularises the letter")


class CandidatureCreation(Requete):
    dispositif: str = Field(examples=["phase1", "hospiconnect"])
    finess: Finess = Field(examples=["010780054"])
    # Phase 1: the objectives applied to (required). HospiConnect: the whole dispositif, leave out.
    objectifs: list[str] | None = Field(default=None, examples=[["P1.O1", "P1.O3"]])
    # GHT support only: the member EJ and the objectives each applies to. Left out: every
    # eligible member applies to every objective of the candidature.
    perimetre: list[MembreDemande] | None = None
    # Phase-1 GHT support only (annex 4); also settable later with PUT .../criteres-ght.
    criteres_ght: CriteresGhtDemande | None = None


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
    criteres_ght: CriteresGhtDemande | None = None
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

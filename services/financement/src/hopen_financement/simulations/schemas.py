from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from hopen_common.monnaie import Euros, EurosEntrant
from hopen_financement.schemas import DecimalTexte


class SimulationPhase1(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activite_combinee: DecimalTexte = Field(description="AC 2022 in journées MCO, e.g. \"15000\"")
    objectifs: list[str] = Field(min_length=1, description="phase-1 objectives, e.g. [\"P1.O2\"]")
    activite_combinee_max: DecimalTexte | None = Field(
        None, description="tranche D's upper bound; default: the largest AC of the current eligible base")


class ObjectifSimule(BaseModel):
    objectif: str
    tranche: str
    forfait: Euros
    amorcage: Euros
    solde: Euros


class ResultatPhase1(BaseModel):
    activite_combinee: DecimalTexte
    activite_combinee_max: DecimalTexte  # the maximum used
    source_maximum: str  # "base" (eligible base) or "demande" (the override)
    programme_version: str
    objectifs: list[ObjectifSimule]
    total: Euros  # sum of the forfaits
    total_amorcage: Euros
    total_solde: Euros


class SimulationHospiconnect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effectifs: StrictInt = Field(description="staff of the EJ (SAE), e.g. 1000")
    objectifs_atteints: list[str] = Field(description="objectives reached that year, e.g. [\"1.0\", \"1.1\"]")
    depenses_eligibles: EurosEntrant = Field(description="eligible expenses declared, e.g. \"30000.00\"")
    annee: StrictInt | None = Field(None, description="if given, objectives must have a target that year")


class ResultatHospiconnect(BaseModel):
    plafond: Euros
    taux: DecimalTexte
    montant_theorique: Euros
    montant: Euros
    nombre_objectifs: int
    objectif_obligatoire_atteint: bool
    programme_version: str

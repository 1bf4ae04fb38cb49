from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hopen_common.monnaie import Euros, EurosEntrant
from hopen_common.region import CodeRegion


class EnveloppeLue(BaseModel):
    dispositif: str
    region: str
    libelle_region: str
    alloue: Euros
    engage: Euros
    consomme: Euros
    disponible: Euros  # alloue - engage


class EcritureLue(BaseModel):
    id: int
    dispositif: str
    region: str
    nature: str
    montant: Euros
    projet_id: str | None
    transfert_id: str | None
    decision_id: str | None
    notification_id: str | None
    donnees_version: str | None
    motif: str
    ecrit_par: str
    ecrit_le: datetime


class CompteCible(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: CodeRegion
    dispositif: str = "aap"


class DemandeTransfert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: CompteCible
    destination: CompteCible
    montant: EurosEntrant = Field(description="euros, e.g. \"150000.00\"")
    motif: str = Field(min_length=1, max_length=500)


class TransfertLu(BaseModel):
    transfert_id: str
    sortie: EcritureLue
    entree: EcritureLue

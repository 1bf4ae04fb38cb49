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
    proposition_id: str | None = None
    propose_par: str | None = None  # issue 10: a DNS transfer's two persons (ecrit_par confirmed)
    confirme_par: str | None = None


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


class Disponibles(BaseModel):
    disponible_avant: Euros
    disponible_apres: Euros


class DisponiblesTransfert(BaseModel):
    """Both envelopes' available amounts around the transfer: for a waiting proposal, as they are now
    (what a confirmation would find); once treated, as they were at the proposal, then as written
    by the confirmation."""

    source: Disponibles
    destination: Disponibles


class TransfertPropose(BaseModel):
    """The transfer as validated (exact amount)."""

    source: CompteCible
    destination: CompteCible
    montant: Euros
    motif: str


class PropositionTransfertLue(BaseModel):
    proposition_id: str
    statut: str  # en_attente | confirmee | rejetee
    transfert: TransfertPropose
    disponibles: DisponiblesTransfert
    proposee_par: str
    proposee_le: datetime
    confirmee_par: str | None = None
    confirmee_le: datetime | None = None
    rejetee_par: str | None = None
    rejetee_le: datetime | None = None
    motivation: str | None = None  # a rejection's
    transfert_id: str | None = None
    ecritures: TransfertLu | None = None  # the two ledger entries the confirmation wrote


class RejetTransfert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    motivation: str = Field(min_length=3, max_length=5000)

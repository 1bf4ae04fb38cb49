from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hopen_common.monnaie import Euros, EurosEntrant
from hopen_instruction.dossiers.schemas import champ_remplace


class SelectionDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["selectionne", "non_retenu"]
    montant_accorde: EurosEntrant | None = Field(default=None, description="selectionne only; euros",
                                                 examples=["150000.00"])
    motivation: str = Field(min_length=3, max_length=5000)
    remplace: str | None = champ_remplace("the project's selection")


class AtteinteDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    atteint: bool
    motivation: str = Field(min_length=3, max_length=5000)
    remplace: str | None = champ_remplace("the project's attainment")


class DecisionProjetLue(BaseModel):
    id: str
    projet_id: str
    objet: str
    decision: str
    montant_accorde: Euros | None
    motivation: str
    decide_par: str
    decide_le: datetime
    elements: dict[str, Any]
    remplace: str | None
    # Two-person rule (ADR 0023): decide_par is the confirmer; None on decisions taken before it.
    proposee_par: str | None = None
    confirmee_par: str | None = None


class DepensePrevueLue(BaseModel):
    annee: int
    montant: Euros


class EnveloppeLue(BaseModel):
    dispositif: str
    region: str
    alloue: Euros
    engage: Euros
    consomme: Euros
    disponible: Euros  # financement's figure as of its last event
    en_attente: Euros  # selections decided here, not yet engaged by financement
    disponible_pour_selection: Euros  # disponible - en_attente: the ceiling of a new selection
    source: str  # "financement" (last event) or the data file the copy started from
    derniere_ecriture: int
    maj_le: datetime


class ProjetLu(BaseModel):
    id: str
    finess: str
    raison_sociale: str
    region: str
    theme: str
    titre: str
    statut: str
    objectifs: list[str]
    participants: list[str]
    perimetre: list[str]
    depenses_prevues_total: Euros
    deposee_le: datetime
    affecte_a: str | None = Field(default=None, description="the assigned agent (issue 9); null: unassigned")


class ProjetDetail(ProjetLu):
    description: str
    equipe: list[dict[str, Any]]
    lettres_partenaires: list[dict[str, Any]]
    sans_versement_usage: bool | None
    depenses_prevues: list[DepensePrevueLue]
    decisions: list[DecisionProjetLue]
    # Ceiling of montant_accorde: min(forecast, theoretical maximum, envelope still available).
    maximum_theorique: Euros | None  # None while a participant's AC 2024 is unknown
    enveloppe: EnveloppeLue | None

"""Proposals of the two-person rule (issue 10, ADR 0023)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hopen_common.monnaie import Euros
from hopen_common.simulations import MontantSimule, ProblemeSimule
from hopen_instruction.lots.schemas import ImpactEnveloppe, SimulationLot


class MontantsProposition(BaseModel):
    """What the decision would produce, computed by financement's rules on the events it would publish
    (nothing paid, nothing published): one line per objective (phase 1) or half (AAP)."""

    disponibles: bool  # False: financement did not answer; the proposal stands, its amounts are missing
    detail: str | None = None
    lignes: list[MontantSimule] = []
    total: Euros | None = None  # reprises count negative
    note: str | None = None
    probleme: ProblemeSimule | None = None  # financement would park the event
    enveloppe: ImpactEnveloppe | None = None  # AAP selection: the region's envelope before and after
    lot: SimulationLot | None = None  # a lot: its dry run, dossier by dossier


class PropositionLue(BaseModel):
    proposition_id: str
    type: str  # candidature | objectif | hospiconnect | selection | atteinte | lot
    region: str
    cible: str
    parametres: dict[str, Any]
    demande: dict[str, Any]  # what it would decide: the request as validated
    statut: str
    proposee_par: str
    proposee_le: datetime
    montants: MontantsProposition
    traitee_par: str | None
    traitee_le: datetime | None
    motivation_traitement: str | None
    decision_id: str | None  # the decision (or lot) its confirmation took


class ConfirmationDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    motivation: str | None = Field(default=None, min_length=3, max_length=5000)


class RejetDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    motivation: str = Field(min_length=3, max_length=5000)


class ConfirmationLue(BaseModel):
    proposition: PropositionLue
    decision: dict[str, Any]  # what the decision endpoint answered before the rule (or the lot queued)

"""Bulk decisions (issue 9 item 8, ADR 0018): one decision for up to MAX_DOSSIERS dossiers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hopen_common.monnaie import Euros, EurosEntrant
from hopen_common.pagination import Page
from hopen_common.simulations import MontantSimule, ProblemeSimule

# DS caps its batches at 500; a region instructs a few thousand dossiers at most.
MAX_DOSSIERS = 5000
Motivation = Annotated[str, Field(min_length=3, max_length=5000)]


class DecisionCandidatureLot(BaseModel):
    """Validate or refuse candidatures (phase 1 or HospiConnect): POST /v1/dossiers/{id}/decision."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["candidature"]
    decision: Literal["validee", "refusee"]
    motivation: Motivation


class DecisionObjectifLot(BaseModel):
    """One phase-1 objective reached or not on each candidature:
    POST /v1/dossiers/{id}/objectifs/{objectif}/decision (a GHT, judged per member EJ, is refused:
    decide it dossier by dossier)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["objectif"]
    objectif: str = Field(min_length=1, max_length=10, examples=["P1.O1"])
    decision: Literal["atteint", "non_atteint"]
    motivation: Motivation


class DecisionSelectionLot(BaseModel):
    """Select AAP projects (each with its own amount) or not: POST /v1/projets/{id}/selection."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["selection"]
    decision: Literal["selectionne", "non_retenu"]
    montants_accordes: dict[str, EurosEntrant] | None = Field(
        default=None, description="selectionne: project id -> amount granted, one per project of the lot")
    motivation: Motivation


DecisionLot = Annotated[DecisionCandidatureLot | DecisionObjectifLot | DecisionSelectionLot,
                        Field(discriminator="type")]
IdDossier = Annotated[str, Field(min_length=1, max_length=36)]


class LotDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dossiers: list[IdDossier] = Field(min_length=1, max_length=MAX_DOSSIERS,
                                      description="candidature ids (type candidature, objectif) or AAP"
                                                  " project ids (type selection), each once")
    decision: DecisionLot


class ImpactEnveloppe(BaseModel):
    """The regional AAP envelope a selection draws on: what is available for selection before and after."""

    avant: Euros
    apres: Euros


class IssueSimulee(BaseModel):
    rang: int
    dossier_id: str
    statut: Literal["ok", "refuse"]
    probleme: ProblemeSimule | None = None  # what the decision would answer: type, status, detail, champ
    montants: list[MontantSimule] | None = None  # None: refused, or financement could not be asked
    total: Euros | None = None  # the amounts paid (reprises negative)
    probleme_montants: ProblemeSimule | None = None  # financement could not compute them
    note: str | None = None
    enveloppe: ImpactEnveloppe | None = None


class SimulationLot(BaseModel):
    simulation: Literal[True] = True
    type: str
    total: int
    ok: int
    refuses: int
    montants_disponibles: bool  # False: financement did not answer; outcomes are still exact
    detail_montants: str | None = None
    total_montants: Euros | None = None
    enveloppe: ImpactEnveloppe | None = None  # the region's, before and after the whole lot
    dossiers: list[IssueSimulee]


class LotCree(BaseModel):
    id: str
    statut: Literal["en_cours"] = "en_cours"
    total: int
    lien: str


class IssueDossier(BaseModel):
    rang: int
    dossier_id: str
    statut: Literal["en_attente", "ok", "refuse"]
    decision_id: str | None
    probleme: dict[str, Any] | None
    traite_le: datetime | None


class LotLu(BaseModel):
    id: str
    region: str
    type: str
    decision: dict[str, Any]
    demande_par: str
    cree_le: datetime
    statut: Literal["en_cours", "termine"]
    total: int
    traites: int
    ok: int
    refuses: int
    termine_le: datetime | None
    dossiers: Page[IssueDossier]  # this page of per-dossier outcomes (?limit, ?offset, ?statut)

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hopen_common.finess import Finess

UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def champ_remplace(quoi: str) -> Any:
    """The `remplace` field of a decision request: the current decision it corrects (issue 9)."""
    return Field(default=None, pattern=UUID,
                 description=f"the current decision of {quoi}, when correcting it")


class DecisionCandidatureDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["validee", "refusee"]
    motivation: str = Field(min_length=3, max_length=5000)
    remplace: str | None = champ_remplace("the candidature")


class DecisionObjectifDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["atteint", "non_atteint"]
    motivation: str = Field(min_length=3, max_length=5000)
    finess_ej: Finess | None = Field(default=None, description="GHT candidature: the member EJ judged")
    remplace: str | None = champ_remplace("this objective (and EJ)")


class IndicateurEvalue(BaseModel):
    indicateur: str
    cible: Decimal
    cible_sun_es: bool = Field(description="cible is this indicator's SUN-ES target: the EJ reached the"
                                           " indicator's own equivalent domain (ADR 0007)")
    numerateur: int | None
    denominateur: int | None
    taux: Decimal | None
    atteint: bool


class ObjectifEvalue(BaseModel):
    objectif: str
    finess_ej: str  # the EJ measured: a GHT member, or the candidature's FINESS
    indicateurs: list[IndicateurEvalue]
    cible_atteinte: bool
    decision: str | None


class DecisionLue(BaseModel):
    id: str
    dossier_id: str
    objet: str
    finess_ej: str | None
    decision: str
    motivation: str
    decide_par: str
    decide_le: datetime
    elements: dict[str, object]
    remplace: str | None
    # Two-person rule (ADR 0023): decide_par is the confirmer; None on decisions taken before it.
    proposee_par: str | None = None
    confirmee_par: str | None = None


class DossierLu(BaseModel):
    id: str
    candidature_id: str
    dispositif: str
    finess: str
    raison_sociale: str
    region: str
    statut: str
    objectifs: list[str]
    perimetre: list[dict[str, object]] | None
    deposee_le: datetime
    affecte_a: str | None = Field(default=None, description="the assigned agent (issue 9); null: unassigned")


class DossierDetail(DossierLu):
    evaluation: list[ObjectifEvalue]
    decisions: list[DecisionLue]
    # Issue 9: seconds with the ARS since the deposit, without the waits for a correction (ADR 0013;
    # the history: GET /v1/dossiers/{id}/historique).
    duree_instruction_secondes: int
    corrections_ouvertes: int

"""What a decision would cost, asked of financement before it is taken (ADR 0018).

Financement owns the amounts (architecture.md): a service that wants to show the amounts a decision
would produce (instruction's dry run of a lot, a proposal later) sends financement the very events the
decision would publish, and financement answers, event by event, the amounts its consumer would
compute from them, writing nothing. The models are here so both sides use one definition."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from hopen_common.events import Evenement
from hopen_common.monnaie import Euros
from hopen_common.problemes import PROBLEM_BASE, REGLE_METIER, ProblemError, TypeProbleme
from hopen_common.programme.erreurs import RegleMetierError

# One synchronous call for a whole lot: the largest lot instruction accepts.
MAX_EVENEMENTS = 5000
CHEMIN = "/v1/simulations/evenements"


class SimulationEvenements(BaseModel):
    model_config = ConfigDict(extra="forbid")
    evenements: list[Evenement] = Field(min_length=1, max_length=MAX_EVENEMENTS)


class MontantSimule(BaseModel):
    finess_ej: str | None = None
    objectif: str | None = None  # a phase-1 objective; None for an AAP tranche
    nature: str  # amorcage | solde | reprise | aap_* (the nature financement would notify)
    montant: Euros  # >= 0; a reprise is owed back by the establishment
    forfait: Euros | None = None  # phase 1: the whole forfait the line is a share of
    annee: int | None = None


class ProblemeSimule(BaseModel):
    """The RFC 9457 problem one item would get (a dossier of a lot, an event financement would park)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    champ: str | None = None


def probleme_de(exc: Exception) -> ProblemeSimule | None:
    """The problem an API would answer for `exc` (a catalogue problem or a business-rule refusal), as
    the exception handlers of hopen_common.errors write it; None for any other exception."""
    if isinstance(exc, ProblemError):
        return ProblemeSimule(type=PROBLEM_BASE + exc.code, title=exc.title, status=exc.status,
                              detail=exc.detail, champ=exc.champ)
    if isinstance(exc, RegleMetierError):
        return probleme_du_type(REGLE_METIER, str(exc), exc.champ)
    return None


def probleme_du_type(t: TypeProbleme, detail: str | None, champ: str | None = None) -> ProblemeSimule:
    return ProblemeSimule(type=t.type_uri, title=t.title, status=t.status, detail=detail, champ=champ)


class ResultatSimulation(BaseModel):
    evenement_id: str
    type: str
    montants: list[MontantSimule]
    total: Euros  # sum of the amounts paid (reprises count negative)
    probleme: ProblemeSimule | None = None  # financement would park the event: no amount
    note: str | None = None  # why there is no amount although nothing is wrong (e.g. paid per year)


class ResultatSimulationEvenements(BaseModel):
    resultats: list[ResultatSimulation]


async def simuler_evenements(client: httpx.AsyncClient, autorisation: str,
                             evenements: list[Evenement]) -> list[ResultatSimulation]:
    """Financement's answer for `evenements`, in their order; raises httpx.HTTPError when it cannot
    answer (the caller decides what its user sees without the amounts)."""
    if not evenements:
        return []
    corps: dict[str, Any] = SimulationEvenements(evenements=evenements).model_dump(mode="json")
    reponse = await client.post(CHEMIN, json=corps, headers={"Authorization": autorisation})
    reponse.raise_for_status()
    return ResultatSimulationEvenements.model_validate(reponse.json()).resultats

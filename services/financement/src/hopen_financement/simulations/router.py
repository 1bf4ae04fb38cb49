from __future__ import annotations

from fastapi import APIRouter

from hopen_common.auth import ArsOuDns, CurrentPrincipal, Role
from hopen_common.auth.portee import region_de_lecture
from hopen_common.db import SessionDep
from hopen_common.problemes import HORS_PERIMETRE
from hopen_common.simulations import ResultatSimulationEvenements, SimulationEvenements
from hopen_financement.simulations import evenements
from hopen_financement.simulations.schemas import (
    ResultatHospiconnect,
    ResultatPhase1,
    SimulationHospiconnect,
    SimulationPhase1,
)
from hopen_financement.simulations.service import simuler_hospiconnect, simuler_phase1

router = APIRouter(prefix="/v1/simulations", tags=["simulations"])


@router.post("/phase1", response_model=ResultatPhase1)
async def simulation_phase1(session: SessionDep, _: CurrentPrincipal,
                            demande: SimulationPhase1) -> ResultatPhase1:
    """Phase-1 forfait, amorçage and solde per objective for an AC. Roles: any authenticated caller.
    Nothing is stored; tranche D runs up to the eligible base's largest AC unless overridden."""
    return await simuler_phase1(session, demande)


@router.post("/hospiconnect", response_model=ResultatHospiconnect)
async def simulation_hospiconnect(_: CurrentPrincipal,
                                  demande: SimulationHospiconnect) -> ResultatHospiconnect:
    """HospiConnect yearly amount: min(ceiling(staff) x rate(objectives reached), eligible expenses).
    Roles: any authenticated caller. Nothing is stored."""
    return simuler_hospiconnect(demande)


@router.post("/evenements", response_model=ResultatSimulationEvenements)
async def simulation_evenements(
        session: SessionDep, principal: ArsOuDns,
        demande: SimulationEvenements) -> ResultatSimulationEvenements:
    """The amounts financement would compute from decision events (CandidatureValidee: amorcage per
    (EJ, objective); ObjectifAtteint | ObjectifNonAtteint: solde or reprise; ProjetAapSelectionne: its
    tranches), event by event, or the problem that would park one; nothing is stored. Up to 5 000
    events in one call (instruction's dry run of a lot, ADR 0018). Roles: ars (events of its region
    only), dns."""
    if principal.role is Role.ARS:
        for i, e in enumerate(demande.evenements):
            if e.data.get("region") != principal.region:
                raise HORS_PERIMETRE.erreur("événement d'une autre région", champ=f"evenements.{i}")
    return ResultatSimulationEvenements(resultats=await evenements.simuler(
        session, demande.evenements, region=region_de_lecture(principal, None)))

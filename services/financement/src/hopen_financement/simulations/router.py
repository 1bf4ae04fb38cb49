from __future__ import annotations

from fastapi import APIRouter

from hopen_common.auth import CurrentPrincipal
from hopen_common.db import SessionDep
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

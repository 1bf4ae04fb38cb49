from __future__ import annotations

from collections import Counter
from dataclasses import asdict

from fastapi import APIRouter, Request

from hopen_common.auth import ArsOuDns
from hopen_common.calendrier import aujourd_hui
from hopen_common.db import SessionDep
from hopen_common.pagination import PaginationDep
from hopen_instruction.echeances import service
from hopen_instruction.echeances.schemas import ObjectifNonDecideLu, ObjectifsNonDecides

router = APIRouter(prefix="/v1/objectifs", tags=["échéances"])
Lecteur = ArsOuDns


@router.get("/non-decides", response_model=ObjectifsNonDecides)
async def non_decides(session: SessionDep, principal: Lecteur, pagination: PaginationDep,
                      request: Request) -> ObjectifsNonDecides:
    """Objectives of validated dossiers left undecided after their end of instruction (phase-1
    objectives per EJ, HospiConnect years): an ARS its region, the DNS every region, with the count
    per region."""
    jour = aujourd_hui(request.app.state.settings.date_du_jour)
    tous = await service.objectifs_non_decides(session, principal, jour=jour, liste=service.echeances())
    page = tous[pagination.offset:pagination.offset + pagination.limit]
    return ObjectifsNonDecides(items=[ObjectifNonDecideLu(**asdict(o)) for o in page], total=len(tous),
                               limit=pagination.limit, offset=pagination.offset,
                               par_region=dict(sorted(Counter(o.region for o in tous).items())))

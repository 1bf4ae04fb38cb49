from __future__ import annotations

from fastapi import APIRouter

from hopen_common.auth.portee import filtre_liste, region_de_lecture
from hopen_common.db import SessionDep
from hopen_common.pagination import Page, PaginationDep, page_de
from hopen_financement.acces import FinessQuery, Lecteur, RegionQuery
from hopen_financement.hospiconnect import repository
from hopen_financement.hospiconnect.schemas import MontantHospiconnectLu, Regression
from hopen_financement.hospiconnect.service import regressions

router = APIRouter(prefix="/v1/hospiconnect", tags=["hospiconnect"])


@router.get("/montants", response_model=Page[MontantHospiconnectLu])
async def lister_montants(session: SessionDep, principal: Lecteur, pagination: PaginationDep,
                          finess: FinessQuery = None, region: RegionQuery = None, annee: int | None = None,
                          historique: bool = False) -> Page[MontantHospiconnectLu]:
    """Yearly HospiConnect amounts per EJ with how they were computed (latest rank only unless
    `historique`). Roles: etablissement (a FINESS of its token, paid or judged), ars (its region), dns."""
    filtre_liste(principal, finess=finess, region=region)
    rows = list(await repository.montants(session, finess=finess, region=region_de_lecture(principal, region),
                                          annee=annee))
    if not historique:
        rows = list({(r.finess_ej, r.annee): r for r in rows}.values())  # ordered by rank: the last wins
    return page_de([MontantHospiconnectLu.model_validate(r, from_attributes=True) for r in rows], pagination)


@router.get("/regressions", response_model=Page[Regression])
async def lister_regressions(session: SessionDep, principal: Lecteur, pagination: PaginationDep,
                             finess: FinessQuery = None, region: RegionQuery = None,
                             annee: int | None = None) -> Page[Regression]:
    """Objectives an EJ reached one year and lost the next (domain.md 4.2), from the current decisions.
    Roles: etablissement (its FINESS), ars (its region), dns."""
    filtre_liste(principal, finess=finess, region=region)
    courantes = {(d.finess_ej, d.annee): d for d in await repository.decisions_courantes(
        session, finess=finess, region=region_de_lecture(principal, region))}
    resultat = []
    for (finess_ej, an), d in sorted(courantes.items()):
        precedente = courantes.get((finess_ej, an - 1))
        if precedente is None or (annee is not None and an != annee):
            continue
        perdus = regressions(precedente.objectifs_atteints, d.objectifs_atteints)
        if perdus:
            resultat.append(Regression(finess_ej=finess_ej, finess=d.finess, region=d.region, annee=an,
                                       objectifs_perdus=perdus, decision_id=d.decision_id,
                                       decision_precedente_id=precedente.decision_id))
    return page_de(resultat, pagination)

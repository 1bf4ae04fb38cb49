from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from hopen_common.auth import Principal, Role
from hopen_common.db import SessionDep
from hopen_financement.hospiconnect.models import DecisionHospiconnect, MontantHospiconnect
from hopen_financement.hospiconnect.schemas import MontantHospiconnectLu, Regression
from hopen_financement.hospiconnect.service import regressions
from hopen_financement.portee import Lecteur, filtre_liste

router = APIRouter(prefix="/v1/hospiconnect", tags=["hospiconnect"])

FinessQuery = Annotated[str | None, Query(pattern=r"^[0-9][0-9AB][0-9]{7}$")]


def _portee(principal: Principal, finess: str | None, region: str | None,
            col_finess: InstrumentedAttribute[str], col_ej: InstrumentedAttribute[str],
            col_region: InstrumentedAttribute[str]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if finess:
        conditions.append(or_(col_finess == finess, col_ej == finess))
    if principal.role is Role.ARS:
        conditions.append(col_region == principal.region)
    elif region:
        conditions.append(col_region == region)
    return conditions


@router.get("/montants", response_model=list[MontantHospiconnectLu])
async def lister_montants(session: SessionDep, principal: Lecteur, finess: FinessQuery = None,
                          region: str | None = None, annee: int | None = None,
                          historique: bool = False) -> list[MontantHospiconnectLu]:
    """Yearly HospiConnect amounts per EJ with how they were computed (latest rank only unless
    `historique`). Roles: etablissement (a FINESS of its token, paid or judged), ars (its region), dns."""
    filtre_liste(principal, finess, region)
    query = select(MontantHospiconnect).where(*_portee(
        principal, finess, region, MontantHospiconnect.finess, MontantHospiconnect.finess_ej,
        MontantHospiconnect.region))
    if annee is not None:
        query = query.where(MontantHospiconnect.annee == annee)
    rows = list(await session.scalars(query.order_by(MontantHospiconnect.finess_ej, MontantHospiconnect.annee,
                                                     MontantHospiconnect.rang)))
    if not historique:
        derniers = {(r.finess_ej, r.annee): r for r in rows}  # ordered by rank: the last one wins
        rows = list(derniers.values())
    return [MontantHospiconnectLu.model_validate(r, from_attributes=True) for r in rows]


@router.get("/regressions", response_model=list[Regression])
async def lister_regressions(session: SessionDep, principal: Lecteur, finess: FinessQuery = None,
                             region: str | None = None, annee: int | None = None) -> list[Regression]:
    """Objectives an EJ reached one year and lost the next (domain.md 4.2), from the current decisions.
    Roles: etablissement (its FINESS), ars (its region), dns."""
    filtre_liste(principal, finess, region)
    remplacees = select(DecisionHospiconnect.remplace).where(DecisionHospiconnect.remplace.is_not(None))
    query = select(DecisionHospiconnect).where(
        DecisionHospiconnect.decision_id.not_in(remplacees.scalar_subquery()),
        *_portee(principal, finess, region, DecisionHospiconnect.finess,
                 DecisionHospiconnect.finess_ej, DecisionHospiconnect.region))
    courantes = {(d.finess_ej, d.annee): d for d in await session.scalars(query)}
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
    return resultat

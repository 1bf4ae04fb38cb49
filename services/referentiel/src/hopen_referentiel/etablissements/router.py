from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from hopen_common.auth import CurrentPrincipal
from hopen_common.db import SessionDep
from hopen_common.errors import introuvable
from hopen_common.pagination import Page, PaginationDep
from hopen_referentiel.etablissements import repository
from hopen_referentiel.etablissements.schemas import FicheLue

router = APIRouter(prefix="/v1/etablissements", tags=["etablissements"])

Finess = Annotated[str, Path(pattern=r"^[0-9][0-9AB][0-9]{7}$", examples=["210780581"])]


@router.get("", response_model=Page[FicheLue])
async def lister(
    session: SessionDep, _: CurrentPrincipal, pagination: PaginationDep,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{2}$", description="INSEE region code")] = None,
    departement: Annotated[str | None, Query(pattern=r"^[0-9][0-9AB]$|^9[A-F]$")] = None,
    categorie: Annotated[str | None, Query(pattern=r"^[0-9]{3}$")] = None,
    secteur: Literal["public", "prive_lucratif", "prive_non_lucratif"] | None = None,
    ght: str | None = None,
    eligible_phase1: bool | None = None,
    niveau: Literal["EJ", "EG"] | None = None,
) -> Page[FicheLue]:
    """Every authenticated caller: FINESS reference data is public information."""
    fiches, total = await repository.lister_fiches(
        session, pagination.limit, pagination.offset, region=region, departement=departement,
        categorie=categorie, secteur=secteur, ght=ght, eligible_phase1=eligible_phase1, niveau=niveau,
    )
    return Page(items=[FicheLue.model_validate(f.detail) for f in fiches], total=total,
                limit=pagination.limit, offset=pagination.offset)


@router.get("/{finess}", response_model=FicheLue)
async def lire(finess: Finess, session: SessionDep, _: CurrentPrincipal) -> FicheLue:
    """Identity, EJ/EG links, région, secteur, GHT, AC, staff, and per dispositif: eligible or
    not with the rules passed and failed, FINESS PMSI and maille."""
    fiche = await repository.fiche(session, finess)
    if fiche is None:
        raise introuvable("établissement", finess)
    return FicheLue.model_validate(fiche.detail)

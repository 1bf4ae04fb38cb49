from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from hopen_common.auth import CurrentPrincipal
from hopen_common.db import SessionDep
from hopen_common.finess import DepartementFiness, Finess
from hopen_common.pagination import Page, PaginationDep
from hopen_common.problemes import introuvable
from hopen_common.region import CodeRegion
from hopen_referentiel.etablissements import repository, service
from hopen_referentiel.etablissements.schemas import FicheLue, GhtDetail
from hopen_referentiel.models import Ght, MembreGht

router = APIRouter(prefix="/v1/etablissements", tags=["etablissements"])
router_ght = APIRouter(prefix="/v1/ghts", tags=["ght"])

# Format only: a number with a wrong key is a FINESS nobody holds, and the read path answers 404 for
# it as for any unknown number (tests/api/test_referentiel_api.py).
FinessChemin = Annotated[Finess, Path(examples=["210780581"])]


@router.get("", response_model=Page[FicheLue])
async def lister(
    session: SessionDep, _: CurrentPrincipal, pagination: PaginationDep,
    region: Annotated[CodeRegion | None, Query(description="INSEE region code")] = None,
    departement: Annotated[DepartementFiness | None, Query()] = None,
    categorie: Annotated[str | None, Query(pattern=r"^[0-9]{3}$")] = None,
    secteur: Literal["public", "prive_lucratif", "prive_non_lucratif"] | None = None,
    ght: str | None = None,
    eligible_phase1: bool | None = None,
    eligible_hospiconnect: bool | None = None,
    eligible_aap: bool | None = None,
    niveau: Literal["EJ", "EG"] | None = None,
) -> Page[FicheLue]:
    """Every authenticated caller: FINESS reference data is public information."""
    details, total = await repository.lister_fiches(
        session, pagination.limit, pagination.offset, region=region, departement=departement,
        categorie=categorie, secteur=secteur, ght=ght, eligible_phase1=eligible_phase1,
        eligible_hospiconnect=eligible_hospiconnect, eligible_aap=eligible_aap, niveau=niveau,
    )
    return Page(items=[FicheLue.model_validate(d) for d in details], total=total,
                limit=pagination.limit, offset=pagination.offset)


@router.get("/{finess}", response_model=FicheLue)
async def lire(finess: FinessChemin, session: SessionDep, _: CurrentPrincipal) -> FicheLue:
    """Every authenticated caller. Identity, EJ/EG links, région, secteur, GHT, AC, staff, and
    per dispositif (phase1, hospiconnect, aap): eligible or not with the rules passed and
    failed, FINESS PMSI and maille."""
    fiche = await repository.fiche(session, finess)
    if fiche is not None:
        return FicheLue.model_validate(fiche.detail)
    # Outside the programme's perimeter (social, medico-social...): computed from its facts.
    calculee = await service.fiche_a_la_demande(session, finess)
    if calculee is None:
        raise introuvable("établissement", finess)
    return FicheLue.model_validate(calculee)


def _ght(groupe: Ght, liste: list[MembreGht]) -> GhtDetail:
    return GhtDetail(
        code=groupe.code, libelle=groupe.libelle, type_groupement=groupe.type_groupement,
        numero_gcc=groupe.numero_gcc, actif=groupe.actif,
        support=next((m.finess_ej for m in liste if m.role == "S"), None),
        membres=[m.finess_ej for m in liste], source=groupe.source,
    )


@router_ght.get("", response_model=Page[GhtDetail])
async def lister_ghts(session: SessionDep, _: CurrentPrincipal, pagination: PaginationDep) -> Page[GhtDetail]:
    """Every authenticated caller."""
    groupes, total = await repository.lister_ghts(session, pagination.limit, pagination.offset)
    items = []
    for groupe in groupes:
        trouve = await repository.ght(session, groupe.code)
        assert trouve is not None
        items.append(_ght(*trouve))
    return Page(items=items, total=total, limit=pagination.limit, offset=pagination.offset)


@router_ght.get("/{code}", response_model=GhtDetail)
async def lire_ght(code: str, session: SessionDep, _: CurrentPrincipal) -> GhtDetail:
    """Every authenticated caller: the GHT, its support and its members (FINESS EJ)."""
    trouve = await repository.ght(session, code)
    if trouve is None:
        raise introuvable("GHT", code)
    return _ght(*trouve)

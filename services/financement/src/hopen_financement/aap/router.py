from __future__ import annotations

from fastapi import APIRouter

from hopen_common.auth.portee import exiger_acces, filtre_liste, region_de_lecture
from hopen_common.db import SessionDep
from hopen_common.problemes import introuvable
from hopen_financement.aap import repository
from hopen_financement.aap.models import AtteinteProjetAap, ProjetAap
from hopen_financement.aap.schemas import ProjetAapLu
from hopen_financement.acces import FinessQuery, Lecteur, RegionQuery

router = APIRouter(prefix="/v1/aap", tags=["aap"])


@router.get("/projets", response_model=list[ProjetAapLu])
async def lister_projets(session: SessionDep, principal: Lecteur, finess: FinessQuery = None,
                         region: RegionQuery = None) -> list[ProjetAapLu]:
    """Selected projects with the amount granted and its checks. Roles: etablissement (lead FINESS of
    its token), ars (its region), dns."""
    filtre_liste(principal, finess=finess, region=region)
    rows = await repository.projets(session, finess=finess, region=region_de_lecture(principal, region))
    return [ProjetAapLu.model_validate(p, from_attributes=True).model_copy(update={"atteint": a})
            for p, a in rows]


@router.get("/projets/{projet_id}", response_model=ProjetAapLu)
async def lire_projet(session: SessionDep, principal: Lecteur, projet_id: str) -> ProjetAapLu:
    """One project. Roles: etablissement (its lead FINESS), ars (its region), dns; 404 otherwise."""
    projet = await session.get(ProjetAap, projet_id)
    if projet is None:
        raise introuvable("Projet", projet_id)
    exiger_acces(principal, region=projet.region, finess=projet.finess, ressource="Projet",
                 identifiant=projet_id)
    atteinte = await session.get(AtteinteProjetAap, projet_id)
    return ProjetAapLu.model_validate(projet, from_attributes=True).model_copy(
        update={"atteint": atteinte.atteint if atteinte else None})

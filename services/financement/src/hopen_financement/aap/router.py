from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hopen_common.auth.portee import exiger_acces, filtre_liste, region_de_lecture
from hopen_common.db import SessionDep
from hopen_common.pagination import Page, PaginationDep, page_de
from hopen_common.problemes import introuvable
from hopen_financement.aap import repository
from hopen_financement.aap.models import DecisionProjetAapRecue, ProjetAap
from hopen_financement.aap.schemas import ProjetAapLu
from hopen_financement.acces import FinessQuery, Lecteur, RegionQuery

router = APIRouter(prefix="/v1/aap", tags=["aap"])


@router.get("/projets", response_model=Page[ProjetAapLu])
async def lister_projets(session: SessionDep, principal: Lecteur, pagination: PaginationDep,
                         finess: FinessQuery = None, region: RegionQuery = None) -> Page[ProjetAapLu]:
    """Selected projects with the amount granted and its checks. Roles: etablissement (lead FINESS of
    its token), ars (its region), dns."""
    filtre_liste(principal, finess=finess, region=region)
    rows = await repository.projets(session, finess=finess, region=region_de_lecture(principal, region))
    courantes = await repository.decisions_courantes(session, [p.projet_id for p, _ in rows])
    return page_de([_lu(p, courantes) for p, _ in rows], pagination)


def _lu(projet: ProjetAap, courantes: dict[tuple[str, str], DecisionProjetAapRecue]) -> ProjetAapLu:
    """The project as its current decisions say (a corrected amount, a corrected attainment)."""
    lu = ProjetAapLu.model_validate(projet, from_attributes=True)
    selection = courantes.get((projet.projet_id, "selection"))
    atteinte = courantes.get((projet.projet_id, "atteinte"))
    update: dict[str, Any] = {"atteint": None if atteinte is None else atteinte.retenu}
    if selection is not None and not selection.retenu:
        update["retenu"] = False
    elif selection is not None and selection.montant_accorde is not None:
        update.update(decision_id=selection.decision_id, montant_accorde=selection.montant_accorde,
                      calcul=selection.calcul or projet.calcul)
    return lu.model_copy(update=update)


@router.get("/projets/{projet_id}", response_model=ProjetAapLu)
async def lire_projet(session: SessionDep, principal: Lecteur, projet_id: str) -> ProjetAapLu:
    """One project. Roles: etablissement (its lead FINESS), ars (its region), dns; 404 otherwise."""
    projet = await session.get(ProjetAap, projet_id)
    if projet is None:
        raise introuvable("Projet", projet_id)
    exiger_acces(principal, region=projet.region, finess=projet.finess, ressource="Projet",
                 identifiant=projet_id)
    return _lu(projet, await repository.decisions_courantes(session, [projet_id]))

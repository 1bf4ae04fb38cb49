from __future__ import annotations

from fastapi import APIRouter

from hopen_common.auth import ArsOuDns
from hopen_common.auth.portee import exiger_region
from hopen_common.db import SessionDep
from hopen_common.problemes import introuvable
from hopen_common.region import CodeRegion
from hopen_instruction.enveloppes import service
from hopen_instruction.models import EnveloppeConnue
from hopen_instruction.projets.rules import Disponibilite
from hopen_instruction.projets.schemas import EnveloppeLue

router = APIRouter(prefix="/v1/enveloppes", tags=["appel à projets"])
Lecteur = ArsOuDns


def enveloppe_lue(compte: EnveloppeConnue, place: Disponibilite) -> EnveloppeLue:
    return EnveloppeLue(
        dispositif=compte.dispositif, region=compte.region, alloue=compte.alloue, engage=compte.engage,
        consomme=compte.consomme, disponible=compte.disponible, en_attente=place.en_attente,
        disponible_pour_selection=place.pour_selection, source=compte.source,
        derniere_ecriture=compte.derniere_ecriture, maj_le=compte.maj_le)


@router.get("/{region:region}", response_model=EnveloppeLue)
async def lire(region: CodeRegion, session: SessionDep, principal: Lecteur) -> EnveloppeLue:
    """The AAP envelope of a region as instruction knows it (financement's figures as of its last event)
    and what a new selection may still take. Roles: ars (its region; another answers 404), dns."""
    exiger_region(principal, region, ressource="enveloppe", identifiant=region)
    situation = await service.situation(session, region)
    if situation is None:
        raise introuvable("enveloppe", region)
    return enveloppe_lue(*situation)

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hopen_common.auth.portee import exiger_region, region_de_lecture
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent
from hopen_common.problemes import introuvable
from hopen_common.region import CodeRegion
from hopen_financement.acces import Dns, Pilote
from hopen_financement.enveloppes import repository
from hopen_financement.enveloppes.models import CompteEnveloppe
from hopen_financement.enveloppes.rules import situation
from hopen_financement.enveloppes.schemas import DemandeTransfert, EcritureLue, EnveloppeLue, TransfertLu
from hopen_financement.enveloppes.service import situation_de, transferer

router = APIRouter(prefix="/v1/enveloppes", tags=["enveloppes"])

Dispositif = Annotated[str, Query(max_length=20)]


def _lue(compte: CompteEnveloppe, alloue: object, engage: object, consomme: object,
         disponible: object) -> EnveloppeLue:
    return EnveloppeLue.model_validate({
        "dispositif": compte.dispositif, "region": compte.region, "libelle_region": compte.libelle_region,
        "alloue": alloue, "engage": engage, "consomme": consomme, "disponible": disponible})


@router.get("", response_model=list[EnveloppeLue])
async def lister(session: SessionDep, principal: Pilote,
                 dispositif: Dispositif = "aap") -> list[EnveloppeLue]:
    """Every regional envelope of a dispositif with its four figures. Roles: dns (all), ars (its own)."""
    region = region_de_lecture(principal, None)
    totaux = await repository.totaux(session, dispositif, region)
    resultat = []
    for compte in await repository.comptes(session, dispositif, region):
        s = situation(totaux.get((compte.dispositif, compte.region), {}))
        resultat.append(_lue(compte, s.alloue, s.engage, s.consomme, s.disponible))
    return resultat


@router.get("/{region}", response_model=EnveloppeLue)
async def lire(session: SessionDep, principal: Pilote, region: CodeRegion,
               dispositif: Dispositif = "aap") -> EnveloppeLue:
    """Allocated, engaged, consumed and available of one region. Roles: ars (its region; another
    region answers 404), dns."""
    exiger_region(principal, region, ressource="Enveloppe", identifiant=region)
    compte = await repository.compte(session, dispositif, region)
    if compte is None:
        raise introuvable("Enveloppe", f"{dispositif}/{region}")
    s = await situation_de(session, dispositif, region)
    return _lue(compte, s.alloue, s.engage, s.consomme, s.disponible)


@router.get("/{region}/ecritures", response_model=list[EcritureLue])
async def ecritures(
    session: SessionDep, principal: Pilote, region: CodeRegion, dispositif: Dispositif = "aap",
    limite: Annotated[int, Query(ge=1, le=1000)] = 200,
    apres: Annotated[int | None, Query(description="id of the last entry of the previous page")] = None,
) -> list[EcritureLue]:
    """The ledger's entries with their cause, oldest first. Roles: ars (its region), dns."""
    exiger_region(principal, region, ressource="Enveloppe", identifiant=region)
    if await repository.compte(session, dispositif, region) is None:
        raise introuvable("Enveloppe", f"{dispositif}/{region}")
    rows = await repository.ecritures(session, dispositif, region, limite=limite, apres_id=apres)
    return [EcritureLue.model_validate(r, from_attributes=True) for r in rows]


@router.post("/transferts", response_model=TransfertLu, status_code=201)
async def creer_transfert(session: SessionDep, principal: Dns, demande: DemandeTransfert,
                          request: Request) -> JSONResponse:
    """DNS reallocation of unspent (available) money to another region or dispositif: two audited
    entries sharing one transfert_id. Roles: dns only. Accepts an Idempotency-Key: a replay with the
    same key answers the first transfer and moves nothing twice."""

    async def executer() -> TransfertLu:
        sortie, entree = await transferer(
            session, source=(demande.source.dispositif, demande.source.region),
            destination=(demande.destination.dispositif, demande.destination.region),
            montant=demande.montant, motif=demande.motif, decide_par=principal.subject)
        assert sortie.transfert_id is not None
        return TransfertLu(transfert_id=sortie.transfert_id,
                           sortie=EcritureLue.model_validate(sortie, from_attributes=True),
                           entree=EcritureLue.model_validate(entree, from_attributes=True))

    return await idempotent(session, request, principal.subject, executer)

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Dns
from hopen_common.auth.portee import exiger_region, region_de_lecture
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep, page_de
from hopen_common.problemes import introuvable
from hopen_common.propositions import StatutProposition
from hopen_common.region import CodeRegion
from hopen_financement.acces import Pilote
from hopen_financement.enveloppes import propositions, repository
from hopen_financement.enveloppes.models import CompteEnveloppe, PropositionTransfert
from hopen_financement.enveloppes.rules import situation
from hopen_financement.enveloppes.schemas import (
    DemandeTransfert,
    EcritureLue,
    EnveloppeLue,
    PropositionTransfertLue,
    RejetTransfert,
    TransfertLu,
)
from hopen_financement.enveloppes.service import situation_de

router = APIRouter(prefix="/v1/enveloppes", tags=["enveloppes"])

Dispositif = Annotated[str, Query(max_length=20)]


def _lue(compte: CompteEnveloppe, alloue: object, engage: object, consomme: object,
         disponible: object) -> EnveloppeLue:
    return EnveloppeLue.model_validate({
        "dispositif": compte.dispositif, "region": compte.region, "libelle_region": compte.libelle_region,
        "alloue": alloue, "engage": engage, "consomme": consomme, "disponible": disponible})


@router.get("", response_model=Page[EnveloppeLue])
async def lister(session: SessionDep, principal: Pilote, pagination: PaginationDep,
                 dispositif: Dispositif = "aap") -> Page[EnveloppeLue]:
    """Every regional envelope of a dispositif with its four figures. Roles: dns (all), ars (its own)."""
    region = region_de_lecture(principal, None)
    totaux = await repository.totaux(session, dispositif, region)
    resultat = []
    for compte in await repository.comptes(session, dispositif, region):
        s = situation(totaux.get((compte.dispositif, compte.region), {}))
        resultat.append(_lue(compte, s.alloue, s.engage, s.consomme, s.disponible))
    return page_de(resultat, pagination)


@router.get("/{region:region}", response_model=EnveloppeLue)
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


@router.get("/{region:region}/ecritures", response_model=Page[EcritureLue])
async def ecritures(session: SessionDep, principal: Pilote, pagination: PaginationDep, region: CodeRegion,
                    dispositif: Dispositif = "aap") -> Page[EcritureLue]:
    """The ledger's entries with their cause, oldest first, paged by a cursor that resumes after the
    last entry read. Roles: ars (its region), dns."""
    exiger_region(principal, region, ressource="Enveloppe", identifiant=region)
    if await repository.compte(session, dispositif, region) is None:
        raise introuvable("Enveloppe", f"{dispositif}/{region}")
    rows, total, suivant = await repository.ecritures(session, dispositif, region, pagination)
    return Page(items=[EcritureLue.model_validate(r, from_attributes=True) for r in rows], total=total,
                limit=pagination.limit, offset=pagination.offset, suivant=suivant)


@router.post("/transferts", response_model=PropositionTransfertLue, status_code=202)
async def proposer_transfert(session: SessionDep, principal: Dns, demande: DemandeTransfert,
                             request: Request) -> JSONResponse:
    """Propose a DNS reallocation of unspent (available) money to another region or dispositif
    (issue 10, ADR 0025): 202 with the proposal, the transfer as validated and both envelopes'
    available amounts before and after it; nothing moves until another DNS person confirms it
    (`POST /v1/propositions/{id}/confirmation`). Every check of the transfer runs now and again at the
    confirmation. Roles: dns only. Accepts an Idempotency-Key (a replay answers the same proposal)."""

    async def executer() -> PropositionTransfertLue:
        p = await propositions.proposer(
            session, principal, source=(demande.source.dispositif, demande.source.region),
            destination=(demande.destination.dispositif, demande.destination.region),
            montant=demande.montant, motif=demande.motif)
        return await lue(session, p)

    return await idempotent(session, request, principal, executer, statut=202)


async def lue(session: AsyncSession, p: PropositionTransfert) -> PropositionTransfertLue:
    if p.statut == StatutProposition.EN_ATTENTE.value:
        disponibles: Any = await propositions.disponibles_actuels(session, p)
    else:
        disponibles = p.disponibles
    ecritures = None
    if p.transfert_id is not None:
        paire = await propositions.ecritures_du_transfert(session, p.transfert_id)
        if paire is not None:
            ecritures = TransfertLu(transfert_id=p.transfert_id,
                                    sortie=EcritureLue.model_validate(paire[0], from_attributes=True),
                                    entree=EcritureLue.model_validate(paire[1], from_attributes=True))
    confirmee = p.statut == StatutProposition.CONFIRMEE.value
    rejetee = p.statut == StatutProposition.REJETEE.value
    return PropositionTransfertLue.model_validate({
        "proposition_id": p.proposition_id, "statut": p.statut,
        "transfert": {"source": {"dispositif": p.source_dispositif, "region": p.source_region},
                      "destination": {"dispositif": p.destination_dispositif, "region": p.destination_region},
                      "montant": p.montant, "motif": p.motif},
        "disponibles": disponibles, "proposee_par": p.proposee_par, "proposee_le": p.proposee_le,
        "confirmee_par": p.traitee_par if confirmee else None,
        "confirmee_le": p.traitee_le if confirmee else None,
        "rejetee_par": p.traitee_par if rejetee else None, "rejetee_le": p.traitee_le if rejetee else None,
        "motivation": p.motivation, "transfert_id": p.transfert_id, "ecritures": ecritures})


propositions_router = APIRouter(prefix="/v1/propositions", tags=["enveloppes"])


@propositions_router.get("", response_model=Page[PropositionTransfertLue])
async def lister_propositions(
    session: SessionDep, _: Dns, pagination: PaginationDep, statut: StatutProposition | None = None,
) -> Page[PropositionTransfertLue]:
    """The DNS's transfer proposals, oldest first, each named by its `proposition_id`
    (`statut=en_attente`: those waiting for a second DNS person). Roles: dns only."""
    lignes, total = await propositions.lister(session, statut, pagination=pagination)
    return Page(items=[await lue(session, p) for p in lignes], total=total, limit=pagination.limit,
                offset=pagination.offset)


@propositions_router.get("/{proposition_id}", response_model=PropositionTransfertLue)
async def lire_proposition(session: SessionDep, _: Dns, proposition_id: str) -> PropositionTransfertLue:
    """One transfer proposal; a waiting one shows the envelopes as a confirmation would find them now.
    Roles: dns only."""
    return await lue(session, await propositions.lire(session, proposition_id))


@propositions_router.post("/{proposition_id}/confirmation", response_model=PropositionTransfertLue)
async def confirmer_proposition(session: SessionDep, principal: Dns, proposition_id: str,
                                request: Request) -> JSONResponse:
    """Another DNS person confirms: the transfer is written (two ledger entries sharing one
    transfert_id, two EnveloppeTransferee events) with the proposer and the confirmer. The proposer
    gets 403 quatre-yeux, a treated proposal 409 proposition-deja-traitee; when the source no longer
    has the money, the transfer's own refusal and nothing moves (the proposal still waits).
    Roles: dns only. Accepts an Idempotency-Key."""

    async def executer() -> PropositionTransfertLue:
        p, _, _ = await propositions.confirmer(session, principal, proposition_id)
        return await lue(session, p)

    return await idempotent(session, request, principal, executer, statut=200)


@propositions_router.post("/{proposition_id}/rejet", response_model=PropositionTransfertLue)
async def rejeter_proposition(session: SessionDep, principal: Dns, proposition_id: str,
                              demande: RejetTransfert, request: Request) -> JSONResponse:
    """Another DNS person rejects, with a motivation: nothing moves. Same checks as the confirmation.
    Roles: dns only. Accepts an Idempotency-Key."""

    async def executer() -> PropositionTransfertLue:
        p = await propositions.rejeter(session, principal, proposition_id, motivation=demande.motivation)
        return await lue(session, p)

    return await idempotent(session, request, principal, executer, statut=200)

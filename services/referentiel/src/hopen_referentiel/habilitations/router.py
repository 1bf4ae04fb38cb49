"""/v1/habilitations: who may do what on the platform (issue 10, ADR 0022).

Managed by the DNS (ARS agents, référents, DNS persons, experts, establishments' staff), by each
region's référent (its agents and their profiles) and by ops (technical accounts); every change is
history, audit and an event the other services follow within seconds.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from hopen_common.auth import CurrentPrincipal, Dns, Principal, Role, exiger_roles
from hopen_common.calendrier import aujourd_hui
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep, page_de
from hopen_common.problemes import REGLE_METIER
from hopen_common.region import CodeRegion
from hopen_referentiel.habilitations import service
from hopen_referentiel.habilitations.schemas import (
    ChangementHabilitation,
    HabilitationLue,
    ModificationHabilitation,
    NouvelleHabilitation,
    ReferentsManquantsLus,
    RegionSansReferent,
    Revocation,
)

router = APIRouter(prefix="/v1/habilitations", tags=["habilitations"])

Gestionnaire = Annotated[Principal, Depends(exiger_roles(Role.DNS, Role.ARS, Role.OPS))]
IfMatch = Annotated[str | None, Header(alias="If-Match", description='the version read, e.g. "3"')]


def _version(if_match: str | None) -> int | None:
    """If-Match carries the version read (an ETag "3", weak or not): a change made meanwhile is 412."""
    if if_match is None:
        return None
    valeur = if_match.strip().removeprefix("W/").strip('"')
    if not valeur.isdigit() or len(valeur) > 9:
        raise REGLE_METIER.erreur('If-Match : la version lue attendue, par exemple "3"', champ="If-Match")
    return int(valeur)


def _avec_etag(corps: HabilitationLue, statut: int = 200) -> JSONResponse:
    return JSONResponse(corps.model_dump(mode="json"), status_code=statut,
                        headers={"ETag": f'"{corps.version}"'})


@router.post("", status_code=201, response_model=HabilitationLue)
async def creer(corps: NouvelleHabilitation, request: Request, session: SessionDep,
                gestionnaire: Gestionnaire) -> JSONResponse:
    """Grant rights to one person of a trusted identity provider (`emetteur` exactly as its tokens'
    `iss`). The DNS: ars (with profiles and référent), dns, expert, etablissement; a region's référent:
    its region's agents; ops: ops accounts. Nobody grants themselves (403 auto-habilitation); one
    habilitation per person (409 habilitation-existante). Accepts an Idempotency-Key."""
    emetteurs = frozenset(request.app.state.settings.emetteurs_de_confiance())

    async def executer() -> HabilitationLue:
        return await service.creer(session, corps, gestionnaire, emetteurs_de_confiance=emetteurs)

    reponse = await idempotent(session, request, gestionnaire, executer)
    if reponse.status_code == 201:  # a replay too: the stored answer is the habilitation created
        lue = json.loads(bytes(reponse.body))
        reponse.headers["ETag"] = f'"{lue["version"]}"'
        reponse.headers["Location"] = f"/v1/habilitations/{lue['id']}"
    return reponse


@router.get("", response_model=Page[HabilitationLue])
async def lister(
    session: SessionDep, lecteur: Gestionnaire, pagination: PaginationDep,
    role: Annotated[Role | None, Query()] = None,
    region: Annotated[CodeRegion | None, Query()] = None,
    actif: Annotated[bool | None, Query()] = None,
    referent: Annotated[bool | None, Query()] = None,
) -> Page[HabilitationLue]:
    """The DNS: every habilitation; an ARS agent: its region's agents (a foreign `region` is 403);
    ops: the technical accounts."""
    return await service.lister(session, lecteur, pagination, role=role, region=region, actif=actif,
                                referent=referent)


@router.get("/moi", response_model=HabilitationLue,
            responses={404: {"description": "aucune habilitation (jeton de développement)"}})
async def moi(session: SessionDep, principal: CurrentPrincipal) -> JSONResponse:
    """The caller's own habilitation (what the front end shows as "my rights"); 404 for a
    development token, whose rights are its claims. An expert, invited for one opinion, has only
    its opinions' endpoints (ADR 0015)."""
    ligne = await service.par_personne(session, principal)
    return _avec_etag(ligne)


@router.get("/referents/manquants", response_model=ReferentsManquantsLus)
async def referents_manquants(request: Request, session: SessionDep, _: Dns) -> ReferentsManquantsLus:
    """The DNS: the regions whose ARS has not named an active référent of the programme, and the
    deadline of annex 3 (end of the first candidature period, phase 1)."""
    etat = await service.manquants(session, aujourd_hui(request.app.state.settings.date_du_jour))
    return ReferentsManquantsLus(
        echeance=etat.echeance, jours_restants=etat.jours_restants, echeance_depassee=etat.jours_restants < 0,
        regions=[RegionSansReferent(code=r.code, libelle=r.libelle, ars=r.ars) for r in etat.regions])


@router.get("/{habilitation_id:uuid}", response_model=HabilitationLue)
async def lire(habilitation_id: uuid.UUID, session: SessionDep, lecteur: Gestionnaire) -> JSONResponse:
    """One habilitation within the reader's reach (else 404); its ETag is its version."""
    return _avec_etag(await service.lire(session, habilitation_id, lecteur))


@router.patch("/{habilitation_id:uuid}", response_model=HabilitationLue)
async def modifier(habilitation_id: uuid.UUID, corps: ModificationHabilitation, session: SessionDep,
                   gestionnaire: Gestionnaire, if_match: IfMatch = None) -> JSONResponse:
    """Change rights (profiles, region, FINESS, référent, role) or restore a revoked habilitation
    (`actif: true`), with a motivation; the manager must reach both the old and the new state.
    `If-Match: "<version>"` refuses a change made meanwhile (412 version-perimee)."""
    return _avec_etag(await service.modifier(session, habilitation_id, corps, gestionnaire,
                                             version_attendue=_version(if_match)))


@router.post("/{habilitation_id:uuid}/revocation", response_model=HabilitationLue)
async def revoquer(habilitation_id: uuid.UUID, corps: Revocation, session: SessionDep,
                   gestionnaire: Gestionnaire, if_match: IfMatch = None) -> JSONResponse:
    """Withdraw every right at once: the person's tokens are refused (403 sans-habilitation) in every
    service as soon as the event reaches it. The habilitation and its history stay."""
    return _avec_etag(await service.revoquer(session, habilitation_id, corps.motivation, gestionnaire,
                                             version_attendue=_version(if_match)))


@router.get("/{habilitation_id:uuid}/historique", response_model=Page[ChangementHabilitation])
async def historique(habilitation_id: uuid.UUID, session: SessionDep,
                     lecteur: Gestionnaire, pagination: PaginationDep) -> Page[ChangementHabilitation]:
    """Every version: before, after, who, when, why."""
    return page_de(await service.historique(session, habilitation_id, lecteur), pagination)

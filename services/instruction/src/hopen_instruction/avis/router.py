"""Expert opinions (issue 9 item 7): the ARS asks (`POST /v1/dossiers/{id}/avis`, projects likewise) and
reads them (`GET .../avis`); the invited expert lists its own (`GET /v1/avis`), reads one with its
dossier (`GET /v1/avis/{id}`) and answers once (`POST /v1/avis/{id}/reponse`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Ars, ArsOuDns, Expert, Principal, Role, exiger_roles
from hopen_common.calendrier import aujourd_hui_paris
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep, page_de
from hopen_instruction.avis import service
from hopen_instruction.avis.schemas import AvisDemandeCorps, AvisDetail, AvisLu, ReponseDemande, ReponseLue
from hopen_instruction.dossiers.router import _dossier
from hopen_instruction.models import Avis, Dossier, Projet, ReponseAvis
from hopen_instruction.projets.router import _projet

router = APIRouter(tags=["avis d'experts"])
Lecteur = ArsOuDns
Instructeur = Ars
LecteurAvis = Annotated[Principal, Depends(exiger_roles(Role.EXPERT, Role.ARS, Role.DNS))]


def _reponse(r: ReponseAvis | None) -> ReponseLue | None:
    return None if r is None else ReponseLue(avis=r.avis, texte=r.texte, rendu_par=r.rendu_par,
                                             rendu_le=r.rendu_le)


def avis_lu(a: Avis, r: ReponseAvis | None) -> AvisLu:
    return AvisLu(id=a.id, dossier_type=a.dossier_type, dossier_id=a.dossier_id,
                  region=a.region, expert=a.expert, question=a.question, echeance=a.echeance,
                  demande_par=a.demande_par, demande_le=a.demande_le, reponse=_reponse(r))


async def _detail(session: AsyncSession, a: Avis) -> AvisDetail:
    """The dossier as the ARS lists it, read through the invitation (no scope check of its own: the
    caller passed service.charger)."""
    reponse = await session.get(ReponseAvis, a.id)
    dossier = await session.get(Dossier, a.dossier_id) if a.dossier_type == "candidature" else None
    projet = await session.get(Projet, a.dossier_id) if a.dossier_type == "projet" else None
    return AvisDetail(**avis_lu(a, reponse).model_dump(),
                      dossier=None if dossier is None else _dossier(dossier),
                      projet=None if projet is None else _projet(projet))


def _routes(dossier_type: TypeDossier, prefixe: str) -> None:
    base = f"{prefixe}/{{dossier_id}}/avis"

    @router.post(base, status_code=201, response_model=AvisLu, name=f"demander_avis_{dossier_type}")
    async def demander(dossier_id: str, demande: AvisDemandeCorps, session: SessionDep,
                       principal: Instructeur, request: Request) -> JSONResponse:
        """The ARS of the region asks an expert (AvisDemande, internal topic avis). The due date is
        today or later (422 `echeance`); a withdrawn or closed dossier: 409. Accepts an
        Idempotency-Key."""
        async def executer() -> AvisLu:
            avis = await service.demander(session, principal, dossier_type, dossier_id, demande,
                                          aujourd_hui=aujourd_hui_paris(), maintenant=datetime.now(UTC))
            return avis_lu(avis, None)
        return await idempotent(session, request, principal, executer)

    @router.get(base, response_model=Page[AvisLu], name=f"lister_avis_{dossier_type}")
    async def lister(dossier_id: str, session: SessionDep,
                     principal: Lecteur, pagination: PaginationDep) -> Page[AvisLu]:
        """Every opinion asked on the dossier and its answer. ARS of the region, DNS; never the
        establishment (candidature knows nothing of them)."""
        tous = await service.du_dossier(session, principal, dossier_type, dossier_id)
        reponses = await service.reponses(session, [a.id for a in tous])
        return page_de([avis_lu(a, reponses.get(a.id)) for a in tous], pagination)


_routes("candidature", "/v1/dossiers")
_routes("projet", "/v1/projets")


@router.get("/v1/avis", response_model=Page[AvisLu])
async def mes_avis(session: SessionDep, principal: Expert, pagination: PaginationDep) -> Page[AvisLu]:
    """The opinions the calling expert is invited to (earliest due date first). Role expert."""
    tous, total = await service.de_l_expert(session, principal, limit=pagination.limit,
                                            offset=pagination.offset)
    reponses = await service.reponses(session, [a.id for a in tous])
    return Page(items=[avis_lu(a, reponses.get(a.id)) for a in tous], total=total, limit=pagination.limit,
                offset=pagination.offset)


@router.get("/v1/avis/{avis_id}", response_model=AvisDetail)
async def lire(avis_id: str, session: SessionDep, principal: LecteurAvis) -> AvisDetail:
    """One opinion with the dossier (or project) it is about: the invited expert (any other expert:
    404), the ARS of the region, the DNS."""
    return await _detail(session, await service.charger(session, principal, avis_id))


@router.post("/v1/avis/{avis_id}/reponse", status_code=201, response_model=AvisDetail)
async def repondre(avis_id: str, demande: ReponseDemande, session: SessionDep,
                   principal: Expert) -> AvisDetail:
    """The invited expert answers, once (AvisRendu; a second answer: 409 avis-deja-rendu)."""
    avis, _ = await service.repondre(session, principal, avis_id, demande, maintenant=datetime.now(UTC))
    return await _detail(session, avis)



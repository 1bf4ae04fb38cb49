from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from hopen_common.auth import CurrentPrincipal, Dns
from hopen_common.db import SessionDep
from hopen_common.errors import introuvable
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep, page_de
from hopen_referentiel.models import VersionProgramme
from hopen_referentiel.programme import service

router = APIRouter(prefix="/v1/programme", tags=["programme"])
Document = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,49}$", examples=["phase1", "hospiconnect"])]


class VersionLue(BaseModel):
    document: str
    version: str
    empreinte: str
    publie_par: str
    publie_le: datetime
    motivation: str
    source: str
    contenu: dict[str, Any]


class DocumentLu(BaseModel):
    document: str
    version_courante: str
    versions: list[str]


class NouvelleVersion(BaseModel):
    version: str = Field(max_length=20, examples=["2026.2"])
    motivation: str = Field(min_length=1, max_length=5000)
    contenu: dict[str, Any]  # numbers as decimal strings


def _lue(v: VersionProgramme) -> VersionLue:
    return VersionLue.model_validate(v, from_attributes=True)


@router.get("", response_model=Page[DocumentLu])
async def documents(session: SessionDep, _: CurrentPrincipal, pagination: PaginationDep) -> Page[DocumentLu]:
    """Every authenticated caller: the programme documents and their versions (oldest first)."""
    par_document: dict[str, list[str]] = {}
    for v in await service.versions(session):
        par_document.setdefault(v.document, []).append(v.version)
    return page_de([DocumentLu(document=d, version_courante=vs[-1], versions=vs)
                    for d, vs in par_document.items()], pagination)


@router.get("/{document}", response_model=VersionLue)
async def courante(document: Document, session: SessionDep, _: CurrentPrincipal) -> VersionLue:
    """Every authenticated caller: the current (latest published) version of a document."""
    v = await service.courante(session, document)
    if v is None:
        raise introuvable("document de programme", document)
    return _lue(v)


@router.get("/{document}/versions/{version}", response_model=VersionLue)
async def version(document: Document, version: str, session: SessionDep, _: CurrentPrincipal) -> VersionLue:
    """Every authenticated caller: one version, as published (never modified)."""
    v = await session.get(VersionProgramme, (document, version))
    if v is None:
        raise introuvable("version de programme", f"{document}/{version}")
    return _lue(v)


@router.post("/{document}/versions", status_code=201, response_model=VersionLue)
async def publier(
    document: Document, corps: NouvelleVersion, request: Request, session: SessionDep,
    principal: Dns,
) -> JSONResponse:
    """DNS only. Publishes a new version (greater than the current one; older ones stay
    readable); journaled and published as ProgrammePublie. Accepts an Idempotency-Key."""

    async def executer() -> VersionLue:
        return _lue(await service.publier_version(session, document, corps.version, corps.contenu,
                                                  corps.motivation, principal, datetime.now(UTC)))

    return await idempotent(session, request, principal, executer)

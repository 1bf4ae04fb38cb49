"""The three routes of a dossier's message thread (ADR 0015), once for both sides: list, post (with an
Idempotency-Key) and read receipt. Candidature (the establishment) and instruction (the ARS) each give
their own dependency for who may read and who may write, the body they accept and the service that
knows who sees the dossier; the thread's mechanics are in hopen_common.fil.

No `from __future__ import annotations` here, on purpose: FastAPI reads the route functions'
annotations, and the dependencies they name are this factory's arguments (closure variables), which
only an annotation evaluated at definition time can see."""

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth.principal import Principal
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db import SessionDep
from hopen_common.fil import DossierDuFil, MessageDemande, MessageDuFil
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep


class ServiceDuFil(Protocol):
    """What a side's messages service offers (hopen_candidature.messages.service,
    hopen_instruction.messages.service)."""

    def charger(self, session: AsyncSession, principal: Principal, dossier_type: TypeDossier,
                dossier_id: str, *, verrou: bool = False) -> Awaitable[DossierDuFil]: ...

    def lister(self, session: AsyncSession, dossier: Any, *, limit: int, offset: int
               ) -> Awaitable[tuple[list[Any], int]]: ...

    @property
    def envoyer(self) -> Callable[..., Awaitable[Any]]:
        """(session, principal, dossier_type, dossier_id, *, texte, maintenant, **the body's other
        fields): each side's body differs (candidature's carries pieces)."""

    def marquer_lu(self, session: AsyncSession, principal: Principal, dossier_type: TypeDossier,
                   dossier_id: str, message_id: str, *, maintenant: datetime) -> Awaitable[Any]: ...


def message_lu(message: Any) -> MessageDuFil:
    return MessageDuFil.model_validate(message, from_attributes=True)


def routes_du_fil(router: APIRouter, service: ServiceDuFil, *, prefixes: Mapping[TypeDossier, str],
                  lecteur: Any, ecrivain: Any, demande: type[MessageDemande],
                  docs: Mapping[str, str]) -> None:
    """Adds to `router`, for each dossier type and its path prefix, GET/POST `{prefix}/{id}/messages`
    and POST `.../messages/{message_id}/lecture`. `lecteur`/`ecrivain`: Annotated Principal
    dependencies; `demande`: the body of a new message (its fields past `texte` go to
    `service.envoyer` as keywords); `docs`: each route's description ("lister", "envoyer", "lecture")."""
    for dossier_type, prefixe in prefixes.items():
        _routes(router, service, dossier_type, prefixe, lecteur=lecteur, ecrivain=ecrivain, demande=demande,
                docs=docs)


def _routes(router: APIRouter, service: ServiceDuFil, dossier_type: TypeDossier, prefixe: str, *,
            lecteur: Any, ecrivain: Any, demande: type[MessageDemande], docs: Mapping[str, str]) -> None:
    base = f"{prefixe}/{{dossier_id}}/messages"

    async def lister(dossier_id: str, session: SessionDep, principal: lecteur,
                     pagination: PaginationDep) -> Page[MessageDuFil]:
        dossier = await service.charger(session, principal, dossier_type, dossier_id)
        messages, total = await service.lister(session, dossier, limit=pagination.limit,
                                               offset=pagination.offset)
        return Page(items=[message_lu(m) for m in messages], total=total, limit=pagination.limit,
                    offset=pagination.offset)

    async def envoyer(dossier_id: str, corps: demande, session: SessionDep,  # type: ignore[valid-type]
                      principal: ecrivain, request: Request) -> JSONResponse:
        extra = corps.model_dump(exclude={"texte"})  # type: ignore[attr-defined]

        async def executer() -> MessageDuFil:
            return message_lu(await service.envoyer(session, principal, dossier_type, dossier_id,
                                                    texte=corps.texte,  # type: ignore[attr-defined]
                                                    maintenant=datetime.now(UTC), **extra))
        return await idempotent(session, request, principal, executer)

    async def lecture(dossier_id: str, message_id: str, session: SessionDep,
                      principal: ecrivain) -> MessageDuFil:
        return message_lu(await service.marquer_lu(session, principal, dossier_type, dossier_id, message_id,
                                                   maintenant=datetime.now(UTC)))

    router.add_api_route(base, lister, methods=["GET"], response_model=Page[MessageDuFil],
                         name=f"lister_messages_{dossier_type}", description=docs["lister"])
    router.add_api_route(base, envoyer, methods=["POST"], status_code=201, response_model=MessageDuFil,
                         name=f"envoyer_message_{dossier_type}", description=docs["envoyer"])
    router.add_api_route(f"{base}/{{message_id}}/lecture", lecture, methods=["POST"],
                         response_model=MessageDuFil, name=f"lire_message_{dossier_type}",
                         description=docs["lecture"])

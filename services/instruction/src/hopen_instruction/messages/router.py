"""A dossier's message thread, ARS side (issue 9 item 3): /v1/dossiers/{id}/messages and
/v1/projets/{id}/messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from hopen_common.auth import Principal, Role, exiger_roles
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db import SessionDep
from hopen_common.fil import MessageDemande, MessageDuFil
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep
from hopen_instruction.messages import service
from hopen_instruction.models import Message

router = APIRouter(tags=["messages"])
Lecteur = Annotated[Principal, Depends(exiger_roles(Role.ARS, Role.DNS))]
Instructeur = Annotated[Principal, Depends(exiger_roles(Role.ARS))]


def message_lu(m: Message) -> MessageDuFil:
    return MessageDuFil.model_validate(m, from_attributes=True)


def _routes(dossier_type: TypeDossier, prefixe: str) -> None:
    base = f"{prefixe}/{{dossier_id}}/messages"

    @router.get(base, response_model=Page[MessageDuFil], name=f"lister_messages_{dossier_type}")
    async def lister(dossier_id: str, session: SessionDep, principal: Lecteur,
                     pagination: PaginationDep) -> Page[MessageDuFil]:
        """The thread, oldest first, both sides' messages with their read receipts. ARS of the region,
        DNS (reads only); another region's dossier: 404."""
        dossier = await service.charger(session, principal, dossier_type, dossier_id)
        messages, total = await service.lister(session, dossier, limit=pagination.limit,
                                               offset=pagination.offset)
        return Page(items=[message_lu(m) for m in messages], total=total, limit=pagination.limit,
                    offset=pagination.offset)

    @router.post(base, status_code=201, response_model=MessageDuFil, name=f"envoyer_message_{dossier_type}")
    async def envoyer(dossier_id: str, demande: MessageDemande, session: SessionDep,
                      principal: Instructeur, request: Request) -> JSONResponse:
        """The ARS writes to the establishment (MessageEnvoyeParArs). A withdrawn or closed dossier: 409.
        Accepts an Idempotency-Key."""
        async def executer() -> MessageDuFil:
            return message_lu(await service.envoyer(session, principal, dossier_type, dossier_id,
                                                    texte=demande.texte, maintenant=datetime.now(UTC)))
        return await idempotent(session, request, principal.subject, executer)

    @router.post(f"{base}/{{message_id}}/lecture", response_model=MessageDuFil,
                 name=f"lire_message_{dossier_type}")
    async def lecture(dossier_id: str, message_id: str, session: SessionDep,
                      principal: Instructeur) -> MessageDuFil:
        """The ARS's read receipt of an establishment's message (MessageLuParArs, once; again: unchanged)."""
        return message_lu(await service.marquer_lu(session, principal, dossier_type, dossier_id, message_id,
                                                   maintenant=datetime.now(UTC)))


_routes("candidature", "/v1/dossiers")
_routes("projet", "/v1/projets")

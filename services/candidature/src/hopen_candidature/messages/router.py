"""A dossier's message thread, establishment side (issue 9 item 3): /v1/candidatures/{id}/messages and
/v1/projets/{id}/messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from hopen_candidature.messages import service
from hopen_candidature.models import Message
from hopen_common.auth import Principal, Role, exiger_roles
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db import SessionDep
from hopen_common.fil import PIECES_MAX, MessageDemande, MessageDuFil
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep

router = APIRouter(tags=["messages"])
Etablissement = Annotated[Principal, Depends(exiger_roles(Role.ETABLISSEMENT))]


class MessageAvecPieces(MessageDemande):
    pieces: list[str] = Field(default=[], max_length=PIECES_MAX,
                              description="ids of pieces of this dossier (uploaded on .../pieces) to attach")


def message_lu(m: Message) -> MessageDuFil:
    return MessageDuFil.model_validate(m, from_attributes=True)


def _routes(dossier_type: TypeDossier, prefixe: str) -> None:
    base = f"{prefixe}/{{dossier_id}}/messages"

    @router.get(base, response_model=Page[MessageDuFil], name=f"lister_messages_{dossier_type}")
    async def lister(dossier_id: str, session: SessionDep, principal: Etablissement,
                     pagination: PaginationDep) -> Page[MessageDuFil]:
        """The thread with the ARS, oldest first, with read receipts. The dossier's owner only; anyone
        else: 404."""
        dossier = await service.charger(session, principal, dossier_type, dossier_id)
        messages, total = await service.lister(session, dossier, limit=pagination.limit,
                                               offset=pagination.offset)
        return Page(items=[message_lu(m) for m in messages], total=total, limit=pagination.limit,
                    offset=pagination.offset)

    @router.post(base, status_code=201, response_model=MessageDuFil, name=f"envoyer_message_{dossier_type}")
    async def envoyer(dossier_id: str, demande: MessageAvecPieces, session: SessionDep,
                      principal: Etablissement, request: Request) -> JSONResponse:
        """Writes to the ARS (MessageEnvoyeParEtablissement), optionally attaching pieces of the
        dossier. Not deposited yet: 409; withdrawn or closed: 409 (the thread stays readable).
        Accepts an Idempotency-Key."""
        async def executer() -> MessageDuFil:
            return message_lu(await service.envoyer(session, principal, dossier_type, dossier_id,
                                                    texte=demande.texte, pieces=demande.pieces,
                                                    maintenant=datetime.now(UTC)))
        return await idempotent(session, request, principal.subject, executer)

    @router.post(f"{base}/{{message_id}}/lecture", response_model=MessageDuFil,
                 name=f"lire_message_{dossier_type}")
    async def lecture(dossier_id: str, message_id: str, session: SessionDep,
                      principal: Etablissement) -> MessageDuFil:
        """The read receipt of an ARS message (MessageLuParEtablissement, once; again: unchanged)."""
        return message_lu(await service.marquer_lu(session, principal, dossier_type, dossier_id, message_id,
                                                   maintenant=datetime.now(UTC)))


_routes("candidature", "/v1/candidatures")
_routes("projet", "/v1/projets")

"""The ARS side of a dossier's thread (ADR 0015): read by the ARS of the region and the DNS, written
and marked read by the ARS; each message and read receipt is an event candidature copies. The thread's
mechanics are shared with candidature (hopen_common.fil); what is instruction's: who sees the dossier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common import fil
from hopen_common.auth import Principal
from hopen_common.contracts import MessageEnvoyeParArs, MessageLuParArs, Topics
from hopen_common.contracts.pieces import TypeDossier
from hopen_instruction.dossiers import service as dossiers
from hopen_instruction.dossiers.service import SOURCE
from hopen_instruction.models import Message
from hopen_instruction.projets import service as projets

# The ARS's messages, a project's included, go on the dossier topic: one topic per event type.
COTE = fil.Cote(role="ars", envoye=MessageEnvoyeParArs, lu=MessageLuParArs, topic=Topics.DOSSIER,
                source=SOURCE)


@dataclass(frozen=True)
class DossierVu:
    """What the thread, the assignment and the opinions need of a candidature dossier or a project."""

    dossier_type: TypeDossier
    id: str
    finess: str
    region: str
    statut: str


async def charger(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                  *, verrou: bool = False) -> DossierVu:
    """The dossier if `principal` sees it (ARS of its region, DNS); 404 otherwise."""
    if dossier_type == "candidature":
        d = await dossiers.charger(session, principal, dossier_id, verrou=verrou)
        return DossierVu("candidature", d.id, d.finess, d.region, d.statut)
    p = await projets.charger(session, principal, dossier_id, verrou=verrou)
    return DossierVu("projet", p.id, p.finess, p.region, p.statut)


async def lister(session: AsyncSession, dossier: DossierVu, *, limit: int, offset: int
                 ) -> tuple[list[Message], int]:
    return await fil.lister(session, Message, dossier, limit=limit, offset=offset)


async def envoyer(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                  *, texte: str, maintenant: datetime) -> Message:
    dossier = await charger(session, principal, dossier_type, dossier_id, verrou=True)
    fil.verifier_fil_ouvert(dossier.statut, dossier.id)
    # No attachment from the ARS yet: instruction has no piece store of its own (ADR 0015).
    message: Message = await fil.envoyer(session, Message, COTE, principal, dossier, texte=texte, pieces=[],
                                         maintenant=maintenant)
    return message


async def marquer_lu(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                     message_id: str, *, maintenant: datetime) -> Message:
    """The ARS read an establishment's message (once; again: unchanged)."""
    dossier = await charger(session, principal, dossier_type, dossier_id)
    message: Message = await fil.marquer_lu(session, Message, COTE, principal, dossier, message_id,
                                            maintenant=maintenant)
    return message

"""The ARS side of a dossier's thread (ADR 0015): read by the ARS of the region and the DNS, written
and marked read by the ARS; each message and read receipt is an event candidature copies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal, Role
from hopen_common.contracts import MessageEnvoyeParArs, MessageLuParArs, Topics
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.fil import extrait, verifier_fil_ouvert
from hopen_common.outbox import publier
from hopen_common.problemes import REGLE_METIER, introuvable
from hopen_instruction.dossiers import service as dossiers
from hopen_instruction.dossiers.service import SOURCE
from hopen_instruction.models import Message
from hopen_instruction.projets import service as projets

# The ARS's messages, a project's included, go on the dossier topic: one topic per event type.
TOPIC = Topics.DOSSIER


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
    query = select(Message).where(Message.dossier_type == dossier.dossier_type,
                                  Message.dossier_id == dossier.id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Message.envoye_le, Message.id).limit(limit).offset(offset))
    return list(rows), total


async def envoyer(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                  *, texte: str, maintenant: datetime) -> Message:
    dossier = await charger(session, principal, dossier_type, dossier_id, verrou=True)
    verifier_fil_ouvert(dossier.statut, dossier.id)
    message = Message(id=str(uuid.uuid4()), dossier_type=dossier_type, dossier_id=dossier.id,
                      finess=dossier.finess, region=dossier.region, auteur=principal.subject,
                      auteur_role="ars", texte=texte, pieces=[], envoye_le=maintenant)
    session.add(message)
    evenement = nouvel_evenement(MessageEnvoyeParArs(
        message_id=message.id, dossier_type=dossier_type, dossier_id=dossier.id, finess=dossier.finess,
        region=dossier.region, auteur=principal.subject, auteur_role="ars", texte=texte,
        extrait=extrait(texte), pieces=[], envoye_le=maintenant,
    ), source=SOURCE, subject=f"{dossier_type}/{dossier.id}")
    await publier(session, TOPIC, dossier.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="envoyer_message",
                             objet_type="message", objet_id=message.id,
                             details={"dossier_type": dossier_type, "dossier_id": dossier.id,
                                      "event_id": evenement.id}))
    await session.flush()
    return message


async def marquer_lu(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                     message_id: str, *, maintenant: datetime) -> Message:
    """The ARS read an establishment's message: `lu_le` set once (a second call changes nothing and
    publishes nothing); its own side's messages are not its to mark (422)."""
    dossier = await charger(session, principal, dossier_type, dossier_id)
    message = await session.scalar(select(Message).where(
        Message.id == message_id, Message.dossier_type == dossier_type, Message.dossier_id == dossier.id,
    ).with_for_update())
    if message is None:
        raise introuvable("message", message_id)
    if message.auteur_role != Role.ETABLISSEMENT.value:
        raise REGLE_METIER.erreur("l'accusé de lecture est celui du destinataire : ce message est de l'ARS",
                                  champ="message")
    if message.lu_le is not None:
        return message
    await session.execute(update(Message).where(Message.id == message.id)
                          .values(lu_le=maintenant, lu_par=principal.subject))
    evenement = nouvel_evenement(MessageLuParArs(
        message_id=message.id, dossier_type=dossier_type, dossier_id=dossier.id, finess=dossier.finess,
        region=dossier.region, lu_par=principal.subject, lu_role="ars", lu_le=maintenant,
    ), source=SOURCE, subject=f"{dossier_type}/{dossier.id}")
    await publier(session, TOPIC, dossier.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="lire_message",
                             objet_type="message", objet_id=message.id,
                             details={"dossier_type": dossier_type, "dossier_id": dossier.id,
                                      "event_id": evenement.id}))
    await session.flush()
    await session.refresh(message)
    return message

"""The establishment's side of a dossier's thread (ADR 0015): the owner of a deposited candidature or
project reads it, writes (with pieces of the dossier attached) and marks the ARS's messages read; each
message and read receipt is an event instruction copies."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.candidatures.service import SOURCE
from hopen_candidature.models import Message
from hopen_candidature.pieces import repository
from hopen_candidature.pieces.service import Dossier, dossier_lisible
from hopen_common.auth import Principal, Role
from hopen_common.auth.portee import exiger_portee_etablissement
from hopen_common.contracts import (
    MessageEnvoyeParEtablissement,
    MessageLuParEtablissement,
    PieceJointe,
    Topics,
)
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.fil import extrait, verifier_fil_ouvert
from hopen_common.outbox import publier
from hopen_common.problemes import CANDIDATURE_NON_DEPOSEE, REGLE_METIER, VALIDATION, introuvable


async def charger(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                  *, verrou: bool = False) -> Dossier:
    """The dossier if `principal` is its owner's establishment (a GHT's support, a project's lead);
    anyone else, a project's other participants included: 404."""
    dossier = await dossier_lisible(session, principal, dossier_type, dossier_id, verrou=verrou)
    if principal.role is not Role.ETABLISSEMENT or dossier.finess not in principal.finess:
        raise introuvable(dossier_type, dossier_id)
    return dossier


async def lister(session: AsyncSession, dossier: Dossier, *, limit: int, offset: int
                 ) -> tuple[list[Message], int]:
    query = select(Message).where(Message.dossier_type == dossier.dossier_type,
                                  Message.dossier_id == dossier.id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Message.envoye_le, Message.id).limit(limit).offset(offset))
    return list(rows), total


async def _pieces_jointes(session: AsyncSession, dossier: Dossier, ids: list[str]) -> list[PieceJointe]:
    if len(set(ids)) != len(ids):
        raise VALIDATION.erreur("pièce jointe en double", champ="pieces")
    jointes = []
    for piece_id in ids:
        trouvee = await repository.piece_du_dossier(session, dossier.dossier_type, dossier.id, piece_id)
        if trouvee is None:
            # Only pieces of this dossier: the ARS reads them through its piece endpoints.
            raise VALIDATION.erreur(f"pièce {piece_id} : pas une pièce de ce dossier (déposez-la d'abord sur"
                                    f" /v1/{dossier.dossier_type}s/{dossier.id}/pieces)", champ="pieces")
        p = trouvee[0]
        jointes.append(PieceJointe(piece_id=p.id, type=p.type, nom=p.nom, version=p.version, sha256=p.sha256))
    return jointes


async def envoyer(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                  *, texte: str, pieces: list[str], maintenant: datetime) -> Message:
    dossier = await charger(session, principal, dossier_type, dossier_id, verrou=True)
    exiger_portee_etablissement(principal, dossier.finess)
    if dossier.statut == "brouillon":
        # The ARS knows the dossier from its deposit: before it, there is nobody to write to.
        raise CANDIDATURE_NON_DEPOSEE.erreur(f"le dossier {dossier.id} n'est pas déposé : l'ARS ne le connaît"
                                             " pas encore", champ="statut")
    verifier_fil_ouvert(dossier.statut, dossier.id)
    jointes = await _pieces_jointes(session, dossier, pieces)
    message = Message(id=str(uuid.uuid4()), dossier_type=dossier_type, dossier_id=dossier.id,
                      finess=dossier.finess, region=dossier.region, auteur=principal.subject,
                      auteur_role="etablissement", texte=texte, pieces=[j.model_dump() for j in jointes],
                      envoye_le=maintenant)
    session.add(message)
    evenement = nouvel_evenement(MessageEnvoyeParEtablissement(
        message_id=message.id, dossier_type=dossier_type, dossier_id=dossier.id, finess=dossier.finess,
        region=dossier.region, auteur=principal.subject, auteur_role="etablissement", texte=texte,
        extrait=extrait(texte), pieces=jointes, envoye_le=maintenant,
    ), source=SOURCE, subject=f"{dossier_type}/{dossier.id}")
    await publier(session, Topics.CANDIDATURE, dossier.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="envoyer_message",
                             objet_type="message", objet_id=message.id,
                             details={"dossier_type": dossier_type, "dossier_id": dossier.id,
                                      "pieces": pieces, "event_id": evenement.id}))
    await session.flush()
    return message


async def marquer_lu(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                     message_id: str, *, maintenant: datetime) -> Message:
    """The establishment read an ARS message: `lu_le` set once (again: unchanged, nothing published);
    its own messages are not its to mark (422)."""
    dossier = await charger(session, principal, dossier_type, dossier_id)
    message = await session.scalar(select(Message).where(
        Message.id == message_id, Message.dossier_type == dossier_type, Message.dossier_id == dossier.id,
    ).with_for_update())
    if message is None:
        raise introuvable("message", message_id)
    if message.auteur_role != Role.ARS.value:
        raise REGLE_METIER.erreur("l'accusé de lecture est celui du destinataire : ce message est le vôtre",
                                  champ="message")
    if message.lu_le is not None:
        return message
    await session.execute(update(Message).where(Message.id == message.id)
                          .values(lu_le=maintenant, lu_par=principal.subject))
    evenement = nouvel_evenement(MessageLuParEtablissement(
        message_id=message.id, dossier_type=dossier_type, dossier_id=dossier.id, finess=dossier.finess,
        region=dossier.region, lu_par=principal.subject, lu_role="etablissement", lu_le=maintenant,
    ), source=SOURCE, subject=f"{dossier_type}/{dossier.id}")
    await publier(session, Topics.CANDIDATURE, dossier.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="lire_message",
                             objet_type="message", objet_id=message.id,
                             details={"dossier_type": dossier_type, "dossier_id": dossier.id,
                                      "event_id": evenement.id}))
    await session.flush()
    await session.refresh(message)
    return message

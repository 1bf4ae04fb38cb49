"""The establishment's side of a dossier's thread (ADR 0015): the owner of a deposited candidature or
project reads it, writes (with pieces of the dossier attached) and marks the ARS's messages read; each
message and read receipt is an event instruction copies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.candidatures.service import SOURCE
from hopen_candidature.models import Message
from hopen_candidature.pieces import repository
from hopen_candidature.pieces.service import Dossier, dossier_lisible
from hopen_common import fil
from hopen_common.auth import Principal, Role
from hopen_common.auth.portee import exiger_portee_etablissement
from hopen_common.contracts import (
    MessageEnvoyeParEtablissement,
    MessageLuParEtablissement,
    PieceJointe,
    Topics,
)
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.fil import verifier_fil_ouvert
from hopen_common.problemes import CANDIDATURE_NON_DEPOSEE, VALIDATION, introuvable

COTE = fil.Cote(role="etablissement", envoye=MessageEnvoyeParEtablissement, lu=MessageLuParEtablissement,
                topic=Topics.CANDIDATURE, source=SOURCE)


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
    return await fil.lister(session, Message, dossier, limit=limit, offset=offset)


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
    message: Message = await fil.envoyer(session, Message, COTE, principal, dossier, texte=texte,
                                         pieces=jointes, maintenant=maintenant)
    return message


async def marquer_lu(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                     message_id: str, *, maintenant: datetime) -> Message:
    """The establishment read an ARS message (once; again: unchanged)."""
    dossier = await charger(session, principal, dossier_type, dossier_id)
    message: Message = await fil.marquer_lu(session, Message, COTE, principal, dossier, message_id,
                                            maintenant=maintenant)
    return message

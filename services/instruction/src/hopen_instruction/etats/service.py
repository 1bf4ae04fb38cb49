"""ARS transitions of a dossier (candidature or AAP project): take into instruction, close without a
decision, reopen; each checked against the state machine (rules.py), recorded in the immutable
history, published as a past-tense event and audited, in one transaction (ADR 0013)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal
from hopen_common.contracts import (
    CorrectionDemandee,
    DossierClasseSansSuite,
    DossierPrisEnInstruction,
    DossierRouvert,
    ProjetClasseSansSuite,
    ProjetPrisEnInstruction,
    ProjetRouvert,
    Topics,
)
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_instruction.dossiers import service as dossiers
from hopen_instruction.dossiers.service import SOURCE, verifier_instructeur
from hopen_instruction.etats import rules
from hopen_instruction.etats.repository import enregistrer_transition, historique
from hopen_instruction.etats.rules import Action, TypeDossier
from hopen_instruction.models import Dossier, Projet, TransitionDossier

__all__ = ["charger", "duree", "effectuer", "enregistrer_transition", "historique", "publier_transition"]
from hopen_instruction.projets import service as projets

TOPIC: dict[TypeDossier, Topics] = {"candidature": Topics.DOSSIER, "projet": Topics.PROJET}
Evenements = type[DossierPrisEnInstruction | DossierClasseSansSuite | DossierRouvert | ProjetPrisEnInstruction
                  | ProjetClasseSansSuite | ProjetRouvert]
EVENEMENT_PROJET: dict[str, Evenements] = {
    "prendre_en_instruction": ProjetPrisEnInstruction, "classer_sans_suite": ProjetClasseSansSuite,
    "rouvrir": ProjetRouvert}
EVENEMENT: dict[str, Evenements] = {
    "prendre_en_instruction": DossierPrisEnInstruction, "classer_sans_suite": DossierClasseSansSuite,
             "rouvrir": DossierRouvert}


async def charger(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                  *, verrou: bool = False) -> Dossier | Projet:
    """The candidature's dossier or the AAP project, scoped to the principal's region (404 otherwise)."""
    if dossier_type == "candidature":
        return await dossiers.charger(session, principal, dossier_id, verrou=verrou)
    return await projets.charger(session, principal, dossier_id, verrou=verrou)


def duree(passages: list[TransitionDossier], maintenant: datetime) -> int:
    """Processing time in seconds, without the waits for a correction (rules.duree_instruction)."""
    return int(rules.duree_instruction([rules.Passage(t.vers, t.le) for t in passages], maintenant)
               .total_seconds())


async def publier_transition(session: AsyncSession, principal: Principal, objet: Dossier | Projet,
                             dossier_type: TypeDossier, *, action: str, de: str, vers: str,
                             maintenant: datetime, motivation: str | None,
                             correction: CorrectionDemandee | None = None,
                             details: dict[str, object] | None = None) -> str:
    """State + history + event + audit of one ARS transition, in the caller's transaction.
    `correction`: the CorrectionDemandee to publish (its transition id is filled in here)."""
    transition_id = str(uuid.uuid4())
    objet.statut = vers
    await enregistrer_transition(session, dossier_type, objet.id, de=de, vers=vers, par=principal.subject,
                                 le=maintenant, motivation=motivation, identifiant=transition_id)
    payload: BaseModel
    if correction is None:
        payload = (EVENEMENT if dossier_type == "candidature" else EVENEMENT_PROJET)[action](
            transition_id=transition_id, dossier_type=dossier_type, dossier_id=objet.id, finess=objet.finess,
            region=objet.region, statut_precedent=de, statut=vers, par=principal.subject, le=maintenant,
            motivation=motivation)
    else:
        payload = correction.model_copy(update={"transition_id": transition_id})
    enveloppe = nouvel_evenement(payload, source=SOURCE, subject=f"{dossier_type}/{objet.id}")
    await publier(session, TOPIC[dossier_type], objet.id, enveloppe)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action=action,
                             objet_type=dossier_type, objet_id=objet.id, motivation=motivation,
                             region=objet.region,
                             details={"de": de, "vers": vers, "transition_id": transition_id,
                                      "event_id": enveloppe.id, **(details or {})}))
    await session.flush()
    return transition_id


async def effectuer(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                    action: Action, *, motivation: str | None, maintenant: datetime) -> Dossier | Projet:
    """prendre_en_instruction | classer_sans_suite | rouvrir, by the ARS of the dossier's region."""
    verifier_instructeur(principal)
    objet = await charger(session, principal, dossier_type, dossier_id, verrou=True)
    de = objet.statut
    vers = rules.verifier_transition(dossier_type, objet.id, de, action)
    await publier_transition(session, principal, objet, dossier_type, action=action, de=de, vers=vers,
                             maintenant=maintenant, motivation=motivation)
    return objet

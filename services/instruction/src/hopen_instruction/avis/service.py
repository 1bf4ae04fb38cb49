"""Expert opinions (issue 9 item 7, ADR 0015): the ARS of the region asks an expert (a token subject of
role expert) a question on a dossier; the expert sees only the opinions it is invited to, and through
them only those dossiers, and answers each once. Events go to the instruction-internal topic avis:
candidature never reads them, the establishment never sees an opinion."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal, Role
from hopen_common.auth.portee import exiger_region
from hopen_common.contracts import AvisDemande, AvisRendu, Topics
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.fil import STATUTS_FERMES
from hopen_common.outbox import publier
from hopen_common.problemes import AVIS_DEJA_RENDU, DOSSIER_CLOS, introuvable
from hopen_instruction.avis import rules
from hopen_instruction.avis.schemas import AvisDemandeCorps, ReponseDemande
from hopen_instruction.dossiers.service import SOURCE
from hopen_instruction.messages.service import charger as charger_dossier
from hopen_instruction.models import Avis, ReponseAvis


async def demander(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                   demande: AvisDemandeCorps, *, aujourd_hui: date, maintenant: datetime) -> Avis:
    dossier = await charger_dossier(session, principal, dossier_type, dossier_id)
    if dossier.statut in STATUTS_FERMES:
        raise DOSSIER_CLOS.erreur(f"le dossier {dossier.id} est {dossier.statut} : plus d'avis à demander",
                                  champ="statut")
    rules.verifier_echeance(demande.echeance, aujourd_hui)
    avis = Avis(id=str(uuid.uuid4()), dossier_type=dossier_type, dossier_id=dossier.id, region=dossier.region,
                expert=demande.expert, question=demande.question, echeance=demande.echeance,
                demande_par=principal.subject, demande_le=maintenant)
    session.add(avis)
    evenement = nouvel_evenement(AvisDemande(
        avis_id=avis.id, dossier_type=dossier_type, dossier_id=dossier.id, region=dossier.region,
        expert=avis.expert, question=avis.question, echeance=avis.echeance, demande_par=principal.subject,
        demande_le=maintenant), source=SOURCE, subject=f"{dossier_type}/{dossier.id}")
    await publier(session, Topics.AVIS, dossier.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="demander_avis",
                             objet_type="avis", objet_id=avis.id, region=avis.region,
                             details={"dossier_type": dossier_type, "dossier_id": dossier.id,
                                      "expert": avis.expert, "event_id": evenement.id}))
    await session.flush()
    return avis


async def reponses(session: AsyncSession, ids: list[str]) -> dict[str, ReponseAvis]:
    rows = await session.scalars(select(ReponseAvis).where(ReponseAvis.avis_id.in_(ids)))
    return {r.avis_id: r for r in rows}


async def du_dossier(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str
                     ) -> list[Avis]:
    """Every opinion asked on the dossier: the ARS of its region, the DNS."""
    dossier = await charger_dossier(session, principal, dossier_type, dossier_id)
    rows = await session.scalars(select(Avis).where(Avis.dossier_type == dossier_type,
                                                    Avis.dossier_id == dossier.id)
                                 .order_by(Avis.demande_le, Avis.id))
    return list(rows)


async def de_l_expert(session: AsyncSession, principal: Principal, *, limit: int, offset: int
                      ) -> tuple[list[Avis], int]:
    """The opinions the calling expert is invited to, and no other."""
    query = select(Avis).where(Avis.expert == principal.subject)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Avis.echeance, Avis.id).limit(limit).offset(offset))
    return list(rows), total


async def charger(session: AsyncSession, principal: Principal, avis_id: str, *, verrou: bool = False) -> Avis:
    """The opinion for its expert (only that subject), the ARS of its region, the DNS; anyone else 404."""
    query = select(Avis).where(Avis.id == avis_id)
    if verrou:
        query = query.with_for_update()
    avis = await session.scalar(query)
    if avis is None:
        raise introuvable("avis", avis_id)
    if principal.role is Role.EXPERT:
        if avis.expert != principal.subject:
            raise introuvable("avis", avis_id)
    else:
        exiger_region(principal, avis.region, ressource="avis", identifiant=avis_id)
    return avis


async def repondre(session: AsyncSession, principal: Principal, avis_id: str, demande: ReponseDemande, *,
                   maintenant: datetime) -> tuple[Avis, ReponseAvis]:
    avis = await charger(session, principal, avis_id, verrou=True)  # the lock orders two answers
    if await session.get(ReponseAvis, avis.id) is not None:
        raise AVIS_DEJA_RENDU.erreur(f"l'avis {avis.id} est déjà rendu : il ne se modifie pas",
                                     champ="avis")
    reponse = ReponseAvis(avis_id=avis.id, avis=demande.avis, texte=demande.texte,
                          rendu_par=principal.subject, rendu_le=maintenant)
    session.add(reponse)
    evenement = nouvel_evenement(AvisRendu(
        avis_id=avis.id, dossier_type=avis.dossier_type, dossier_id=avis.dossier_id,
        region=avis.region, expert=avis.expert, avis=demande.avis, rendu_le=maintenant,
    ), source=SOURCE, subject=f"{avis.dossier_type}/{avis.dossier_id}")
    await publier(session, Topics.AVIS, avis.dossier_id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="rendre_avis",
                             objet_type="avis", objet_id=avis.id, region=avis.region,
                             details={"avis": demande.avis, "event_id": evenement.id}))
    await session.flush()
    return avis, reponse

"""Assignment of a dossier or project to an agent of its region (issue 9 item 7, ADR 0015). Until the
agents' rights tables (issue 10), an agent is the token subject of an ARS of the region: the ARS names
it, nothing checks it further. Every change is a row of the immutable history and an audit row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db.messaging import JournalAudit
from hopen_instruction.messages.service import charger
from hopen_instruction.models import Affectation, Dossier, Projet

TABLE: dict[str, type[Dossier] | type[Projet]] = {"candidature": Dossier, "projet": Projet}


async def affecter(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                   agent: str | None, *, maintenant: datetime) -> Affectation | None:
    """Assigns (or with None unassigns). The same agent again writes nothing and returns None."""
    dossier = await charger(session, principal, dossier_type, dossier_id, verrou=True)
    table = TABLE[dossier_type]
    precedent = await session.scalar(select(table.affecte_a).where(table.id == dossier.id))
    if precedent == agent:
        return None
    await session.execute(update(table).where(table.id == dossier.id).values(affecte_a=agent))
    ligne = Affectation(dossier_type=dossier_type, dossier_id=dossier.id, agent=agent, precedent=precedent,
                        par=principal.subject, le=maintenant)
    session.add(ligne)
    action = "desaffecter" if agent is None else ("affecter" if precedent is None else "reaffecter")
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action=action,
                             objet_type=dossier_type, objet_id=dossier.id, region=dossier.region,
                             details={"agent": agent, "precedent": precedent}))
    await session.flush()
    return ligne


async def historique(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str
                     ) -> tuple[str | None, list[Affectation]]:
    dossier = await charger(session, principal, dossier_type, dossier_id)
    table = TABLE[dossier_type]
    courant = await session.scalar(select(table.affecte_a).where(table.id == dossier.id))
    rows = await session.scalars(select(Affectation).where(
        Affectation.dossier_type == dossier_type, Affectation.dossier_id == dossier.id)
        .order_by(Affectation.le, Affectation.id))
    return courant, list(rows)

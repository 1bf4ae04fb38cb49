from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hopen_financement.etablissements.repository import raisons_sociales
from hopen_financement.exports.rules import Circulaire, Source, construire
from hopen_financement.notifications.models import LigneFinancement, Notification
from hopen_financement.notifications.service import non_remplacees


async def circulaire(session: AsyncSession, region: str | None) -> Circulaire:
    """The circular of one region (None: national) from the current (non-superseded) lines."""
    query = (select(LigneFinancement).join(Notification, Notification.id == LigneFinancement.notification_id)
             .where(non_remplacees()))
    if region is not None:
        query = query.where(LigneFinancement.region == region)
    lignes = list(await session.scalars(query.order_by(LigneFinancement.id)))
    sources = [Source(li.region, li.finess, li.dispositif, li.objectif, li.nature, li.montant)
               for li in lignes]
    # Planned solde: phase-1 amorcage lines whose (candidature, EJ, objective) has no solde/reprise yet.
    solde = aliased(LigneFinancement)
    attente = (select(LigneFinancement).outerjoin(solde, and_(
        solde.candidature_id == LigneFinancement.candidature_id,
        solde.finess_ej == LigneFinancement.finess_ej, solde.objectif == LigneFinancement.objectif,
        solde.nature.in_(("solde", "reprise"))))
        .where(LigneFinancement.nature == "amorcage", solde.id.is_(None)))
    if region is not None:
        attente = attente.where(LigneFinancement.region == region)
    for li in await session.scalars(attente):
        sources.append(Source(li.region, li.finess, li.dispositif, li.objectif, "solde_prevu",
                              li.forfait - li.montant))
    noms = await raisons_sociales(session, {s.finess for s in sources})
    return construire(sources, noms, "TOTAL NATIONAL" if region is None else f"TOTAL région {region}")

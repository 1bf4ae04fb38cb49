"""Every query on AAP projects."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_financement.aap.models import AtteinteProjetAap, DecisionProjetAapRecue, ProjetAap


async def projets(session: AsyncSession, *, finess: str | None,
                  region: str | None) -> list[tuple[ProjetAap, bool | None]]:
    """Projects, each with its 2027 attainment decision (None: not decided yet)."""
    query = select(ProjetAap, AtteinteProjetAap.atteint).outerjoin(
        AtteinteProjetAap, AtteinteProjetAap.projet_id == ProjetAap.projet_id)
    if finess:
        query = query.where(ProjetAap.finess == finess)
    if region:
        query = query.where(ProjetAap.region == region)
    rows = await session.execute(query.order_by(ProjetAap.decide_le, ProjetAap.projet_id))
    return [(p, a) for p, a in rows.all()]


async def decisions_courantes(session: AsyncSession, projet_ids: list[str]
                              ) -> dict[tuple[str, str], DecisionProjetAapRecue]:
    """The current decision (the one no other replaces) per (project, selection | atteinte)."""
    if not projet_ids:
        return {}
    remplacees = select(DecisionProjetAapRecue.remplace).where(DecisionProjetAapRecue.remplace.is_not(None))
    rows = await session.scalars(select(DecisionProjetAapRecue).where(
        DecisionProjetAapRecue.projet_id.in_(projet_ids),
        DecisionProjetAapRecue.decision_id.not_in(remplacees.scalar_subquery())))
    return {(d.projet_id, d.objet): d for d in rows}

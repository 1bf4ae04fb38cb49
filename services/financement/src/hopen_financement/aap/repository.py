"""Every query on AAP projects."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_financement.aap.models import AtteinteProjetAap, ProjetAap


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

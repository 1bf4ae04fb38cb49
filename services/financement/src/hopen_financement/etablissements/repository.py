from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import EtablissementPublie
from hopen_common.db.copie_locale import tenir_copie_locale
from hopen_financement.etablissements.models import EtablissementConnu


async def enregistrer(session: AsyncSession, e: EtablissementPublie, *, instantane_le: datetime) -> None:
    await tenir_copie_locale(session, EtablissementConnu, e, instantane_le=instantane_le)


async def activite_combinee_max_nationale(session: AsyncSession) -> Decimal | None:
    """The largest AC of the eligible base (domain.md 3.4 [reading]): tranche D's upper bound."""
    return await session.scalar(
        select(func.max(EtablissementConnu.activite_combinee)).where(
            EtablissementConnu.eligible_phase1.is_(True))
    )


async def raisons_sociales(session: AsyncSession, finess: set[str]) -> dict[str, str]:
    if not finess:
        return {}
    rows = await session.execute(select(EtablissementConnu.finess, EtablissementConnu.raison_sociale)
                                 .where(EtablissementConnu.finess.in_(finess)))
    return dict(rows.all())

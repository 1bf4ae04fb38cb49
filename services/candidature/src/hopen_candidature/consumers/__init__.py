"""Events the candidature service consumes: the referentiel's establishments (local copy)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.models import EtablissementConnu
from hopen_common.contracts import EtablissementPublie, Topics
from hopen_common.events import Evenement
from hopen_common.inbox import Handler


async def etablissement_publie(session: AsyncSession, _: Evenement, e: EtablissementPublie) -> None:
    valeurs = e.model_dump(include=set(EtablissementConnu.__table__.columns.keys()))
    await session.execute(
        insert(EtablissementConnu).values(**valeurs)
        .on_conflict_do_update(index_elements=["finess"], set_=valeurs)
    )


HANDLERS: dict[str, Handler] = {"EtablissementPublie": etablissement_publie}
TOPICS = [Topics.ETABLISSEMENT]

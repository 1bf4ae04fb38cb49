"""Events the financement service consumes: establishments (AC) and ARS decisions."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import EtablissementPublie, Topics
from hopen_common.events import Evenement
from hopen_common.inbox import Handler
from hopen_financement.financements.service import sur_candidature_validee, sur_objectif_decide
from hopen_financement.models import EtablissementConnu


async def etablissement_publie(session: AsyncSession, _: Evenement, e: EtablissementPublie) -> None:
    valeurs = e.model_dump(include=set(EtablissementConnu.__table__.columns.keys()))
    await session.execute(
        insert(EtablissementConnu).values(**valeurs)
        .on_conflict_do_update(index_elements=["finess"], set_=valeurs)
    )


HANDLERS: dict[str, Handler] = {
    "EtablissementPublie": etablissement_publie,
    "CandidatureValidee": sur_candidature_validee,
    "ObjectifAtteint": sur_objectif_decide,
    "ObjectifNonAtteint": sur_objectif_decide,
}
TOPICS = [Topics.ETABLISSEMENT, Topics.DOSSIER]

"""Events the instruction service consumes: deposited candidatures and their evidence."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import CandidatureDeposee, IndicateurDepose, Topics
from hopen_common.events import Evenement
from hopen_common.inbox import Handler
from hopen_instruction.models import Dossier, IndicateurRecu


async def candidature_deposee(session: AsyncSession, _: Evenement, e: CandidatureDeposee) -> None:
    await session.execute(insert(Dossier).values(
        id=e.candidature_id, dispositif=e.dispositif, finess=e.finess,
        raison_sociale=e.raison_sociale, region=e.region, objectifs=e.objectifs,
        domaines_sun_es=e.domaines_sun_es, statut="a_instruire", deposee_le=e.deposee_le,
        perimetre=None if e.perimetre is None else [m.model_dump(mode="json") for m in e.perimetre],
    ).on_conflict_do_nothing(index_elements=["id"]))


async def indicateur_depose(session: AsyncSession, evenement: Evenement, e: IndicateurDepose) -> None:
    if await session.get(Dossier, e.candidature_id) is None:
        # Same key, same partition: the deposit always precedes its evidence. Failing here
        # means an ordering bug, which must be parked for an operator, not silently dropped.
        raise LookupError(f"dossier {e.candidature_id} inconnu")
    await session.execute(insert(IndicateurRecu).values(
        dossier_id=e.candidature_id, finess_ej=e.finess_ej or e.finess, objectif=e.objectif,
        indicateur=e.indicateur,
        numerateur=e.numerateur, denominateur=e.denominateur, depose_le=e.depose_le,
        event_id=evenement.id,
    ).on_conflict_do_nothing(index_elements=["event_id"]))


HANDLERS: dict[str, Handler] = {
    "CandidatureDeposee": candidature_deposee,
    "IndicateurDepose": indicateur_depose,
}
TOPICS = [Topics.CANDIDATURE]

"""Events the candidature service consumes: the referentiel's establishments (local copy) and the
ARS validations of HospiConnect candidatures (what the AAP themes other than rattrapage require)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.models import EtablissementConnu, HospiconnectValide
from hopen_common.contracts import CandidatureValidee, EtablissementPublie, Topics
from hopen_common.events import Evenement
from hopen_common.inbox import Handler


async def etablissement_publie(session: AsyncSession, _: Evenement, e: EtablissementPublie) -> None:
    valeurs = e.model_dump(include=set(EtablissementConnu.__table__.columns.keys()))
    await session.execute(
        insert(EtablissementConnu).values(**valeurs)
        .on_conflict_do_update(index_elements=["finess"], set_=valeurs)
    )


async def candidature_validee(session: AsyncSession, _: Evenement, e: CandidatureValidee) -> None:
    if e.dispositif != "hospiconnect":
        return  # phase 1 validations say nothing of the AAP conditions
    couverts = [e.finess] if e.perimetre is None else [m.finess_ej for m in e.perimetre]
    await session.execute(insert(HospiconnectValide).values([
        {"finess_ej": f, "candidature_id": e.candidature_id, "decision_id": e.decision_id,
         "valide_le": e.decide_le} for f in couverts
    ]).on_conflict_do_nothing())


HANDLERS: dict[str, Handler] = {
    "EtablissementPublie": etablissement_publie,
    "CandidatureValidee": candidature_validee,
}
TOPICS = [Topics.ETABLISSEMENT, Topics.DOSSIER]

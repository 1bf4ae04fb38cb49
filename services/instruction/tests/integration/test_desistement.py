"""A withdrawn candidature (CandidatureDesistee) through instruction's own consumer on the real Kafka
broker and its real database, then its API: the dossier is marked withdrawn, DesistementEnregistre is
published in the same transaction and every ARS decision on it answers 409; a withdrawal that arrives
after the ARS decided leaves the decision as it is and is answered DesistementRefuse naming it (the
two-phase withdrawal of ADR 0010). Redelivered withdrawals answer nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from hopen_common.contracts import CandidatureDeposee, CandidatureDesistee, Topics
from hopen_common.db.messaging import DeadLetter, JournalAudit, OutboxMessage
from hopen_common.events import Evenement, nouvel_evenement
from hopen_common.testing import jeton
from hopen_common.testing.api import client_api, reglages_de_test
from hopen_common.testing.bus import Bus, bus_de_test
from hopen_common.testing.quatre_yeux import decider_a_deux
from hopen_instruction.consumers import HANDLERS
from hopen_instruction.main import create_app
from hopen_instruction.models import Decision, Dossier
from hopen_instruction.settings import InstructionSettings

MAINTENANT = datetime(2024, 9, 1, tzinfo=UTC)
CORSE = jeton("ars", region="94")


@pytest.fixture
async def base(fresh_database: Callable[[str], str]) -> str:
    return fresh_database("instruction")


@pytest.fixture
async def bus(base: str, kafka_bootstrap: str) -> AsyncIterator[Bus]:
    async with bus_de_test(nom="instruction", handlers=HANDLERS, database_url=base,
                           kafka_bootstrap=kafka_bootstrap, sujets=("candidature",)) as b:
        yield b


def _deposee(cid: str) -> Evenement:
    return nouvel_evenement(CandidatureDeposee(
        candidature_id=cid, dispositif="phase1", finess="2A0002606", raison_sociale="CH", region="94",
        objectifs=["P1.O1"], domaines_sun_es=[], deposee_le=MAINTENANT, deposee_par="es"),
        source="/test", subject=f"candidature/{cid}")


def _desistee(cid: str) -> Evenement:
    return nouvel_evenement(CandidatureDesistee(
        candidature_id=cid, dispositif="phase1", finess="2A0002606", region="94", motivation="reporté",
        desistee_le=MAINTENANT, desistee_par="es"), source="/test", subject=f"candidature/{cid}")


async def _reponses(s, cid: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    """The answers to withdrawals instruction wrote for the candidature (its outbox)."""
    return list(await s.scalars(select(OutboxMessage.envelope).where(
        OutboxMessage.key == cid, OutboxMessage.topic == Topics.DOSSIER.value,
        OutboxMessage.envelope["type"].astext.in_(("DesistementEnregistre", "DesistementRefuse")))
        .order_by(OutboxMessage.id)))


async def test_dossier_retire(bus: Bus, base: str, kafka_bootstrap: str) -> None:
    for cid in ("retire", "decide"):
        await bus.publier("candidature", cid, _deposee(cid))
    retrait = _desistee("retire")
    await bus.publier("candidature", "retire", retrait)
    await bus.publier("candidature", "inconnu", _desistee("inconnu"))

    async def retire(s):  # type: ignore[no-untyped-def]
        dossier = await s.get(Dossier, "retire")
        parque = (await s.scalars(select(DeadLetter).where(DeadLetter.key == "inconnu"))).first()
        return dossier is not None and dossier.statut == "desistee" and parque is not None
    # A withdrawal of a dossier never deposited here is an ordering bug: parked, not dropped.
    await bus.attendre(retire, quoi="dossier withdrawn, unknown one parked")
    async with bus.sessions() as s:
        (enregistre,) = await _reponses(s, "retire")
        audit = (await s.execute(select(JournalAudit.acteur, JournalAudit.action, JournalAudit.motivation)
                                 .where(JournalAudit.objet_id == "retire"))).one()
    assert enregistre["type"] == "DesistementEnregistre"
    assert enregistre["dataschema"] == "DesistementEnregistre/v1"
    assert enregistre["causationid"] == retrait.id
    assert enregistre["data"] | {"enregistre_le": None} == {
        "candidature_id": "retire", "dispositif": "phase1", "finess": "2A0002606", "region": "94",
        "desistement_event_id": retrait.id, "enregistre_le": None}
    assert tuple(audit) == ("es", "desistement_enregistre", "reporté")

    engine = create_async_engine(base)
    try:
        reglages = reglages_de_test(InstructionSettings, engine, kafka_bootstrap, calendrier_ouvert=True)
        async with client_api(create_app(reglages), "http://instruction") as api:
            decision = {"decision": "validee", "motivation": "dossier complet"}
            r = await decider_a_deux(api, "/v1/dossiers/retire/decision", headers=CORSE, json=decision)
            assert r.status_code == 409, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"].endswith("/candidature-desistee")
            r = await decider_a_deux(api, "/v1/dossiers/retire/objectifs/P1.O1/decision", headers=CORSE,
                               json={"decision": "non_atteint", "motivation": "retirée"})
            assert r.status_code == 409, r.text

            # The ARS decides a dossier whose withdrawal is on its way (still deposee here): the
            # decision is taken, and the withdrawal that follows leaves it standing.
            r = await decider_a_deux(api, "/v1/dossiers/decide/decision", headers=CORSE, json=decision)
            assert r.status_code == 201, r.text
            decision_id = r.json()["id"]
            tardif = _desistee("decide")
            await bus.publier("candidature", "decide", tardif)
            total = len(bus.publies)

            async def lu(_):  # type: ignore[no-untyped-def]
                return bus.consumer.processed >= total - 1  # the unknown one was parked, not processed
            await bus.attendre(lu, quoi="late withdrawal consumed")
            async with bus.sessions() as s:
                dossier = await s.get(Dossier, "decide")
                assert dossier is not None
                assert dossier.statut == "validee"
                (refuse,) = await _reponses(s, "decide")
                decide_le = await s.scalar(select(Decision.decide_le).where(Decision.id == decision_id))
            assert refuse["type"] == "DesistementRefuse"
            assert refuse["dataschema"] == "DesistementRefuse/v1"
            assert decide_le is not None
            assert datetime.fromisoformat(refuse["data"]["decide_le"]) == decide_le
            assert refuse["data"] | {"decide_le": None} == {
                "candidature_id": "decide", "dispositif": "phase1", "finess": "2A0002606", "region": "94",
                "desistement_event_id": tardif.id, "decision_id": decision_id, "statut": "validee",
                "decide_le": None}

        # Redelivered withdrawals (the inbox): no second answer, no second audit row, statuses kept.
        await bus.republier_tout()

        async def rejoue(_):  # type: ignore[no-untyped-def]
            return bus.consumer.processed >= 2 * (total - 1)
        await bus.attendre(rejoue, quoi="redeliveries consumed")
        async with bus.sessions() as s:
            assert len(await _reponses(s, "retire")) == 1
            assert len(await _reponses(s, "decide")) == 1
            audits = await s.scalar(select(func.count()).select_from(JournalAudit).where(
                JournalAudit.action.in_(("desistement_enregistre", "desistement_refuse"))))
            assert audits == 2
            assert [d.statut for d in await s.scalars(select(Dossier).order_by(Dossier.id))] == [
                "validee", "desistee"]
    finally:
        await engine.dispose()

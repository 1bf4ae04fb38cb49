"""A withdrawn candidature (CandidatureDesistee) through instruction's own consumer on the real Kafka
broker and its real database, then its API: the dossier is marked withdrawn and every ARS decision on
it answers 409; a withdrawal that arrives after the ARS decided leaves the decision as it is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from hopen_common.contracts import CandidatureDeposee, CandidatureDesistee
from hopen_common.db.messaging import DeadLetter
from hopen_common.events import Evenement, nouvel_evenement
from hopen_common.testing import jeton
from hopen_common.testing.api import client_api, reglages_de_test
from hopen_common.testing.bus import Bus, bus_de_test
from hopen_instruction.consumers import HANDLERS
from hopen_instruction.main import create_app
from hopen_instruction.models import Dossier
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


async def test_dossier_retire(bus: Bus, base: str, kafka_bootstrap: str) -> None:
    for cid in ("retire", "decide"):
        await bus.publier("candidature", cid, _deposee(cid))
    await bus.publier("candidature", "retire", _desistee("retire"))
    await bus.publier("candidature", "inconnu", _desistee("inconnu"))

    async def retire(s):  # type: ignore[no-untyped-def]
        dossier = await s.get(Dossier, "retire")
        parque = (await s.scalars(select(DeadLetter).where(DeadLetter.key == "inconnu"))).first()
        return dossier is not None and dossier.statut == "desistee" and parque is not None
    # A withdrawal of a dossier never deposited here is an ordering bug: parked, not dropped.
    await bus.attendre(retire, quoi="dossier withdrawn, unknown one parked")

    engine = create_async_engine(base)
    try:
        reglages = reglages_de_test(InstructionSettings, engine, kafka_bootstrap, calendrier_ouvert=True)
        async with client_api(create_app(reglages), "http://instruction") as api:
            decision = {"decision": "validee", "motivation": "dossier complet"}
            r = await api.post("/v1/dossiers/retire/decision", headers=CORSE, json=decision)
            assert r.status_code == 409, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"].endswith("/candidature-desistee")
            r = await api.post("/v1/dossiers/retire/objectifs/P1.O1/decision", headers=CORSE,
                               json={"decision": "non_atteint", "motivation": "retirée"})
            assert r.status_code == 409, r.text

            # The ARS decided first: the withdrawal that follows leaves its decision standing.
            r = await api.post("/v1/dossiers/decide/decision", headers=CORSE, json=decision)
            assert r.status_code == 201, r.text
            await bus.publier("candidature", "decide", _desistee("decide"))
            total = len(bus.publies)

            async def lu(_):  # type: ignore[no-untyped-def]
                return bus.consumer.processed >= total - 1  # the unknown one was parked, not processed
            await bus.attendre(lu, quoi="late withdrawal consumed")
            async with bus.sessions() as s:
                dossier = await s.get(Dossier, "decide")
                assert dossier is not None
                assert dossier.statut == "validee"
    finally:
        await engine.dispose()

"""Deadlines on the real database: the reminder scheduler sends each reminder once even with two
replicas running at the same time, and the "today" of the settings moves time; the ARS's late /
due-soon views of the dossiers; the objectives left undecided after the end of instruction (an ARS
its region, the DNS every region)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_common.db.messaging import OutboxMessage
from hopen_common.db.session import build_sessionmaker
from hopen_common.testing import jeton
from hopen_common.testing.api import client_api, reglages_de_test
from hopen_instruction.echeances.service import planificateur
from hopen_instruction.main import create_app
from hopen_instruction.models import Courriel, Decision, Dossier, Projet, RappelEmis
from hopen_instruction.settings import InstructionSettings

BFC, ARA = "27", "84"
FIN_P1 = date(2024, 11, 8)  # phase1_v2024.2.json: fin_instruction


def _dossier(did: str, region: str, statut: str, dispositif: str = "phase1",
             objectifs: tuple[str, ...] = ("P1.O1", "P1.O2")) -> dict[str, Any]:
    return {"id": did, "dispositif": dispositif, "finess": f"{did[-1]}10000000"[:9], "raison_sociale": did,
            "region": region, "objectifs": list(objectifs), "domaines_sun_es": [], "perimetre": None,
            "statut": statut, "deposee_le": datetime(2024, 9, 1, tzinfo=UTC), "criteres_ght": None}


DOSSIERS = [
    _dossier("d-bfc-1", BFC, "deposee"),
    _dossier("d-bfc-2", BFC, "deposee"),
    _dossier("d-ara-1", ARA, "deposee"),
    _dossier("d-bfc-valide", BFC, "validee"),
    _dossier("d-ara-valide", ARA, "validee", objectifs=("P1.O1",)),
]


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("instruction"))
    async with engine.begin() as conn:
        await conn.execute(insert(Dossier), DOSSIERS)
        await conn.execute(insert(Decision), [{
            "id": "dec-1", "dossier_id": "d-bfc-valide", "objet": "P1.O1", "finess_ej": None,
            "decision": "atteint", "motivation": "ok", "decide_par": "ars", "decide_le": datetime.now(UTC),
            "elements": {}, "remplace": None}])
        await conn.execute(insert(Projet), [{
            "id": "p-selectionne", "finess": "210012142", "raison_sociale": "CH", "region": BFC,
            "theme": "t", "titre": "t", "description": "d", "objectifs": ["o1"],
            "participants": ["210012142"],
            "perimetre": [], "equipe": [], "lettres_partenaires": [], "sans_versement_usage": None,
            "depenses_prevues": Decimal("10.00"), "statut": "selectionne",
            "deposee_le": datetime(2026, 5, 1, tzinfo=UTC), "participants_publics_ght": None}])
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
def reglages(moteur: AsyncEngine, kafka_bootstrap: str) -> InstructionSettings:
    return reglages_de_test(InstructionSettings, moteur, kafka_bootstrap,
                            courriels_ars={BFC: "ars-bfc-instruction@ars.sante.fr"})


@pytest.fixture(scope="module")
async def api(reglages: InstructionSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with client_api(create_app(reglages), "http://instruction") as client:
        yield client


async def _compter(moteur: AsyncEngine) -> tuple[int, int, int]:
    async with moteur.connect() as conn:
        rappels = await conn.scalar(select(func.count()).select_from(RappelEmis))
        evenements = await conn.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.envelope["type"].astext == "RappelEcheanceEmis"))
        courriels = await conn.scalar(select(func.count()).select_from(Courriel))
    return rappels or 0, evenements or 0, courriels or 0


async def test_deux_planificateurs_un_seul_rappel(moteur: AsyncEngine, reglages: InstructionSettings) -> None:
    sessions = build_sessionmaker(moteur)
    reglages.date_du_jour = date(2024, 11, 1)  # J-7 of the phase-1 end of instruction
    a, b = planificateur(sessions, reglages), planificateur(sessions, reglages)
    resultats = await asyncio.gather(a.passage(), b.passage())
    # One reminder per region with dossiers still to decide (BFC, ARA): whoever took the lock sent them.
    assert sorted(r.rappel_id for lot in resultats for r in lot) == [
        "phase1.fin_instruction|ars:27|J-7", "phase1.fin_instruction|ars:84|J-7"]
    assert await _compter(moteur) == (2, 2, 2)
    # Without the advisory lock, at the same time, again and again: the unique key alone holds.
    for _ in range(3):
        await asyncio.gather(a.passage(verrou=False), b.passage(verrou=False))
    assert await _compter(moteur) == (2, 2, 2)
    bfc = next(r for lot in resultats for r in lot if r.region == BFC)
    assert bfc.dossiers == ["d-bfc-1", "d-bfc-2"]
    assert bfc.destinataire == "ars"
    async with moteur.connect() as conn:
        destinataires = set(await conn.scalars(select(Courriel.destinataire)))
        corps = await conn.scalar(select(Courriel.corps).where(Courriel.destinataire.like("ars-bfc%")))
    assert destinataires == {"ars-bfc-instruction@ars.sante.fr", "ars-84@hopen.localhost"}
    assert corps is not None
    assert "8 novembre 2024" in corps
    assert "d-bfc-1" in corps

    # J-1: a new reminder each; a day later (past the deadline) nothing more.
    reglages.date_du_jour = date(2024, 11, 7)
    await asyncio.gather(a.passage(verrou=False), b.passage(verrou=False))
    assert await _compter(moteur) == (4, 4, 4)
    reglages.date_du_jour = date(2024, 11, 9)
    assert await a.passage() == []


async def test_rappel_etablissement_preuves_aap(moteur: AsyncEngine, reglages: InstructionSettings) -> None:
    reglages.date_du_jour = date(2027, 6, 29)  # J-1 of the AAP evidence deadline (30 June 2027)
    emis = await planificateur(build_sessionmaker(moteur), reglages).passage()
    assert [(r.rappel_id, r.finess, r.dossiers) for r in emis] == [
        ("aap.fin_depot_preuves|etablissement:210012142|J-1", "210012142", ["p-selectionne"])]


async def test_vues_en_retard_et_proche(api: httpx.AsyncClient, reglages: InstructionSettings) -> None:
    ars = jeton("ars", region=BFC)
    reglages.date_du_jour = date(2024, 11, 9)
    r = await api.get("/v1/dossiers?echeance=en_retard", headers=ars)
    assert r.status_code == 200, r.text
    assert [d["id"] for d in r.json()["items"]] == ["d-bfc-1", "d-bfc-2"]
    assert r.json()["total"] == 2
    assert (await api.get("/v1/dossiers?echeance=proche", headers=ars)).json()["total"] == 0
    r = await api.get("/v1/dossiers?echeance=en_retard", headers=jeton("dns"))
    assert r.json()["total"] == 3
    reglages.date_du_jour = date(2024, 11, 3)
    assert (await api.get("/v1/dossiers?echeance=proche", headers=ars)).json()["total"] == 2
    assert (await api.get("/v1/dossiers?echeance=en_retard", headers=ars)).json()["total"] == 0
    reglages.date_du_jour = date(2024, 10, 1)
    assert (await api.get("/v1/dossiers?echeance=proche", headers=ars)).json()["total"] == 0
    assert (await api.get("/v1/dossiers", headers=ars)).json()["total"] == 3  # no filter: as before
    mauvais = await api.get("/v1/dossiers?echeance=demain", headers=ars)
    assert mauvais.status_code in (400, 422)
    assert "echeance" in mauvais.text


async def test_objectifs_non_decides(api: httpx.AsyncClient, reglages: InstructionSettings) -> None:
    reglages.date_du_jour = FIN_P1  # the last day of instruction: not yet "left undecided"
    assert (await api.get("/v1/objectifs/non-decides", headers=jeton("dns"))).json()["total"] == 0
    reglages.date_du_jour = date(2024, 11, 9)
    r = await api.get("/v1/objectifs/non-decides", headers=jeton("ars", region=BFC))
    assert r.status_code == 200, r.text
    corps = r.json()
    assert [(o["dossier_id"], o["objectif"]) for o in corps["items"]] == [("d-bfc-valide", "P1.O2")]
    assert corps["par_region"] == {BFC: 1}
    r = await api.get("/v1/objectifs/non-decides", headers=jeton("dns"))
    assert r.json()["par_region"] == {BFC: 1, ARA: 1}
    assert r.json()["total"] == 2
    assert (await api.get("/v1/objectifs/non-decides",
                          headers=jeton("etablissement", finess=["210012142"]))).status_code == 403

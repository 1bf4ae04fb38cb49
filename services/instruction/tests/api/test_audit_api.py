"""`GET /v1/audit` (ADR 0024) on instruction's real database and broker: the audit rows of a decision
carry its dossier's region, so the ARS of that region reads them and another region's ARS does not;
the filters (objet, type, region), the DNS against the ARS, the pagination in chain order; and
`hopen audit verifier --api` against the service served by uvicorn on a real port, which says OK,
then names the row a superuser altered behind the immutability trigger's back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from typer.testing import CliRunner

from hopen_common import audit
from hopen_common.cli import app as cli
from hopen_common.testing import jeton
from hopen_common.testing.api import reglages_de_test, servi
from hopen_common.testing.quatre_yeux import decider_a_deux
from hopen_instruction.main import create_app
from hopen_instruction.models import Dossier
from hopen_instruction.settings import InstructionSettings

BFC, CORSE = "27", "94"
ARS_BFC = jeton("ars", region=BFC, sujet="alice")
ARS_CORSE = jeton("ars", region=CORSE, sujet="corinne")
DNS = jeton("dns")
ES = jeton("etablissement", finess=["010000024"])
VALIDATION = {"decision": "validee", "motivation": "dossier complet"}


def _dossier(did: str, finess: str, region: str) -> dict[str, Any]:
    return {"id": did, "dispositif": "phase1", "finess": finess, "raison_sociale": "CH", "region": region,
            "objectifs": ["P1.O1"], "domaines_sun_es": [], "perimetre": None, "statut": "deposee",
            "deposee_le": datetime(2025, 3, 1, tzinfo=UTC), "criteres_ght": None}


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("instruction"))
    async with engine.begin() as conn:
        await conn.execute(insert(Dossier), [_dossier("a-bfc-1", "010000024", BFC),
                                             _dossier("a-bfc-2", "750000010", BFC),
                                             _dossier("a-corse-1", "2A0002606", CORSE)])
    yield engine
    await engine.dispose()


def _items(r: httpx.Response) -> list[dict[str, Any]]:
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_ars_lit_l_audit_des_decisions_de_sa_region_seulement(api: httpx.AsyncClient) -> None:
    r = await decider_a_deux(api, "/v1/dossiers/a-bfc-1/decision", headers=ARS_BFC, json=VALIDATION)
    assert r.status_code == 201, r.text
    pid = r.headers["X-Proposition-Id"]

    lignes = _items(await api.get("/v1/audit", params={"objet": "a-bfc-1"}, headers=ARS_BFC))
    assert [(x["action"], x["objet_type"], x["region"], x["acteur"]) for x in lignes] == [
        ("candidature_validee", "candidature", BFC, "valideur-27")]
    assert lignes[0]["details"]["decision_id"] == r.json()["id"]
    # The proposal and its confirmation (the two persons) are the region's too.
    propositions = _items(await api.get("/v1/audit", params={"objet": pid}, headers=ARS_BFC))
    assert [(x["action"], x["region"]) for x in propositions] == [
        ("proposition_deposee", BFC), ("proposition_confirmee", BFC)]

    # Another region's ARS: none of them, whichever way it asks.
    for params in ({"objet": "a-bfc-1"}, {"objet": pid}, {}):
        autre = await api.get("/v1/audit", params=params, headers=ARS_CORSE)
        assert _items(autre) == [], params
        assert autre.json()["total"] == 0, params
    refus = await api.get("/v1/audit", params={"region": BFC}, headers=ARS_CORSE)
    assert refus.status_code == 403, refus.text
    # The DNS reads them all.
    assert len(_items(await api.get("/v1/audit", params={"objet": "a-bfc-1"}, headers=DNS))) == 1


async def test_filtres_portee_et_pagination(api: httpx.AsyncClient) -> None:
    for did, qui in (("a-bfc-2", ARS_BFC), ("a-corse-1", ARS_CORSE)):
        r = await decider_a_deux(api, f"/v1/dossiers/{did}/decision", headers=qui, json=VALIDATION)
        assert r.status_code == 201, r.text

    tout = _items(await api.get("/v1/audit", params={"limit": 500}, headers=DNS))
    sequences = [x["sequence"] for x in tout]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == len(sequences)
    regions = {x["region"] for x in tout}
    assert {BFC, CORSE} <= regions

    bfc = await api.get("/v1/audit", params={"limit": 500}, headers=ARS_BFC)
    assert {x["region"] for x in _items(bfc)} == {BFC}
    assert bfc.json()["total"] == sum(1 for x in tout if x["region"] == BFC)
    # The DNS filters by region; the ARS naming its own region gets the same as without it.
    assert _items(await api.get("/v1/audit", params={"region": CORSE, "limit": 500}, headers=DNS)) == [
        x for x in tout if x["region"] == CORSE]
    assert _items(await api.get("/v1/audit", params={"region": BFC, "limit": 500}, headers=ARS_BFC)) == \
        _items(bfc)

    decisions = _items(await api.get("/v1/audit", params={"type": "candidature", "limit": 500}, headers=DNS))
    assert {(x["objet_id"], x["action"]) for x in decisions} >= {
        ("a-bfc-2", "candidature_validee"), ("a-corse-1", "candidature_validee")}
    assert {x["objet_type"] for x in decisions} == {"candidature"}
    une = _items(await api.get("/v1/audit", params={"type": "candidature", "objet": "a-corse-1"},
                               headers=DNS))
    assert [(x["objet_id"], x["region"]) for x in une] == [("a-corse-1", CORSE)]

    # Pages of 2 in chain order put together are the whole journal; each page says the total.
    pages: list[dict[str, Any]] = []
    for offset in range(0, len(tout), 2):
        page = await api.get("/v1/audit", params={"limit": 2, "offset": offset}, headers=DNS)
        assert (page.json()["total"], page.json()["limit"], page.json()["offset"]) == (len(tout), 2, offset)
        pages += _items(page)
    assert pages == tout
    # What the verifier needs is there: each row recomputes to its hash.
    assert all(audit.hash_ligne({**x, "details": x["details_canonique"], "horodatage": x["horodatage_us"]})
               == x["hash"] for x in tout)

    for qui in (ES, jeton("expert", sujet="expert-1")):
        assert (await api.get("/v1/audit", headers=qui)).status_code == 403
    assert (await api.get("/v1/audit/points-de-controle", headers=ARS_BFC)).status_code == 403
    assert (await api.get("/v1/audit")).status_code == 401
    cle = await api.get("/v1/audit/cle")  # public
    assert cle.status_code == 200
    assert cle.json()["cle_id"] == audit.cle_id(audit.cle_publique(audit.cle_privee_de_dev("instruction")))


@pytest.fixture(scope="module")
def service_servi(moteur: AsyncEngine, kafka_bootstrap: str) -> Iterator[str]:
    """The instruction app under uvicorn on a real port: the command line reaches it over TCP like a
    deployed service."""
    reglages = reglages_de_test(InstructionSettings, moteur, kafka_bootstrap, calendrier_ouvert=True)
    with servi(create_app(reglages)) as url:
        yield url


def _verifier(url: str) -> Any:
    return CliRunner().invoke(cli, ["audit", "verifier", "--service", "instruction", "--api", url,
                                    "--jeton", DNS["Authorization"].removeprefix("Bearer ")])


async def test_verificateur_par_l_api(api: httpx.AsyncClient, moteur: AsyncEngine, service_servi: str
                                      ) -> None:
    # Past one page of the command's reads (500), so that it pages through the journal.
    async with moteur.begin() as conn:
        await conn.execute(text(
            "INSERT INTO journal_audit (acteur, role, action, objet_type, objet_id, region, details)"
            " SELECT 'agent-' || g, 'ars', 'lire', 'dossier', 'x-' || g, '27', jsonb_build_object('n', g)"
            " FROM generate_series(1, 520) AS g"))
    async with moteur.begin() as conn, AsyncSession(bind=conn) as session:
        point = await audit.poser_point_de_controle(session, service="instruction",
                                                    graine=audit.cle_privee_de_dev("instruction"))
    assert point is not None
    async with moteur.connect() as conn:
        total = int(await conn.scalar(text("SELECT count(*) FROM journal_audit")) or 0)
    assert total > 520

    resultat = await asyncio.to_thread(_verifier, service_servi)
    assert resultat.exit_code == 0, resultat.stdout
    assert resultat.stdout == "OK\n"
    assert f"{total} lignes, 1 points de contrôle" in resultat.stderr  # the command's progress

    cible = point["sequence"] - 3
    async with moteur.begin() as conn:
        await conn.execute(text("ALTER TABLE journal_audit DISABLE TRIGGER USER"))
        await conn.execute(text("UPDATE journal_audit SET acteur = 'quelqu-un' WHERE sequence = :s"),
                           {"s": cible})
        await conn.execute(text("ALTER TABLE journal_audit ENABLE TRIGGER USER"))
    resultat = await asyncio.to_thread(_verifier, service_servi)
    assert resultat.exit_code == 1, resultat.stdout
    assert f"alteree: ligne altérée : séquence {cible}" in resultat.stdout
    # A token that may not read the journal is refused, not reported as an empty chain.
    refus = await asyncio.to_thread(CliRunner().invoke, cli, [
        "audit", "verifier", "--service", "instruction", "--api", service_servi,
        "--jeton", ARS_CORSE["Authorization"].removeprefix("Bearer ")])
    assert refus.exit_code != 0

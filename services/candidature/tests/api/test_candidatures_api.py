"""The candidature API on its real database (and the real Kafka its lifespan connects to):
refusals are problem+json naming the field and write nothing; Idempotency-Key replays;
GHT perimeters. The local copy of the referentiel is seeded directly here; in production it
comes from EtablissementPublie events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_candidature.consumers import HANDLERS
from hopen_candidature.models import Candidature, EtablissementConnu, IndicateurDeclare
from hopen_common.contracts import DesistementEnregistre
from hopen_common.db.messaging import JournalAudit, OutboxMessage, RequeteIdempotente
from hopen_common.events import nouvel_evenement
from hopen_common.testing import jeton
from hopen_common.testing.api import NouveauClient, compter, rien_ecrit
from hopen_common.testing.bus import Bus, bus_de_test
from hopen_common.testing.copies_locales import etablissement_connu
from hopen_common.testing.pieces import criteres_ght_complets

CALVI, CALVI_EG = "2B0005342", "2B0005359"
SUPPORT, CHAUMONT, LANGRES, FERME = "210780581", "520780032", "520780057", "210780631"
RADIOTHERAPIE = "830100582"


_etab = partial(etablissement_connu, activite_combinee=Decimal("18530"), effectifs=None,
                finess_pmsi_phase2=None, activite_combinee_2024=None, eligible_hospiconnect=None,
                maille_hospiconnect=None,
                eligible_aap=None, maille_aap=None)


ETABLISSEMENTS = [
    _etab(CALVI),
    _etab(CALVI_EG, finess_ej=CALVI, niveau="EG", maille_phase1=CALVI),
    _etab(RADIOTHERAPIE, region="93", secteur="prive_non_lucratif", niveau="EG", eligible_phase1=False),
    *[_etab(f, region="27", ght_code="BFC-03", ght_role="S" if f == SUPPORT else "M",
            maille_phase1=SUPPORT, domaines_sun_es=["DS1.3"] if f == CHAUMONT else [])
      for f in (SUPPORT, CHAUMONT, LANGRES)],
    _etab(FERME, region="27", ght_code="BFC-03", ght_role="M", maille_phase1=SUPPORT, ferme=True),
]

@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("candidature"))
    async with engine.begin() as conn:
        await conn.execute(insert(EtablissementConnu), ETABLISSEMENTS)
    yield engine
    await engine.dispose()


# Every table a request could write: a refused one leaves their row counts as they were (rien_ecrit).
ECRITES = (Candidature, IndicateurDeclare, JournalAudit, OutboxMessage, RequeteIdempotente)


@pytest.fixture(scope="module")
async def bus(moteur: AsyncEngine, kafka_bootstrap: str) -> AsyncIterator[Bus]:
    """Candidature's own consumer on the module's database: instruction's answers to withdrawals."""
    async with bus_de_test(nom="candidature", handlers=HANDLERS,
                           database_url=moteur.url.render_as_string(hide_password=False),
                           kafka_bootstrap=kafka_bootstrap, sujets=("dossier",)) as b:
        yield b


async def _desister_ouvertes(api: httpx.AsyncClient, bus: Bus, finess: str) -> None:
    """Issue 7: an applicant has one open candidature per dispositif; a test that applies again for
    the same FINESS first withdraws what an earlier test left open. A deposited one stays held until
    instruction records the withdrawal (ADR 0010): its answer is published here."""
    es = jeton("etablissement", finess=[finess])
    for c in (await api.get("/v1/candidatures", headers=es, params={"limit": 500})).json()["items"]:
        if c["statut"] in ("brouillon", "deposee"):
            r = await api.post(f"/v1/candidatures/{c['id']}/desistement", headers=es,
                               json={"motivation": "nouvelle candidature du test"})
            assert r.status_code == 200, r.text
        if c["statut"] in ("deposee", "desistement_demande"):
            await bus.publier("dossier", c["id"], nouvel_evenement(DesistementEnregistre(
                candidature_id=c["id"], dispositif=c["dispositif"], finess=finess, region=c["region"],
                desistement_event_id=str(uuid.uuid4()), enregistre_le=datetime.now(UTC)),
                source="/test", subject=f"candidature/{c['id']}"))

            async def close(s, cid=c["id"]):  # type: ignore[no-untyped-def]
                return await s.scalar(select(Candidature.statut).where(Candidature.id == cid)) == "desistee"
            await bus.attendre(close, quoi=f"{c['id']} desistee")


def _probleme(r: httpx.Response, statut: int, champ: str) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps: dict[str, Any] = r.json()
    assert corps["champ"] == champ, corps
    assert corps["type"].startswith("https://")
    return corps


async def test_hors_fenetre_de_candidature(moteur: AsyncEngine, nouveau_client: NouveauClient) -> None:
    async with nouveau_client(ouvert=False) as client, rien_ecrit(moteur, *ECRITES):
        r = await client.post("/v1/candidatures", headers=jeton("etablissement", finess=[CALVI]),
                              json={"dispositif": "phase1", "finess": CALVI, "objectifs": ["P1.O1"]})
    corps = _probleme(r, 422, "date")
    assert "2024-07-25" in corps["detail"]
    assert "2024-10-04" in corps["detail"]


@pytest.mark.parametrize(("finess", "objectifs", "champ", "extrait"), [
    ("010000024", ["P1.O1"], "finess", "inconnu du référentiel"),
    (RADIOTHERAPIE, ["P1.O1"], "finess", "n'est pas éligible"),
    (CALVI_EG, ["P1.O1"], "finess", "maille de candidature"),
    (CHAUMONT, ["P1.O1"], "finess", "support du GHT BFC-03"),
    (CALVI, ["P1.O9"], "objectifs", "inconnu"),
    (CALVI, [], "objectifs", "au moins un objectif"),
    (CALVI, ["P1.O1", "P1.O1"], "objectifs", "deux fois"),
])
async def test_refus_metier(api: httpx.AsyncClient, moteur: AsyncEngine, finess: str, objectifs: list[str],
                            champ: str, extrait: str) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/candidatures", headers=jeton("etablissement", finess=[finess]),
                           json={"dispositif": "phase1", "finess": finess, "objectifs": objectifs})
    assert extrait in _probleme(r, 422, champ)["detail"]


async def test_jeton_d_un_autre_etablissement(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/candidatures", headers=jeton("etablissement", finess=[SUPPORT]),
                           json={"dispositif": "phase1", "finess": CALVI, "objectifs": ["P1.O1"]})
        _probleme(r, 403, "finess")
        r = await api.post("/v1/candidatures", headers=jeton("ars", region="94"),
                           json={"dispositif": "phase1", "finess": CALVI, "objectifs": ["P1.O1"]})
        assert r.status_code == 403
        r = await api.post("/v1/candidatures", json={"dispositif": "phase1", "finess": CALVI,
                                                     "objectifs": ["P1.O1"]})
        assert r.status_code == 401


async def test_champ_inconnu_et_format(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    es = jeton("etablissement", finess=[CALVI])
    r = await api.post("/v1/candidatures", headers=es, json={
        "dispositif": "phase1", "finess": CALVI, "objectifs": ["P1.O1"], "montant": "1000"})
    _probleme(r, 422, "montant")
    r = await api.post("/v1/candidatures", headers=es, json={
        "dispositif": "phase1", "finess": "2B000534", "objectifs": ["P1.O1"]})
    _probleme(r, 422, "finess")
    # AAP projects are not candidatures of this endpoint (they have their own, /v1/projets).
    r = await api.post("/v1/candidatures", headers=es, json={"dispositif": "aap",
                                                            "finess": CALVI, "objectifs": ["1.0"]})
    _probleme(r, 422, "dispositif")


async def test_idempotency_key(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    es = {**jeton("etablissement", finess=[CALVI], sujet="dsi-calvi"), "Idempotency-Key": "cand-001"}
    corps = {"dispositif": "phase1", "finess": CALVI, "objectifs": ["P1.O1", "P1.O3"]}
    premiere = await api.post("/v1/candidatures", headers=es, json=corps)
    assert premiere.status_code == 201, premiere.text
    rejouee = await api.post("/v1/candidatures", headers=es, json=corps)
    assert rejouee.status_code == 201
    assert rejouee.json() == premiere.json()
    assert rejouee.headers["Idempotent-Replayed"] == "true"
    assert await compter(moteur, Candidature, Candidature.id == premiere.json()["id"]) == 1
    assert await compter(moteur, Candidature, Candidature.cree_par == "dsi-calvi") == 1
    autre = await api.post("/v1/candidatures", headers=es, json={**corps, "objectifs": ["P1.O2"]})
    _probleme(autre, 422, "Idempotency-Key")

    # The deposit publishes once, even when the client retries it.
    cid = premiere.json()["id"]
    for _ in range(2):
        r = await api.post(f"/v1/candidatures/{cid}/depot",
                           headers={**es, "Idempotency-Key": "depot-001"})
        assert r.status_code == 200, r.text
    assert await compter(moteur, OutboxMessage, OutboxMessage.key == cid) == 1
    r = await api.post(f"/v1/candidatures/{cid}/depot", headers=jeton("etablissement", finess=[CALVI]))
    assert r.status_code == 409  # a second deposit without the key is a real conflict


async def test_depot_et_preuves(api: httpx.AsyncClient, moteur: AsyncEngine, bus: Bus) -> None:
    await _desister_ouvertes(api, bus, CALVI)
    es = jeton("etablissement", finess=[CALVI])
    cid = (await api.post("/v1/candidatures", headers=es, json={
        "dispositif": "phase1", "finess": CALVI, "objectifs": ["P1.O2"]})).json()["id"]
    preuve = {"objectif": "P1.O2", "indicateur": "P1.O2.a", "numerateur": 7, "denominateur": 10}
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post(f"/v1/candidatures/{cid}/indicateurs", headers=es, json=preuve)
    assert r.status_code == 409  # evidence goes on a deposited candidature
    assert (await api.post(f"/v1/candidatures/{cid}/depot", headers=es)).status_code == 200
    autre = jeton("etablissement", finess=[SUPPORT])
    r = await api.post(f"/v1/candidatures/{cid}/indicateurs", headers=autre, json=preuve)
    assert r.status_code == 404
    _probleme(await api.post(f"/v1/candidatures/{cid}/indicateurs", headers=es,
                             json={**preuve, "indicateur": None}), 422, "indicateur")  # P1.O2 has two
    _probleme(await api.post(f"/v1/candidatures/{cid}/indicateurs", headers=es,
                             json={**preuve, "numerateur": 11}), 422, "numerateur")
    _probleme(await api.post(f"/v1/candidatures/{cid}/indicateurs", headers=es,
                             json={**preuve, "denominateur": 0}), 422, "denominateur")
    _probleme(await api.post(f"/v1/candidatures/{cid}/indicateurs", headers=es,
                             json={**preuve, "numerateur": "7.5"}), 422, "numerateur")
    _probleme(await api.post(f"/v1/candidatures/{cid}/indicateurs", headers=es,
                             json={**preuve, "objectif": "P1.O1"}), 422, "objectif")
    assert await compter(moteur, IndicateurDeclare, IndicateurDeclare.candidature_id == cid) == 0
    r = await api.post(f"/v1/candidatures/{cid}/indicateurs", headers=es, json=preuve)
    assert r.status_code == 201, r.text
    assert r.json()["finess_ej"] == CALVI


async def test_ght_perimetre(api: httpx.AsyncClient, moteur: AsyncEngine, bus: Bus) -> None:
    support = jeton("etablissement", finess=[SUPPORT])
    r = await api.post("/v1/candidatures", headers=support, json={
        "dispositif": "phase1", "finess": SUPPORT, "objectifs": ["P1.O3"]})
    assert r.status_code == 201, r.text
    # Without a perimeter: every open, eligible member (the closed one is left out).
    assert [m["finess_ej"] for m in r.json()["perimetre"]] == [SUPPORT, CHAUMONT, LANGRES]
    await _desister_ouvertes(api, bus, SUPPORT)

    # A GHT support deposits with the GHT criteria of annex 4 (issue 8).
    corps = {"dispositif": "phase1", "finess": SUPPORT, "objectifs": ["P1.O1", "P1.O3"], "perimetre": [
        {"finess_ej": CHAUMONT, "objectifs": ["P1.O3"]}, {"finess_ej": LANGRES, "objectifs": ["P1.O1"]}],
        "criteres_ght": criteres_ght_complets()}
    r = await api.post("/v1/candidatures", headers=support, json=corps)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert {m["finess_ej"]: m["objectifs"] for m in r.json()["perimetre"]} == {
        CHAUMONT: ["P1.O3"], LANGRES: ["P1.O1"]}
    for perimetre, champ in (
        ([{"finess_ej": CALVI, "objectifs": ["P1.O3"]}], "perimetre.0.finess_ej"),
        ([{"finess_ej": FERME, "objectifs": ["P1.O3"]}], "perimetre.0.finess_ej"),
        ([{"finess_ej": CHAUMONT, "objectifs": ["P1.O3"]}, {"finess_ej": CHAUMONT, "objectifs": ["P1.O1"]}],
         "perimetre.1.finess_ej"),
        ([{"finess_ej": CHAUMONT, "objectifs": ["P1.O5"]}], "perimetre.0.objectifs"),
        ([{"finess_ej": CHAUMONT, "objectifs": ["P1.O3"]}], "objectifs"),  # P1.O1 left without an EJ
    ):
        async with rien_ecrit(moteur, *ECRITES):
            _probleme(await api.post("/v1/candidatures", headers=support,
                                     json={**corps, "perimetre": perimetre}), 422, champ)
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/candidatures", headers=jeton("etablissement", finess=[CALVI]), json={
            "dispositif": "phase1", "finess": CALVI, "objectifs": ["P1.O3"],
            "perimetre": [{"finess_ej": CALVI, "objectifs": ["P1.O3"]}]})
    _probleme(r, 422, "perimetre")

    # Evidence of a GHT is per member EJ, for the objectives that EJ applies to.
    assert (await api.post(f"/v1/candidatures/{cid}/depot", headers=support)).status_code == 200
    preuve = {"objectif": "P1.O3", "numerateur": 6, "denominateur": 10}
    _probleme(await api.post(f"/v1/candidatures/{cid}/indicateurs", headers=support, json=preuve),
              422, "finess_ej")
    _probleme(await api.post(f"/v1/candidatures/{cid}/indicateurs", headers=support,
                             json={**preuve, "finess_ej": LANGRES}), 422, "objectif")
    r = await api.post(f"/v1/candidatures/{cid}/indicateurs", headers=support,
                       json={**preuve, "finess_ej": CHAUMONT})
    assert r.status_code == 201, r.text
    assert r.json()["finess_ej"] == CHAUMONT


async def test_chacun_ne_liste_que_son_perimetre(api: httpx.AsyncClient, bus: Bus) -> None:
    await _desister_ouvertes(api, bus, CALVI)
    await api.post("/v1/candidatures", headers=jeton("etablissement", finess=[CALVI]),
                   json={"dispositif": "phase1", "finess": CALVI, "objectifs": ["P1.O4"]})
    es = (await api.get("/v1/candidatures", headers=jeton("etablissement", finess=[CALVI]))).json()
    assert es["total"] >= 1
    assert {c["finess"] for c in es["items"]} == {CALVI}
    corse = (await api.get("/v1/candidatures", headers=jeton("ars", region="94"), params={"limit": 1})).json()
    assert corse["limit"] == 1
    assert len(corse["items"]) == 1
    assert corse["items"][0]["region"] == "94"
    assert (await api.get("/v1/candidatures", headers=jeton("ars", region="11"))).json()["total"] == 0
    r = await api.get("/v1/candidatures", headers=jeton("dns"), params={"limit": 501})
    assert r.status_code == 422
    assert r.json()["champ"] == "limit"

"""Assignment and expert opinions through the instruction API on its real database (issue 9 item 7, ADR
0015): dossiers and projects assigned to the region's agents, the list filters `moi`, `aucune` and by
person, every (re)assignment in the immutable history and the audit journal; an opinion asked by the
ARS of the region, seen by the invited expert only (with its dossier, every other dossier 404 or 403),
answered once, read by the ARS and the DNS, published on the internal avis topic only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_common.contracts import Topics
from hopen_common.db.messaging import JournalAudit, OutboxMessage
from hopen_common.testing import jeton
from hopen_common.testing.api import rien_ecrit
from hopen_instruction.models import Affectation, Avis, Dossier, Projet, ReponseAvis

DEPOSEE = datetime(2026, 3, 1, tzinfo=UTC)
ARS_CORSE = jeton("ars", region="94", sujet="agent-corse")
ARS_BFC = jeton("ars", region="27", sujet="agent-bfc")
DNS = jeton("dns", sujet="dns")
ES = jeton("etablissement", finess=["2A0002606"])
EXPERT_1 = jeton("expert", sujet="expert-1")
EXPERT_2 = jeton("expert", sujet="expert-2")
DANS_7_JOURS = (date.today() + timedelta(days=7)).isoformat()


def _dossier(did: str, region: str, statut: str = "deposee") -> dict[str, Any]:
    return {"id": did, "dispositif": "phase1", "finess": "2A0002606", "raison_sociale": f"CH {did}",
            "region": region, "objectifs": ["P1.O1"], "domaines_sun_es": [], "perimetre": None,
            "statut": statut, "deposee_le": DEPOSEE}


def _projet(pid: str, region: str) -> dict[str, Any]:
    return {"id": pid, "finess": "210012142", "raison_sociale": "CH", "region": region,
            "theme": "desengorgement_urgences", "titre": pid, "description": "d", "objectifs": ["o1"],
            "participants": ["210012142"], "perimetre": [], "equipe": [], "lettres_partenaires": [],
            "sans_versement_usage": None, "depenses_prevues": 0, "statut": "depose",
            "deposee_le": DEPOSEE}


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("instruction"))
    async with engine.begin() as conn:
        await conn.execute(insert(Dossier), [_dossier("d1", "94"), _dossier("d2", "94"), _dossier("d3", "94"),
                                             _dossier("d-bfc", "27"), _dossier("d-retire", "94", "desistee")])
        await conn.execute(insert(Projet), [_projet("p1", "94"), _projet("p-bfc", "27")])
    yield engine
    await engine.dispose()


def _ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [d["id"] for d in r.json()["items"]]


def _probleme(r: httpx.Response, statut: int, champ: str | None = None) -> str:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if champ is not None:
        assert r.json()["champ"] == champ, r.text
    return str(r.json()["type"]).rsplit("/", 1)[1]


async def test_affectation(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    r = await api.put("/v1/dossiers/d1/affectation", headers=ARS_CORSE, json={"agent": "agent-a"})
    assert r.status_code == 200, r.text
    assert r.json() | {"historique": None} == {"dossier_type": "candidature", "dossier_id": "d1",
                                               "agent": "agent-a", "historique": None}
    async with rien_ecrit(moteur, Affectation, JournalAudit):  # the same agent again: nothing happens
        r = await api.put("/v1/dossiers/d1/affectation", headers=ARS_CORSE, json={"agent": "agent-a"})
        assert r.status_code == 200
    r = await api.put("/v1/dossiers/d1/affectation", headers=ARS_CORSE, json={"agent": "agent-b"})
    assert [(h["agent"], h["precedent"], h["par"]) for h in r.json()["historique"]] == [
        ("agent-a", None, "agent-corse"), ("agent-b", "agent-a", "agent-corse")]
    assert (await api.put("/v1/dossiers/d2/affectation", headers=ARS_CORSE,
                          json={"agent": "agent-corse"})).status_code == 200
    assert (await api.put("/v1/projets/p1/affectation", headers=ARS_CORSE,
                          json={"agent": "agent-corse"})).status_code == 200

    # The filters: mine, unassigned, by person; the region's list only, for an ARS.
    assert _ids(await api.get("/v1/dossiers?affectation=moi", headers=ARS_CORSE)) == ["d2"]
    assert _ids(await api.get("/v1/dossiers?affectation=aucune", headers=ARS_CORSE)) == ["d-retire", "d3"]
    assert _ids(await api.get("/v1/dossiers?affectation=agent-b", headers=ARS_CORSE)) == ["d1"]
    assert _ids(await api.get("/v1/dossiers?affectation=aucune", headers=ARS_BFC)) == ["d-bfc"]
    assert _ids(await api.get("/v1/dossiers?affectation=agent-b", headers=DNS)) == ["d1"]
    assert _ids(await api.get("/v1/projets?affectation=moi", headers=ARS_CORSE)) == ["p1"]
    assert _ids(await api.get("/v1/projets?affectation=aucune", headers=ARS_CORSE)) == []
    tous = (await api.get("/v1/dossiers", headers=ARS_CORSE)).json()["items"]
    assert {d["id"]: d["affecte_a"] for d in tous} == {"d1": "agent-b", "d2": "agent-corse", "d3": None,
                                                       "d-retire": None}

    r = await api.delete("/v1/dossiers/d1/affectation", headers=ARS_CORSE)
    assert (r.status_code, r.json()["agent"]) == (200, None), r.text
    assert [h["agent"] for h in r.json()["historique"]] == ["agent-a", "agent-b", None]
    libres = await api.get("/v1/dossiers?affectation=aucune", headers=ARS_CORSE)
    assert _ids(libres) == ["d-retire", "d1", "d3"]
    r = await api.get("/v1/dossiers/d1/affectation", headers=DNS)
    assert [h["precedent"] for h in r.json()["historique"]] == [None, "agent-a", "agent-b"]
    async with moteur.connect() as conn:
        audit = (await conn.execute(select(JournalAudit.acteur, JournalAudit.action, JournalAudit.details)
                                    .where(JournalAudit.objet_id == "d1").order_by(JournalAudit.id))).all()
    assert [tuple(a) for a in audit] == [
        ("agent-corse", "affecter", {"agent": "agent-a", "precedent": None}),
        ("agent-corse", "reaffecter", {"agent": "agent-b", "precedent": "agent-a"}),
        ("agent-corse", "desaffecter", {"agent": None, "precedent": "agent-b"})]

    # The history is immutable, whatever the code does.
    async with moteur.connect() as conn:
        with pytest.raises(DBAPIError, match="immuable"):
            await conn.execute(text("UPDATE affectation SET agent = 'x'"))


async def test_affectation_refusee(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    async with rien_ecrit(moteur, Affectation, JournalAudit, OutboxMessage):
        agent = {"agent": "a"}
        _probleme(await api.put("/v1/dossiers/d-bfc/affectation", headers=ARS_CORSE, json=agent), 404)
        _probleme(await api.put("/v1/projets/p-bfc/affectation", headers=ARS_CORSE, json=agent), 404)
        _probleme(await api.delete("/v1/dossiers/inconnu/affectation", headers=ARS_CORSE), 404)
        _probleme(await api.get("/v1/dossiers/d-bfc/affectation", headers=ARS_CORSE), 404)
        for qui in (DNS, ES, EXPERT_1):
            _probleme(await api.put("/v1/dossiers/d1/affectation", headers=qui, json=agent), 403)
        for corps, champ in (({"agent": ""}, "agent"), ({"agent": "deux mots"}, "agent"),
                             ({"agent": "a", "motif": "x"}, "motif"), ({}, "agent")):
            _probleme(await api.put("/v1/dossiers/d1/affectation", headers=ARS_CORSE, json=corps), 422, champ)
        _probleme(await api.get("/v1/dossiers", params={"affectation": "x" * 201}, headers=ARS_CORSE),
                  422, "affectation")


async def test_avis_d_expert(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    question = {"expert": "expert-1", "question": "Le DPI convergé est-il crédible ?",
                "echeance": DANS_7_JOURS}
    r = await api.post("/v1/dossiers/d1/avis", headers=ARS_CORSE, json=question)
    assert r.status_code == 201, r.text
    a1 = r.json()
    assert a1 | {"id": None, "demande_le": None} == {
        "id": None, "dossier_type": "candidature", "dossier_id": "d1", "region": "94", "expert": "expert-1",
        "question": question["question"], "echeance": DANS_7_JOURS, "demande_par": "agent-corse",
        "demande_le": None, "reponse": None}
    a2 = (await api.post("/v1/dossiers/d2/avis", headers=ARS_CORSE,
                         json={**question, "expert": "expert-2"})).json()
    cle = {**ARS_CORSE, "Idempotency-Key": "avis-p1"}
    r = await api.post("/v1/projets/p1/avis", headers=cle, json=question)
    assert r.status_code == 201, r.text
    a_projet = r.json()
    async with rien_ecrit(moteur, Avis, OutboxMessage):  # a retried request: the first answer, once
        r = await api.post("/v1/projets/p1/avis", headers=cle, json=question)
        assert (r.status_code, r.json()["id"]) == (201, a_projet["id"])
        assert r.headers["Idempotent-Replayed"] == "true"

    # The expert sees the opinions it is invited to, each with its dossier, and nothing else.
    r = await api.get("/v1/avis", headers=EXPERT_1)
    assert r.status_code == 200, r.text
    assert {a["id"] for a in r.json()["items"]} == {a1["id"], a_projet["id"]}
    assert [a["id"] for a in (await api.get("/v1/avis", headers=EXPERT_2)).json()["items"]] == [a2["id"]]
    r = await api.get(f"/v1/avis/{a1['id']}", headers=EXPERT_1)
    assert r.status_code == 200, r.text
    assert (r.json()["dossier"]["id"], r.json()["dossier"]["raison_sociale"], r.json()["projet"]) == (
        "d1", "CH d1", None)
    r = await api.get(f"/v1/avis/{a_projet['id']}", headers=EXPERT_1)
    assert (r.json()["projet"]["id"], r.json()["dossier"]) == ("p1", None)
    _probleme(await api.get(f"/v1/avis/{a2['id']}", headers=EXPERT_1), 404)
    for chemin in ("/v1/dossiers", "/v1/dossiers/d1", "/v1/dossiers/d1/avis", "/v1/dossiers/d1/messages",
                   "/v1/dossiers/d1/affectation", "/v1/dossiers/d1/pieces-requises", "/v1/projets",
                   "/v1/projets/p1", "/v1/enveloppes"):
        r = await api.get(chemin, headers=EXPERT_1)
        assert r.status_code in (403, 404), (chemin, r.text)
        assert "CH d1" not in r.text
    _probleme(await api.get("/v1/avis", headers=ARS_CORSE), 403)  # "my invitations" are an expert's

    # It answers once; the second answer, another expert's or the ARS's: refused, nothing written.
    reponse = {"avis": "favorable", "texte": "Crédible : le GHT a déjà mutualisé son DPI."}
    r = await api.post(f"/v1/avis/{a1['id']}/reponse", headers=EXPERT_1, json=reponse)
    assert r.status_code == 201, r.text
    assert r.json()["reponse"] | {"rendu_le": None} == {**reponse, "rendu_par": "expert-1", "rendu_le": None}
    async with rien_ecrit(moteur, ReponseAvis, Avis, OutboxMessage, JournalAudit):
        assert _probleme(await api.post(f"/v1/avis/{a1['id']}/reponse", headers=EXPERT_1,
                                        json={"avis": "defavorable", "texte": "finalement non"}),
                         409, "avis") == "avis-deja-rendu"
        _probleme(await api.post(f"/v1/avis/{a2['id']}/reponse", headers=EXPERT_1, json=reponse), 404)
        _probleme(await api.post(f"/v1/avis/{a2['id']}/reponse", headers=ARS_CORSE, json=reponse), 403)
        for corps, champ in (({"avis": "peut-etre", "texte": "xxx"}, "avis"),
                             ({"avis": "favorable"}, "texte"),
                             ({**reponse, "note": 3}, "note")):
            r = await api.post(f"/v1/avis/{a2['id']}/reponse", headers=EXPERT_2, json=corps)
            _probleme(r, 422, champ)
        # The ARS's request: a due date past, an unknown field, a withdrawn or foreign dossier.
        hier = (date.today() - timedelta(days=1)).isoformat()
        r = await api.post("/v1/dossiers/d3/avis", headers=ARS_CORSE, json={**question, "echeance": hier})
        _probleme(r, 422, "echeance")
        r = await api.post("/v1/dossiers/d3/avis", headers=ARS_CORSE, json={**question, "x": 1})
        _probleme(r, 422, "x")
        r = await api.post("/v1/dossiers/d-retire/avis", headers=ARS_CORSE, json=question)
        _probleme(r, 409, "statut")
        _probleme(await api.post("/v1/dossiers/d-bfc/avis", headers=ARS_CORSE, json=question), 404)
        for qui in (DNS, ES, EXPERT_1):
            _probleme(await api.post("/v1/dossiers/d3/avis", headers=qui, json=question), 403)

    # The ARS of the region and the DNS read the opinions and answers; another region: 404.
    for qui in (ARS_CORSE, DNS):
        r = await api.get("/v1/dossiers/d1/avis", headers=qui)
        assert [(a["id"], a["reponse"]["avis"]) for a in r.json()["items"]] == [(a1["id"], "favorable")]
    _probleme(await api.get("/v1/dossiers/d1/avis", headers=ARS_BFC), 404)
    _probleme(await api.get(f"/v1/avis/{a1['id']}", headers=ARS_BFC), 404)
    assert (await api.get(f"/v1/avis/{a1['id']}", headers=ARS_CORSE)).json()["reponse"]["avis"] == "favorable"

    # Events on the internal topic only, and immutable rows.
    async with moteur.connect() as conn:
        evenements = (await conn.execute(select(OutboxMessage.topic, OutboxMessage.key,
                                                OutboxMessage.envelope["type"].astext)
                                         .where(OutboxMessage.envelope["type"].astext.like("Avis%"))
                                         .order_by(OutboxMessage.id))).all()
        with pytest.raises(DBAPIError, match="immuable"):
            await conn.execute(text("UPDATE reponse_avis SET avis = 'defavorable'"))
    assert [tuple(e) for e in evenements] == [
        (Topics.AVIS.value, "d1", "AvisDemande"), (Topics.AVIS.value, "d2", "AvisDemande"),
        (Topics.AVIS.value, "p1", "AvisDemande"), (Topics.AVIS.value, "d1", "AvisRendu")]

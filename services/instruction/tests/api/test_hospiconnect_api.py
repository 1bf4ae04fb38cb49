"""HospiConnect yearly decisions through the instruction API on its real database: per EJ (per GHU) and
year, only objectives with a target that year, each backed by the evidence received (rates compared
with the target exactly), immutable decisions corrected by a new one naming what it replaces, scoped
to the ARS of the region. The dossiers and evidence are seeded directly (in production: events)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_common.db.messaging import JournalAudit, OutboxMessage, RequeteIdempotente
from hopen_common.testing import jeton
from hopen_common.testing.api import NouveauClient, rien_ecrit
from hopen_common.testing.quatre_yeux import decider_a_deux
from hopen_instruction.models import Decision, Dossier, EtablissementConnu, PreuveHospiconnectRecue

SEUL, SUPPORT, MEMBRE = "2A0002606", "210780581", "520780032"
HC = ["1.0", "1.1", "1.2", "1.3", "1.4", "2.1", "2.2"]
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def _dossier(did: str, finess: str, region: str, statut: str, perimetre: list[str] | None = None,
             dispositif: str = "hospiconnect") -> dict[str, Any]:
    return {"id": did, "dispositif": dispositif, "finess": finess, "raison_sociale": f"ES {finess}",
            "region": region, "objectifs": HC if dispositif == "hospiconnect" else ["P1.O1"],
            "domaines_sun_es": [], "statut": statut, "deposee_le": T0,
            "perimetre": None if perimetre is None else [
                {"finess_ej": f, "raison_sociale": f, "activite_combinee": None,
                 "objectifs": HC} for f in perimetre]}


def _preuve(did: str, ej: str, annee: int, objectif: str, minutes: int, *, doc: bool = False,
            num: int | None = None, den: int | None = None) -> dict[str, Any]:
    return {"id": f"{did}-{ej}-{annee}-{objectif}-{minutes}", "dossier_id": did, "finess_ej": ej,
            "annee": annee,
            "objectif": objectif, "nature": "document" if doc else "taux",
            "document": {"nom": f"{objectif}.pdf", "type": "pv", "sha256": "ef" * 32} if doc else None,
            "numerateur": num, "denominateur": den, "depose_par": "es",
            "depose_le": T0 + timedelta(minutes=minutes)}


DOSSIERS = [
    _dossier("hc-seul", SEUL, "94", "validee"),
    _dossier("hc-ght", SUPPORT, "27", "validee", [SUPPORT, MEMBRE]),
    _dossier("hc-brouillon", "2B0005342", "94", "deposee"),
    _dossier("p1", "2B0005342", "94", "validee", dispositif="phase1"),
]
PREUVES = [
    _preuve("hc-seul", SEUL, 2026, "1.0", 1, doc=True),
    _preuve("hc-seul", SEUL, 2027, "1.0", 1, doc=True),
    _preuve("hc-seul", SEUL, 2027, "1.1", 2, doc=True),
    # 2.1 (target 75 % in 2027): first 74.9999 %, then exactly 3/4 -> the latest counts, and 3/4 >= 0.75.
    _preuve("hc-seul", SEUL, 2027, "2.1", 3, num=749999, den=1000000),
    _preuve("hc-seul", SEUL, 2027, "2.1", 4, num=3, den=4),
    # 2.2 (target 40 %): 399 999 / 1 000 000 stays under, however close.
    _preuve("hc-seul", SEUL, 2027, "2.2", 5, num=399999, den=1000000),
    _preuve("hc-ght", MEMBRE, 2026, "1.0", 1, doc=True),
]


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("instruction"))
    async with engine.begin() as conn:
        await conn.execute(insert(Dossier), DOSSIERS)
        await conn.execute(insert(PreuveHospiconnectRecue), PREUVES)
        await conn.execute(insert(EtablissementConnu), [
            {"finess": f, "finess_ej": f, "raison_sociale": f, "region": r, "secteur": "public",
             "niveau": "EJ",
             "ferme": False, "effectifs": e, "finess_pmsi_phase2": f, "activite_combinee_2024": None,
             "eligible_aap": True} for f, r, e in ((SEUL, "94", 120), (MEMBRE, "44", 1550))])
    yield engine
    await engine.dispose()


# Every table a request could write: a refused one leaves their row counts as they were (rien_ecrit).
ECRITES = (Decision, JournalAudit, OutboxMessage, RequeteIdempotente)


def _probleme(r: httpx.Response, statut: int, champ: str | None) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps: dict[str, Any] = r.json()
    assert corps.get("champ") == champ, corps
    return corps


async def _publies(engine: AsyncEngine, cle: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.scalars(select(OutboxMessage.envelope).where(OutboxMessage.key == cle)
                                  .order_by(OutboxMessage.id))
        return [dict(r) for r in rows]


CORSE = jeton("ars", region="94", sujet="instructeur-corse")


async def test_lecture_preuves_et_cibles(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/dossiers/hc-seul/hospiconnect/2027", headers=CORSE)
    assert r.status_code == 200, r.text
    annee = r.json()
    assert (annee["fin_depot_preuves"], annee["fin_instruction"]) == ("2027-06-11", "2027-09-15")
    (ej,) = annee["entites"]
    assert (ej["finess_ej"], ej["effectifs"], ej["decision"]) == (SEUL, 120, None)
    par_objectif = {o["objectif"]: o for o in ej["objectifs"]}
    assert list(par_objectif) == HC  # every objective has a 2027 target
    assert par_objectif["2.1"]["numerateur"] == 3
    assert (par_objectif["2.1"]["taux"], par_objectif["2.1"]["cible_taux"]) == ("0.7500", "0.75")
    assert par_objectif["2.1"]["cible_atteinte"] is True
    assert (par_objectif["2.2"]["taux"], par_objectif["2.2"]["cible_atteinte"]) == ("0.4000", False)
    assert par_objectif["1.1"]["preuve_recue"] is True
    assert par_objectif["1.2"]["preuve_recue"] is False
    annee_2026 = (await api.get("/v1/dossiers/hc-seul/hospiconnect/2026", headers=CORSE)).json()
    assert [o["objectif"] for o in annee_2026["entites"][0]["objectifs"]] == ["1.0"]
    ght = (await api.get("/v1/dossiers/hc-ght/hospiconnect/2026", headers=jeton("dns"))).json()
    assert [(e["finess_ej"], e["objectifs"][0]["preuve_recue"]) for e in ght["entites"]] == [
        (SUPPORT, False), (MEMBRE, True)]
    _probleme(await api.get("/v1/dossiers/hc-seul/hospiconnect/2029", headers=CORSE), 422, "annee")
    assert (await api.get("/v1/dossiers/hc-seul/hospiconnect/2027",
                          headers=jeton("ars", region="27"))).status_code == 404
    assert (await api.get("/v1/dossiers/hc-seul/hospiconnect/2027",
                          headers=jeton("etablissement", finess=[SEUL]))).status_code == 403
    # The phase-1 evaluation of the dossier says nothing of HospiConnect.
    assert (await api.get("/v1/dossiers/hc-seul", headers=CORSE)).json()["evaluation"] == []


@pytest.mark.parametrize(("dossier", "annee", "corps", "statut", "champ"), [
    ("hc-seul", 2027, {"objectifs_atteints": ["2.2"]}, 422, "objectifs_atteints"),  # 39.9999 % < 40 %
    ("hc-seul", 2027, {"objectifs_atteints": ["1.2"]}, 422, "objectifs_atteints"),  # no document
    ("hc-seul", 2026, {"objectifs_atteints": ["1.0", "1.1"]}, 422, "objectifs_atteints"),  # no 2026 target
    ("hc-seul", 2027, {"objectifs_atteints": ["1.0", "1.0"]}, 422, "objectifs_atteints"),
    ("hc-seul", 2027, {"objectifs_atteints": ["3.1"]}, 422, "objectifs_atteints"),
    ("hc-seul", 2029, {"objectifs_atteints": []}, 422, "annee"),
    ("hc-seul", 2026, {"objectifs_atteints": [], "finess_ej": MEMBRE}, 422, "finess_ej"),
    ("hc-seul", 2026, {"objectifs_atteints": [], "remplace": "00000000-0000-0000-0000-000000000000"},
     422, "remplace"),
    ("hc-ght", 2026, {"objectifs_atteints": ["1.0"]}, 422, "finess_ej"),  # a GHT: which EJ?
    ("hc-ght", 2026, {"objectifs_atteints": ["1.0"], "finess_ej": SEUL}, 422, "finess_ej"),
    ("hc-brouillon", 2026, {"objectifs_atteints": []}, 409, None),  # not validated
    ("p1", 2026, {"objectifs_atteints": []}, 409, None),  # a phase-1 file
    ("hc-seul", 2026, {"objectifs_atteints": [], "motivation": ""}, 422, "motivation"),
])
async def test_refus(api: httpx.AsyncClient, moteur: AsyncEngine, dossier: str, annee: int,
                     corps: dict[str, Any], statut: int, champ: str | None) -> None:
    headers = CORSE if dossier != "hc-ght" else jeton("ars", region="27")
    async with rien_ecrit(moteur, *ECRITES):
        r = await decider_a_deux(api, f"/v1/dossiers/{dossier}/hospiconnect/{annee}/decision",
                                 headers=headers,
                           json={"motivation": "preuves examinées", **corps})
    _probleme(r, statut, champ)


async def test_hors_delai_et_portee(moteur: AsyncEngine, nouveau_client: NouveauClient,
                                    api: httpx.AsyncClient) -> None:
    corps = {"objectifs_atteints": ["1.0"], "motivation": "note de cadrage reçue"}
    async with nouveau_client(ouvert=False) as client, rien_ecrit(moteur, *ECRITES):
        # The 2026 instruction closed on 15 September 2026 (programme data, deadline day included).
        r = await decider_a_deux(client, "/v1/dossiers/hc-seul/hospiconnect/2026/decision",
                                 headers=CORSE, json=corps)
        assert "2026-09-15" in _probleme(r, 422, "date")["detail"]
    async with rien_ecrit(moteur, *ECRITES):
        for headers, statut in ((jeton("ars", region="11"), 404), (jeton("dns"), 403),
                                (jeton("etablissement", finess=[SEUL]), 403)):
            r = await decider_a_deux(api, "/v1/dossiers/hc-seul/hospiconnect/2026/decision",
                                     headers=headers, json=corps)
            assert r.status_code == statut, r.text


async def test_decision_puis_correction(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    url = "/v1/dossiers/hc-seul/hospiconnect/2027/decision"
    cle = {**CORSE, "Idempotency-Key": "hc-2027-1"}
    corps = {"objectifs_atteints": ["2.1", "1.0"], "motivation": "PV d'homologation et consentement à 75 %"}
    r = await decider_a_deux(api, url, headers=cle, json=corps)
    assert r.status_code == 201, r.text
    assert (await decider_a_deux(api, url,
                                 headers=cle, json=corps)).json() == r.json()  # replayed, not decided twice
    premiere = r.json()
    # Proposed by the instructeur, taken by the valideur who confirmed it (ADR 0023).
    assert (premiere["objet"], premiere["finess_ej"], premiere["proposee_par"], premiere["decide_par"]) == (
        "hospiconnect.2027", SEUL, "instructeur-corse", "valideur-94")
    assert premiere["elements"]["objectifs_atteints"] == ["1.0", "2.1"]  # programme order
    (evenement,) = await _publies(moteur, "hc-seul")
    assert evenement["type"] == "HospiconnectAnneeDecidee"
    assert evenement["data"] == {**evenement["data"], "decision_id": premiere["id"],
                                 "candidature_id": "hc-seul",
                                 "finess": SEUL, "finess_ej": SEUL, "region": "94", "annee": 2027,
                                 "objectifs_atteints": ["1.0", "2.1"], "remplace": None, "effectifs": 120}

    async with rien_ecrit(moteur, *ECRITES):
        r = await decider_a_deux(api, url, headers=CORSE, json={**corps, "objectifs_atteints": ["1.0"]})
        assert _probleme(r, 409, "remplace")["decision_courante"] == premiere["id"]
    r = await decider_a_deux(api, url, headers=CORSE, json={"objectifs_atteints": ["1.0", "1.1", "2.1"],
                                                 "motivation": "RPPS vérifié", "remplace": premiere["id"]})
    assert r.status_code == 201, r.text
    seconde = r.json()
    async with rien_ecrit(moteur, *ECRITES):  # the first is no longer current: it cannot be replaced twice
        _probleme(await decider_a_deux(api, url,
                                       headers=CORSE, json={**corps, "remplace": premiere["id"]}), 422,
                  "remplace")
    evenements = await _publies(moteur, "hc-seul")
    assert evenements[-1]["data"]["remplace"] == premiere["id"]
    annee = (await api.get("/v1/dossiers/hc-seul/hospiconnect/2027", headers=CORSE)).json()
    (ej,) = annee["entites"]
    assert ej["decision"]["id"] == seconde["id"]
    assert [d["id"] for d in ej["historique"]] == [premiere["id"], seconde["id"]]
    async with moteur.begin() as conn:
        with pytest.raises(DBAPIError, match="immuable"):
            await conn.execute(text("UPDATE decision SET motivation = 'autre'"))


async def test_ght_par_ej(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    bfc = jeton("ars", region="27")
    url = "/v1/dossiers/hc-ght/hospiconnect/2026/decision"
    r = await decider_a_deux(api, url, headers=bfc, json={"finess_ej": MEMBRE, "objectifs_atteints": ["1.0"],
                                               "motivation": "note de cadrage du membre"})
    assert r.status_code == 201, r.text
    # The support's own EJ is judged separately: nothing received for it, so 1.0 cannot be reached...
    _probleme(await decider_a_deux(api, url,
                                   headers=bfc, json={"finess_ej": SUPPORT, "objectifs_atteints": ["1.0"],
                                                     "motivation": "essai"}), 422, "objectifs_atteints")
    # ... but nothing reached is a decision too (financement pays 0 for the year).
    r = await decider_a_deux(api, url, headers=bfc, json={"finess_ej": SUPPORT, "objectifs_atteints": [],
                                               "motivation": "aucune preuve"})
    assert r.status_code == 201, r.text
    payloads = [e["data"] for e in await _publies(moteur, "hc-ght")]
    assert [(p["finess"], p["finess_ej"], p["objectifs_atteints"], p["effectifs"]) for p in payloads] == [
        (SUPPORT, MEMBRE, ["1.0"], 1550), (SUPPORT, SUPPORT, [], None)]


async def test_objectifs_phase1_refuses_sur_hospiconnect(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        r = await decider_a_deux(api, "/v1/dossiers/hc-seul/objectifs/1.0/decision", headers=CORSE,
                           json={"decision": "atteint", "motivation": "essai"})
    _probleme(r, 409, None)

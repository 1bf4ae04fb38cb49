"""The deposit waits for what the dossier requires (issue 8 item 4), through the candidature API on its
real database: every missing piece listed by code and EJ (422 `pieces-manquantes`, nothing written),
the GHT variants of annex 1, the capacity proof and criteria of annex 4 (set at creation or by PUT
while a draft), the HospiConnect administrative pieces and the AAP pieces; the deposited event carries
the GHT criteria and the public GHT participants.

The pieces endpoint lives in the pieces slice: here the deposit reads the pieces from an in-memory
source injected in place of the `piece` table (`source_pieces`), as the merge contract allows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_candidature.exigences.repository import source_pieces
from hopen_candidature.main import create_app
from hopen_candidature.models import Candidature, EtablissementConnu, HospiconnectValide, ProjetAap
from hopen_candidature.settings import CandidatureSettings
from hopen_common.calendrier import aujourd_hui_paris
from hopen_common.db.messaging import JournalAudit, OutboxMessage, RequeteIdempotente
from hopen_common.testing import jeton
from hopen_common.testing.api import client_api, reglages_de_test, rien_ecrit
from hopen_common.testing.copies_locales import etablissement_connu
from hopen_common.testing.pieces import PiecesEnMemoire, criteres_ght_complets, deposer_avec_pieces

CALVI = "2B0005342"  # public EJ outside any GHT (region 94)
SUPPORT, CHAUMONT, LANGRES = "210780581", "520780032", "520780057"  # GHT BFC-03 (region 27)
CLINIQUE = "800009920"  # private EG, its own FINESS PMSI
CHAUMONT_EG = "520000043"


_etab = partial(etablissement_connu, activite_combinee=Decimal("18530"), effectifs=500,
                activite_combinee_2024=Decimal("40000"))


ETABLISSEMENTS = [
    _etab(CALVI),
    *[_etab(f, region="27", ght_code="BFC-03", ght_role="S" if f == SUPPORT else "M", maille_phase1=SUPPORT,
            maille_hospiconnect=SUPPORT) for f in (SUPPORT, CHAUMONT, LANGRES)],
    _etab(CLINIQUE, region="27", secteur="prive_lucratif", niveau="EG", finess_ej="800003071"),
    _etab(CHAUMONT_EG, region="27", niveau="EG", finess_ej=CHAUMONT, maille_aap=CHAUMONT,
          finess_pmsi_phase2=CHAUMONT),
]
ECRITES = (Candidature, ProjetAap, JournalAudit, OutboxMessage, RequeteIdempotente)


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("candidature"))
    async with engine.begin() as conn:
        await conn.execute(insert(EtablissementConnu), ETABLISSEMENTS)
        await conn.execute(insert(HospiconnectValide), [
            {"finess_ej": f, "candidature_id": f"hc-{f}", "decision_id": f"d-{f}",
             "valide_le": datetime.now(UTC)}
            for f in (CHAUMONT, "800003071")])
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
def pieces() -> PiecesEnMemoire:
    return PiecesEnMemoire()


@pytest.fixture(scope="module")
async def api(moteur: AsyncEngine, kafka_bootstrap: str, pieces: PiecesEnMemoire
              ) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(reglages_de_test(CandidatureSettings, moteur, kafka_bootstrap, calendrier_ouvert=True))
    app.dependency_overrides[source_pieces] = lambda: pieces
    async with client_api(app, "http://candidature") as client:
        yield client


def _manquantes(r: httpx.Response) -> list[tuple[str, str | None]]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps = r.json()
    assert corps["type"].endswith("/pieces-manquantes"), corps
    assert corps["champ"] == "pieces"
    assert all(p["libelle"] for p in corps["pieces"])
    return [(p["code"], p["finess_ej"]) for p in corps["pieces"]]


async def _dernier_evenement(moteur: AsyncEngine, type_: str) -> dict[str, Any]:
    async with moteur.connect() as conn:
        envoi = (await conn.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1))).one()
    assert envoi.envelope["type"] == type_
    data: dict[str, Any] = envoi.envelope["data"]
    return data


async def test_phase1_hors_ght_quatre_prerequis(api: httpx.AsyncClient, moteur: AsyncEngine,
                                                pieces: PiecesEnMemoire) -> None:
    es = jeton("etablissement", finess=[CALVI])
    r = await api.post("/v1/candidatures", headers=es,
                       json={"dispositif": "phase1", "finess": CALVI, "objectifs": ["P1.O1"]})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post(f"/v1/candidatures/{cid}/depot", headers={**es, "Idempotency-Key": "depot-p1"})
        assert _manquantes(r) == [("P1.P1", None), ("P1.P2", None), ("P1.P3", None), ("P1.P4", None)]
        assert "P1.P1" in r.json()["detail"]
    for type_ in ("P1.P1", "P1.P2", "P1.P4"):
        pieces.declarer("candidature", cid, type_)
    pieces.declarer("projet", cid, "P1.P3")  # another dossier type: does not count
    async with rien_ecrit(moteur, *ECRITES):
        assert _manquantes(await api.post(f"/v1/candidatures/{cid}/depot", headers=es)) == [("P1.P3", None)]
    pieces.declarer("candidature", cid, "P1.P3")
    r = await api.post(f"/v1/candidatures/{cid}/depot", headers=es)
    assert r.status_code == 200, r.text
    assert r.json()["statut"] == "deposee"
    assert (await _dernier_evenement(moteur, "CandidatureDeposee"))["criteres_ght"] is None


async def test_phase1_ght_variantes_criteres_et_preuve(api: httpx.AsyncClient, moteur: AsyncEngine,
                                                       pieces: PiecesEnMemoire) -> None:
    support = jeton("etablissement", finess=[SUPPORT])
    echeance = (aujourd_hui_paris() + timedelta(days=45)).isoformat()
    partiels = {"referentiel_identite_unique": False, "preuve_capacite": "engagement",
                "a_regulariser_le": echeance, "dsi_ght": {"nom": "M. Durand"}}
    r = await api.post("/v1/candidatures", headers=support, json={
        "dispositif": "phase1", "finess": SUPPORT, "objectifs": ["P1.O1"], "criteres_ght": partiels})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert r.json()["criteres_ght"]["a_regulariser_le"] == echeance
    assert r.json()["criteres_ght"]["dsi_ght"] == {"nom": "M. Durand", "valide": False}

    # No shared identity repository: one P1.P3 per member EJ; the engagement letter was chosen.
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post(f"/v1/candidatures/{cid}/depot", headers=support)
        assert _manquantes(r) == [
            ("P1.P1", None), ("P1.P2", None), ("P1.P3", SUPPORT), ("P1.P3", CHAUMONT), ("P1.P3", LANGRES),
            ("P1.P4", None), ("P1.GHT.CAPACITE", None), ("P1.GHT.DSI", None), ("P1.GHT.PROJET_MEDICAL", None),
            ("P1.GHT.SDSI", None)]
        capacite = next(p for p in r.json()["pieces"] if p["code"] == "P1.GHT.CAPACITE")
        assert capacite["types"] == ["P1.GHT.ENGAGEMENT"]
        # Every failing criterion is listed with the pieces, by field.
        assert [c["champ"] for c in r.json()["criteres"]] == [
            "criteres_ght.dsi_ght.valide", "criteres_ght.projet_medical_valide", "criteres_ght.sdsi_date",
            "criteres_ght.convergence"]

    # The support completes its criteria (shared repository, COSTRAT decision): the GHT procedure.
    r = await api.put(f"/v1/candidatures/{cid}/criteres-ght", headers=support, json=criteres_ght_complets())
    assert r.status_code == 200, r.text
    async with rien_ecrit(moteur, *ECRITES):
        manquantes = _manquantes(await api.post(f"/v1/candidatures/{cid}/depot", headers=support))
    assert ("P1.P3", None) in manquantes
    assert not [m for m in manquantes if m[1] is not None]

    # Every piece there, but an SDSI three years old: the criterion alone is refused, by field.
    vieux = (aujourd_hui_paris() - timedelta(days=3 * 366)).isoformat()
    trop_vieux = {**criteres_ght_complets(), "sdsi_date": vieux}
    assert (await api.put(f"/v1/candidatures/{cid}/criteres-ght", headers=support,
                          json=trop_vieux)).status_code == 200
    r = await deposer_avec_pieces(api, f"/v1/candidatures/{cid}", support,
                                  fournir=pieces.fournir("candidature", cid))
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("/criteres-ght-invalides")
    assert r.json()["champ"] == "criteres_ght.sdsi_date"
    assert r.json()["pieces"] == []

    complets = criteres_ght_complets(preuve_capacite="engagement")
    assert (await api.put(f"/v1/candidatures/{cid}/criteres-ght", headers=support,
                          json=complets)).status_code == 200
    # The COSTRAT decision was supplied above: it also answers an engagement (it regularises it).
    r = await api.post(f"/v1/candidatures/{cid}/depot", headers=support)
    assert r.status_code == 200, r.text
    evenement = await _dernier_evenement(moteur, "CandidatureDeposee")
    assert evenement["criteres_ght"]["preuve_capacite"] == "engagement"
    assert evenement["criteres_ght"]["a_regulariser_le"] == complets["a_regulariser_le"]
    assert evenement["criteres_ght"]["dsi_ght"] == {"nom": "Mme Claire Martin", "valide": True}

    # Deposited: the criteria no longer change.
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.put(f"/v1/candidatures/{cid}/criteres-ght", headers=support, json=complets)
    assert r.status_code == 409, r.text


@pytest.mark.parametrize(("criteres", "champ"), [
    ({"preuve_capacite": "costrat", "a_regulariser_le": "2030-01-01"}, "criteres_ght.a_regulariser_le"),
    ({"preuve_capacite": "engagement"}, "criteres_ght.a_regulariser_le"),
    ({"preuve_capacite": "engagement", "a_regulariser_le": "2020-01-01"}, "criteres_ght.a_regulariser_le"),
    ({"sdsi_date": "2999-01-01"}, "criteres_ght.sdsi_date"),
    ({"preuve_capacite": "lettre"}, "criteres_ght.preuve_capacite"),
    ({"dsi": {"nom": "X"}}, "criteres_ght.dsi"),
])
async def test_criteres_refuses_a_la_creation(api: httpx.AsyncClient, moteur: AsyncEngine,
                                              criteres: dict[str, Any], champ: str) -> None:
    corps = {"dispositif": "phase1", "finess": CHAUMONT, "objectifs": ["P1.O1"], "criteres_ght": criteres}
    async with rien_ecrit(moteur, *ECRITES):
        # CHAUMONT is a GHT member (the support applies): use the support for the criteria themselves.
        r = await api.post("/v1/candidatures", headers=jeton("etablissement", finess=[SUPPORT]),
                           json={**corps, "finess": SUPPORT})
    assert r.status_code == 422, r.text
    assert r.json()["champ"] == champ, r.json()


async def test_criteres_hors_ght_ou_d_autrui(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    es = jeton("etablissement", finess=[CALVI])
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/candidatures", headers=es, json={
            "dispositif": "hospiconnect", "finess": CALVI, "criteres_ght": {}})
        assert (r.status_code, r.json()["champ"]) == (422, "criteres_ght")
    # The first test deposited CALVI's phase-1 candidature: its criteria cannot change any more.
    r = await api.post("/v1/candidatures", headers=es, json={"dispositif": "phase1", "finess": CALVI,
                                                             "objectifs": ["P1.O2"]})
    assert r.status_code == 409, r.text
    cid = r.json()["candidature_id"]
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.put(f"/v1/candidatures/{cid}/criteres-ght", headers=es, json={})
        assert r.status_code == 409, r.text
        # Another establishment's candidature: 404, as a missing one.
        r = await api.put(f"/v1/candidatures/{cid}/criteres-ght",
                          headers=jeton("etablissement", finess=[SUPPORT]), json={})
        assert r.status_code == 404, r.text


async def test_hospiconnect_pieces_administratives(api: httpx.AsyncClient, moteur: AsyncEngine,
                                                   pieces: PiecesEnMemoire) -> None:
    es = jeton("etablissement", finess=[CALVI])
    r = await api.post("/v1/candidatures", headers=es, json={"dispositif": "hospiconnect", "finess": CALVI})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    async with rien_ecrit(moteur, *ECRITES):
        assert _manquantes(await api.post(f"/v1/candidatures/{cid}/depot", headers=es)) == [
            ("HC.ADM.CANDIDATURE", None)]
        # GHT criteria are phase 1's, for a GHT support only.
        r = await api.put(f"/v1/candidatures/{cid}/criteres-ght", headers=es, json={})
        assert (r.status_code, r.json()["champ"]) == (422, "criteres_ght")

    support = jeton("etablissement", finess=[SUPPORT])
    r = await api.post("/v1/candidatures", headers=support,
                       json={"dispositif": "hospiconnect", "finess": SUPPORT})
    assert r.status_code == 201, r.text
    ght = r.json()["id"]
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post(f"/v1/candidatures/{ght}/depot", headers=support)
        assert _manquantes(r) == [("HC.ADM.CANDIDATURE", None), ("HC.ADM.GHT", None)]
        assert r.json()["pieces"][1]["types"] == ["HC.ADM.GHT.CONVENTION", "HC.ADM.GHT.DECISION"]
    # "One of": the instance's decision is enough, no GHT criteria for HospiConnect.
    pieces.declarer("candidature", ght, "HC.ADM.CANDIDATURE")
    pieces.declarer("candidature", ght, "HC.ADM.GHT.DECISION")
    r = await api.post(f"/v1/candidatures/{ght}/depot", headers=support)
    assert r.status_code == 200, r.text
    assert (await _dernier_evenement(moteur, "CandidatureDeposee"))["criteres_ght"] is None


def _projet(**champs: Any) -> dict[str, Any]:
    corps: dict[str, Any] = {
        "finess": CHAUMONT, "theme": "logistique_produits_sante", "titre": "Traçabilité",
        "description": "Stocks de la PUI.", "objectifs": ["Inventaire permanent"],
        "participants": [CLINIQUE], "perimetre": [CHAUMONT_EG, CLINIQUE],
        "equipe": [{"nom": "Pharmacienne", "fonction": "PUI", "responsable": True}],
        "depenses_prevues": [{"annee": 2026, "montant": "80000.00"}, {"annee": 2027, "montant": "20000.00"}],
    }
    corps.update(champs)
    return corps


async def test_projet_aap_equipe_lettres_validation_ght(api: httpx.AsyncClient, moteur: AsyncEngine,
                                                        pieces: PiecesEnMemoire) -> None:
    lead = jeton("etablissement", finess=[CHAUMONT])
    r = await api.post("/v1/projets", headers=lead, json=_projet())
    if r.status_code != 201:
        pytest.fail(r.text)
    pid = r.json()["id"]
    # A partner letter joined to the draft (POST .../lettres-partenaires joins an AAP.LETTRE piece of
    # the project, test_pieces_api; this module has no piece table rows): stored as it would be.
    async with moteur.begin() as conn:
        await conn.execute(update(ProjetAap).where(ProjetAap.id == pid).values(lettres_partenaires=[
            {"partenaire": "Éditeur", "nom": "lettre.pdf", "sha256": "cd" * 32,
             "piece_id": "00000000-0000-4000-8000-000000000001"}]))
    async with rien_ecrit(moteur, *ECRITES):
        # The lead is a public GHT member (the clinic is private): its GHT validation is owed.
        assert _manquantes(await api.post(f"/v1/projets/{pid}/depot", headers=lead)) == [
            ("AAP.EQUIPE", None), ("AAP.LETTRE", None), ("AAP.VALIDATION_GHT", CHAUMONT)]
    r = await deposer_avec_pieces(api, f"/v1/projets/{pid}", lead, fournir=pieces.fournir("projet", pid))
    assert r.status_code == 200, r.text
    assert (await _dernier_evenement(moteur, "ProjetAapDepose"))["participants_publics_ght"] == [CHAUMONT]

    # Without partner letters, no letter is required.
    r = await api.post("/v1/projets", headers=lead, json=_projet(titre="Autre"))
    assert r.status_code == 201, r.text
    async with rien_ecrit(moteur, *ECRITES):
        assert _manquantes(await api.post(f"/v1/projets/{r.json()['id']}/depot", headers=lead)) == [
            ("AAP.EQUIPE", None), ("AAP.VALIDATION_GHT", CHAUMONT)]

"""HospiConnect through the candidature API on its real database (and the real Kafka its lifespan
connects to): who applies (maille, eligibility, once), the GHT perimeter, declared expenses and
evidence; refusals are problem+json naming the field and write nothing; events go to the outbox in the
same transaction. The local copy of the referentiel is seeded directly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_candidature.models import Candidature, DeclarationDepenses, EtablissementConnu, PreuveHospiconnect
from hopen_common.db.messaging import JournalAudit, OutboxMessage, RequeteIdempotente
from hopen_common.testing import fichiers, jeton
from hopen_common.testing.api import NouveauClient, rien_ecrit
from hopen_common.testing.copies_locales import etablissement_connu

SEUL, SEUL_EG = "2A0002606", "2A0002614"  # public EJ outside a GHT, region 94
SUPPORT, MEMBRE, INELIGIBLE, FERME = "210780581", "520780032", "520780057", "210780631"
PRIVE, PRIVE_EG = "800003071", "800009920"  # private EJ: it applies for all its EG
INCONNU = "750721334"  # published before the referentiel computed phase 2
SHA = "ab" * 32


_etab = etablissement_connu


GHT = {"region": "27", "ght_code": "BFC-03", "maille_phase1": SUPPORT, "maille_hospiconnect": SUPPORT}
ETABLISSEMENTS = [
    _etab(SEUL),
    _etab(SEUL_EG, finess_ej=SEUL, niveau="EG", maille_hospiconnect=SEUL),
    _etab(SUPPORT, **{**GHT, "ght_role": "S", "maille_phase1": SUPPORT}),
    _etab(MEMBRE, **{**GHT, "ght_role": "M"}),
    _etab(INELIGIBLE, **{**GHT, "ght_role": "M"}, eligible_hospiconnect=False),
    _etab(FERME, **{**GHT, "ght_role": "M"}, ferme=True),
    _etab(PRIVE, region="32", secteur="prive_lucratif", maille_phase1=None),
    _etab(PRIVE_EG, finess_ej=PRIVE, region="32", secteur="prive_lucratif", niveau="EG",
          maille_hospiconnect=PRIVE),
    _etab(INCONNU, region="11", eligible_hospiconnect=None, maille_hospiconnect=None),
]


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("candidature"))
    async with engine.begin() as conn:
        await conn.execute(insert(EtablissementConnu), ETABLISSEMENTS)
    yield engine
    await engine.dispose()


# Every table a request could write: a refused one leaves their row counts as they were (rien_ecrit).
ECRITES = (Candidature, DeclarationDepenses, PreuveHospiconnect, JournalAudit, OutboxMessage,
              RequeteIdempotente)


def _probleme(r: httpx.Response, statut: int, champ: str | None) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps: dict[str, Any] = r.json()
    assert corps.get("champ") == champ, corps
    return corps


async def _evenements(engine: AsyncEngine, cle: str, type_: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.scalars(select(OutboxMessage.envelope).where(
            OutboxMessage.key == cle, OutboxMessage.envelope["type"].astext == type_
        ).order_by(OutboxMessage.id))
        return [dict(r["data"]) for r in rows]


async def _deposee(api: httpx.AsyncClient, finess: str) -> str:
    es = jeton("etablissement", finess=[finess])
    r = await api.post("/v1/candidatures", headers=es, json={"dispositif": "hospiconnect", "finess": finess})
    assert r.status_code == 201, r.text
    cid = str(r.json()["id"])
    assert (await api.post(f"/v1/candidatures/{cid}/depot", headers=es)).status_code == 200
    return cid


async def test_hors_fenetre(moteur: AsyncEngine, nouveau_client: NouveauClient) -> None:
    async with nouveau_client(ouvert=False) as client, rien_ecrit(moteur, *ECRITES):
        r = await client.post("/v1/candidatures", headers=jeton("etablissement", finess=[SEUL]),
                              json={"dispositif": "hospiconnect", "finess": SEUL})
    assert "2026-02-13" in _probleme(r, 422, "date")["detail"]  # programme data, deadline included


@pytest.mark.parametrize(("finess", "corps", "champ", "extrait"), [
    (PRIVE_EG, {}, "finess", f"au FINESS {PRIVE}"),  # a private EG: its EJ applies for it
    (MEMBRE, {}, "finess", "support du GHT BFC-03"),
    (INELIGIBLE, {}, "finess", "pas éligible"),
    (INCONNU, {}, "finess", "inconnue"),
    ("010000024", {}, "finess", "inconnu du référentiel"),
    (SEUL, {"objectifs": ["1.0"]}, "objectifs", "ensemble du dispositif"),
    (SEUL, {"objectifs": ["1.0", "1.0"]}, "objectifs", "deux fois"),
    (SUPPORT, {"perimetre": [{"finess_ej": MEMBRE, "objectifs": ["1.0"]}]}, "perimetre", "pas à donner"),
])
async def test_refus(api: httpx.AsyncClient, moteur: AsyncEngine, finess: str, corps: dict[str, Any],
                     champ: str, extrait: str) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/candidatures", headers=jeton("etablissement", finess=[finess]),
                           json={"dispositif": "hospiconnect", "finess": finess, **corps})
    assert extrait in _probleme(r, 422, champ)["detail"]


async def test_support_de_ght_et_une_seule_candidature(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    support = jeton("etablissement", finess=[SUPPORT])
    r = await api.post("/v1/candidatures", headers=support,
                       json={"dispositif": "hospiconnect", "finess": SUPPORT})
    assert r.status_code == 201, r.text
    candidature = r.json()
    # Every open, eligible EJ of the GHT, the support's own included; the whole dispositif.
    assert [m["finess_ej"] for m in candidature["perimetre"]] == [SUPPORT, MEMBRE]
    assert candidature["objectifs"] == ["1.0", "1.1", "1.2", "1.3", "1.4", "2.1", "2.2"]
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/candidatures", headers=support, json={"dispositif": "hospiconnect",
                                                                      "finess": SUPPORT})
    assert _probleme(r, 409, "finess")["candidature_id"] == candidature["id"]
    r = await api.post(f"/v1/candidatures/{candidature['id']}/depot", headers=support)
    assert r.status_code == 200, r.text
    (depot,) = await _evenements(moteur, candidature["id"], "CandidatureDeposee")
    assert depot["dispositif"] == "hospiconnect"
    assert [m["finess_ej"] for m in depot["perimetre"]] == [SUPPORT, MEMBRE]


async def test_depenses_declarees(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    es = jeton("etablissement", finess=[PRIVE], sujet="daf-prive")
    r = await api.post("/v1/candidatures", headers=es, json={"dispositif": "hospiconnect", "finess": PRIVE})
    cid = r.json()["id"]
    corps = {"annee": 2026, "montant": "30000.00"}
    async with rien_ecrit(moteur, *ECRITES):
        assert (await api.post(f"/v1/candidatures/{cid}/depenses", headers=es, json=corps)).status_code == 409
    assert (await api.post(f"/v1/candidatures/{cid}/depot", headers=es)).status_code == 200

    for demande, champ in (
        ({**corps, "montant": 30000.0}, "montant"),  # a JSON float is already rounded in binary
        ({**corps, "montant": "-1.00"}, "montant"),
        ({**corps, "montant": "10.001"}, "montant"),
        ({**corps, "montant": "abc"}, "montant"),
        ({**corps, "annee": 2029}, "annee"),
        ({**corps, "finess_ej": PRIVE_EG}, "finess_ej"),  # not the candidature's EJ
        ({**corps, "remplace": "00000000-0000-0000-0000-000000000000"}, "remplace"),
        ({**corps, "autre": 1}, "autre"),
    ):
        async with rien_ecrit(moteur, *ECRITES):
            _probleme(await api.post(f"/v1/candidatures/{cid}/depenses", headers=es, json=demande),
                      422, champ)
    autre = jeton("etablissement", finess=[SEUL])
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post(f"/v1/candidatures/{cid}/depenses", headers=autre, json=corps)
        assert r.status_code == 404
        r = await api.post(f"/v1/candidatures/{cid}/depenses", headers=jeton("ars", region="32"), json=corps)
        assert r.status_code == 403

    cle = {**es, "Idempotency-Key": "dep-2026-1"}
    premiere = await api.post(f"/v1/candidatures/{cid}/depenses", headers=cle, json=corps)
    assert premiere.status_code == 201, premiere.text
    rejouee = await api.post(f"/v1/candidatures/{cid}/depenses", headers=cle, json=corps)
    assert rejouee.json() == premiere.json()
    assert premiere.json()["montant"] == "30000.00"
    assert premiere.json()["finess_ej"] == PRIVE  # left out: the applicant itself
    (evenement,) = await _evenements(moteur, cid, "DepensesDeclarees")
    assert evenement == {**evenement, "declaration_id": premiere.json()["id"], "candidature_id": cid,
                         "finess": PRIVE, "finess_ej": PRIVE, "region": "32", "annee": 2026,
                         "montant": "30000.00", "declare_par": "daf-prive", "remplace": None}

    # A correction names what it replaces, once; the list says which declarations still count.
    r2027 = await api.post(f"/v1/candidatures/{cid}/depenses", headers=es,
                           json={"annee": 2027, "montant": "1.00"})
    _probleme(await api.post(f"/v1/candidatures/{cid}/depenses", headers=es, json={
        **corps, "remplace": r2027.json()["id"]}), 422, "remplace")  # another year
    correction = await api.post(f"/v1/candidatures/{cid}/depenses", headers=es, json={
        **corps, "montant": "25000.50", "remplace": premiere.json()["id"]})
    assert correction.status_code == 201, correction.text
    async with rien_ecrit(moteur, *ECRITES):
        _probleme(await api.post(f"/v1/candidatures/{cid}/depenses", headers=es, json={
            **corps, "remplace": premiere.json()["id"]}), 422, "remplace")  # already replaced
    liste = (await api.get(f"/v1/candidatures/{cid}/depenses",
                           headers=jeton("ars", region="32"))).json()["items"]
    assert [(d["annee"], d["montant"], d["courante"]) for d in liste] == [
        (2026, "30000.00", False), (2027, "1.00", True), (2026, "25000.50", True)]
    assert (await _evenements(moteur, cid, "DepensesDeclarees"))[-1]["remplace"] == premiere.json()["id"]
    # Issue 7: the year's expenses are declared once; a second first declaration (a double click)
    # would count them twice: 409 naming the current one, nothing written.
    async with rien_ecrit(moteur, *ECRITES):
        doublon = _probleme(await api.post(f"/v1/candidatures/{cid}/depenses", headers=es, json=corps),
                            409, "remplace")
    assert doublon["type"].endswith("/deja-declaree")
    assert doublon["declaration_id"] == correction.json()["id"]

    # Declarations are immutable, whatever the code does.
    async with moteur.begin() as conn:
        with pytest.raises(DBAPIError, match="immuable"):
            await conn.execute(text("UPDATE declaration_depenses SET montant = 0"))


async def test_depenses_d_un_ght(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    async with moteur.connect() as conn:
        cid = await conn.scalar(select(Candidature.id).where(Candidature.finess == SUPPORT))
    es = jeton("etablissement", finess=[SUPPORT])
    corps = {"annee": 2026, "montant": "12000.00"}
    _probleme(await api.post(f"/v1/candidatures/{cid}/depenses", headers=es, json=corps), 422, "finess_ej")
    _probleme(await api.post(f"/v1/candidatures/{cid}/depenses", headers=es,
                             json={**corps, "finess_ej": INELIGIBLE}), 422, "finess_ej")
    r = await api.post(f"/v1/candidatures/{cid}/depenses", headers=es, json={**corps, "finess_ej": MEMBRE})
    assert r.status_code == 201, r.text
    evenement = (await _evenements(moteur, str(cid), "DepensesDeclarees"))[-1]
    assert (evenement["finess"], evenement["finess_ej"], evenement["region"]) == (SUPPORT, MEMBRE, "27")


async def test_preuves(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    cid = await _deposee(api, SEUL)
    es = jeton("etablissement", finess=[SEUL], sujet="dsi-seul")
    # Issue 8: a document is a piece uploaded on the candidature first, named by its id.
    r = await api.post(f"/v1/candidatures/{cid}/pieces", headers=es, data={"type": "HC.1.0.2026"},
                       files={"fichier": ("note.pdf", fichiers.pdf("note"), "application/pdf")})
    assert r.status_code == 201, r.text
    piece = r.json()
    document = {"piece_id": piece["id"]}
    for demande, champ in (
        ({"annee": 2026, "objectif": "1.1", **document}, "objectif"),  # no 2026 target
        ({"annee": 2026, "objectif": "9.9", **document}, "objectif"),
        ({"annee": 2029, "objectif": "1.0", **document}, "annee"),
        ({"annee": 2026, "objectif": "1.0"}, "piece_id"),
        ({"annee": 2026, "objectif": "1.0", **document, "numerateur": 1}, "numerateur"),
        ({"annee": 2027, "objectif": "2.1", **document}, "piece_id"),  # a rate objective
        ({"annee": 2027, "objectif": "2.1", "numerateur": 3}, "denominateur"),
        ({"annee": 2027, "objectif": "2.1", "numerateur": 5, "denominateur": 4}, "numerateur"),
        ({"annee": 2027, "objectif": "2.1", "numerateur": 0, "denominateur": 0}, "denominateur"),
        ({"annee": 2026, "objectif": "1.0", "piece_id": "xyz"}, "piece_id"),
        # The metadata a client typed before issue 8 is no longer accepted.
        ({"annee": 2026, "objectif": "1.0", "document": {"nom": "n.pdf", "type": "t", "sha256": SHA}},
         "document"),
    ):
        async with rien_ecrit(moteur, *ECRITES):
            _probleme(await api.post(f"/v1/candidatures/{cid}/preuves", headers=es, json=demande), 422, champ)
    r = await api.post(f"/v1/candidatures/{cid}/preuves", headers=es,
                       json={"annee": 2026, "objectif": "1.0", **document})
    assert r.status_code == 201, r.text
    r = await api.post(f"/v1/candidatures/{cid}/preuves", headers=es,
                       json={"annee": 2027, "objectif": "2.1", "numerateur": 3, "denominateur": 4})
    assert r.status_code == 201, r.text
    doc, taux = await _evenements(moteur, cid, "PreuveHospiconnectDeposee")
    assert (doc["nature"], doc["document"], doc["finess_ej"]) == ("document", {
        "piece_id": piece["id"], "nom": "note.pdf", "type": "HC.1.0.2026", "sha256": piece["sha256"]}, SEUL)
    assert (taux["nature"], taux["numerateur"], taux["denominateur"], taux["document"]) == (
        "taux", 3, 4, None)
    liste = (await api.get(f"/v1/candidatures/{cid}/preuves", headers=es)).json()["items"]
    assert [p["objectif"] for p in liste] == ["1.0", "2.1"]
    # Phase-1 indicators do not apply to a HospiConnect candidature.
    r = await api.post(f"/v1/candidatures/{cid}/indicateurs", headers=es,
                       json={"objectif": "P1.O1", "numerateur": 1, "denominateur": 2})
    _probleme(r, 409, None)
    # Another establishment, another region: as if it did not exist.
    assert (await api.get(f"/v1/candidatures/{cid}/preuves",
                          headers=jeton("etablissement", finess=[PRIVE]))).status_code == 404
    r = await api.get(f"/v1/candidatures/{cid}/preuves", headers=jeton("ars", region="11"))
    assert r.status_code == 404
    assert (await api.get(f"/v1/candidatures/{cid}/preuves", headers=jeton("dns"))).status_code == 200

"""The referentiel API on its real database: imports by upload (DNS/ops only, problem+json for a
file unreadable as a whole, nothing written), establishments with their three dispositifs,
GHT, search filters, programme versions (DNS-only publication)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.db.messaging import JournalAudit, OutboxMessage
from hopen_common.programme.phase1 import lire_donnees
from hopen_common.testing import jeton
from hopen_common.testing.api import compter
from hopen_referentiel.main import create_app
from hopen_referentiel.models import EntiteJuridique, ImportFichier, VersionProgramme
from hopen_referentiel.settings import ReferentielSettings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ECHANTILLON = FIXTURES / "finess" / "finess-structures-echantillon_json.gz"
DNS = jeton("dns")
ARS = jeton("ars", region="27")
SUPPORT = "210780581"


@dataclass
class Api:
    client: httpx.AsyncClient
    engine: AsyncEngine


@pytest.fixture(scope="module")
async def api(fresh_database: Callable[[str], str]) -> AsyncIterator[Api]:
    url = fresh_database("referentiel")
    app = create_app(ReferentielSettings(database_url=url, workers_in_process=False))
    engine = build_engine(url)
    # No lifespan: nothing here needs Kafka (events stay in the outbox).
    app.state.engine = engine
    app.state.sessionmaker = build_sessionmaker(engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://referentiel") as client:
        yield Api(client, engine)
    await engine.dispose()


def _probleme(r: httpx.Response, statut: int, champ: str | None) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps: dict[str, Any] = r.json()
    assert corps.get("champ") == champ, corps
    return corps


async def test_import_reserve_a_la_dns_et_aux_ops(api: Api) -> None:
    r = await api.client.post("/v1/imports/finess", headers=ARS,
                              files={"fichier": ("f.json.gz", ECHANTILLON.read_bytes())})
    _probleme(r, 403, None)
    assert await compter(api.engine, EntiteJuridique) == 0


async def test_fichier_tronque_problem_json_et_rien_d_ecrit(api: Api) -> None:
    r = await api.client.post("/v1/imports/finess", headers=DNS,
                              files={"fichier": ("f.json.gz", ECHANTILLON.read_bytes()[:100_000])})
    corps = _probleme(r, 422, "fichier")
    assert corps["type"].endswith("fichier-fichier-tronque")
    assert await compter(api.engine, EntiteJuridique) == 0
    assert await compter(api.engine, ImportFichier) == 0
    r = await api.client.post("/v1/imports/finess", headers=DNS, files={"fichier": ("f.txt", b"bonjour")})
    _probleme(r, 422, "fichier")
    r = await api.client.post("/v1/imports/base-eligible", headers=DNS,
                              files={"fichier": ("ac.csv", b"finess_pmsi;annee\n")})
    _probleme(r, 422, "type_donnees")


async def test_import_de_l_echantillon_puis_lecture(api: Api) -> None:
    r = await api.client.post("/v1/imports/finess", headers=DNS,
                              files={"fichier": (ECHANTILLON.name, ECHANTILLON.read_bytes())})
    assert r.status_code == 201, r.text
    rapport = r.json()
    assert rapport["rejets"] == 0
    assert rapport["compteurs"]["etablissements"]["crees"] == 1753
    assert rapport["demande_par"] == "test-dns"

    journal = (await api.client.get("/v1/imports", headers=DNS)).json()
    assert [i["id"] for i in journal["items"]] == [rapport["id"]]
    signalements = (await api.client.get(f"/v1/imports/{rapport['id']}/signalements", headers=DNS)).json()
    assert signalements["total"] == 0

    again = await api.client.post("/v1/imports/finess", headers=DNS,
                                  files={"fichier": (ECHANTILLON.name, ECHANTILLON.read_bytes())})
    assert again.status_code == 201
    assert again.json()["identique_a"] == rapport["id"]


async def test_ght_avec_son_support_et_ses_huit_membres(api: Api) -> None:
    r = await api.client.get("/v1/ghts/1", headers=ARS)
    assert r.status_code == 200, r.text
    ght = r.json()
    assert ght["support"] == SUPPORT
    assert ght["libelle"] == "21-52 Côte d'Or-Haute-Marne"
    assert len(ght["membres"]) == 9
    assert (await api.client.get("/v1/ghts", headers=ARS)).json()["total"] == 1
    _probleme(await api.client.get("/v1/ghts/ZZ-99", headers=ARS), 404, None)


async def test_fiche_d_un_membre_de_ght_par_dispositif(api: Api) -> None:
    es = jeton("etablissement", finess=["520780032"])
    r = await api.client.get("/v1/etablissements/520780032", headers=es)
    assert r.status_code == 200, r.text
    fiche = r.json()
    assert fiche["region"] == "44"
    assert fiche["ght"] == {"code": "1", "role": "M", "support": SUPPORT}
    assert set(fiche["dispositifs"]) == {"phase1", "hospiconnect", "aap"}
    for dispositif in fiche["dispositifs"].values():
        assert dispositif["eligible"] is False  # no activity imported yet
        assert {r["code"][-2:] for r in dispositif["regles_non_satisfaites"]} == {"E2"}
        assert all(r["libelle"] for r in dispositif["regles_satisfaites"])
    assert fiche["dispositifs"]["hospiconnect"]["maille"] == {"type": "GHT", "finess": SUPPORT, "ght": "1"}
    assert fiche["dispositifs"]["aap"]["maille"] == {"type": "EJ", "finess": "520780032", "ght": None}


async def test_fiche_hors_perimetre_calculee_a_la_demande(api: Api) -> None:
    # 010000016: an EJ of statut 21 (social and medico-social), in the sample.
    r = await api.client.get("/v1/etablissements/010000016", headers=DNS)
    assert r.status_code == 200, r.text
    fiche = r.json()
    assert fiche["dans_le_perimetre"] is False
    assert fiche["secteur"] is None
    assert "P1.E0" in {r["code"] for r in fiche["dispositifs"]["phase1"]["regles_non_satisfaites"]}
    _probleme(await api.client.get("/v1/etablissements/750000002", headers=DNS), 404, None)
    # A wrong check key is not a FINESS at all (issue 7: one FINESS type, key checked everywhere).
    _probleme(await api.client.get("/v1/etablissements/750000000", headers=DNS), 422, "finess")


async def test_recherche_filtree_et_paginee(api: Api) -> None:
    r = await api.client.get("/v1/etablissements", headers=ARS, params={"ght": "1", "niveau": "EJ"})
    assert r.status_code == 200
    assert {f["finess"] for f in r.json()["items"]} >= {SUPPORT, "520780032"}
    assert r.json()["total"] == 9
    page = (await api.client.get("/v1/etablissements", headers=ARS,
                                 params={"region": "27", "limit": 2, "offset": 1})).json()
    assert len(page["items"]) == 2
    assert page["total"] > 2
    assert all(f["region"] == "27" for f in page["items"])
    publics = (await api.client.get("/v1/etablissements", headers=ARS,
                                    params={"secteur": "public", "eligible_hospiconnect": False})).json()
    assert publics["total"] > 0
    assert all(f["secteur"] == "public" and not f["dispositifs"]["hospiconnect"]["eligible"]
               for f in publics["items"])


async def test_programme_versionne_publie_par_la_dns(api: Api) -> None:
    lus = (await api.client.get("/v1/programme", headers=ARS)).json()["items"]
    documents = {d["document"]: d for d in lus}
    assert set(documents) == {"phase1", "hospiconnect", "aap", "enveloppes_aap", "pieces"}
    courante = (await api.client.get("/v1/programme/enveloppes_aap", headers=ARS)).json()
    assert courante["version"] == "2026.1"
    assert courante["contenu"]["total_keur"] == "87200"

    nouvelle = {**courante["contenu"], "version": "2026.2"}
    corps = {"version": "2026.2", "motivation": "reallocation d'enveloppe (test)", "contenu": nouvelle}
    url = "/v1/programme/enveloppes_aap/versions"
    _probleme(await api.client.post(url, headers=ARS, json=corps), 403, None)
    evenements = await compter(api.engine, OutboxMessage)
    cle = {"Idempotency-Key": "programme-2026.2"}
    r = await api.client.post(url, headers={**DNS, **cle}, json=corps)
    assert r.status_code == 201, r.text
    rejoue = await api.client.post(url, headers={**DNS, **cle}, json=corps)
    assert rejoue.status_code == 201
    assert rejoue.headers.get("Idempotent-Replayed") == "true"
    assert await compter(api.engine, VersionProgramme, VersionProgramme.document == "enveloppes_aap") == 2
    assert await compter(api.engine, OutboxMessage) == evenements + 1
    async with api.engine.connect() as conn:
        envoi = (await conn.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1))).one()
        audit = await conn.scalar(select(func.count()).select_from(JournalAudit).where(
            JournalAudit.objet_id == "enveloppes_aap/2026.2"))
    assert envoi.topic == "hopen.referentiel.programme"
    assert envoi.envelope["type"] == "ProgrammePublie"
    assert envoi.envelope["data"]["contenu"]["version"] == "2026.2"
    assert audit == 1
    assert (await api.client.get("/v1/programme/enveloppes_aap", headers=ARS)).json()["version"] == "2026.2"
    ancienne = await api.client.get("/v1/programme/enveloppes_aap/versions/2026.1", headers=ARS)
    assert ancienne.json()["contenu"]["version"] == "2026.1"

    # A published version is never replaced; numbers stay exact decimal strings.
    _probleme(await api.client.post(url, headers=DNS, json=corps), 422, "version")
    contenu = json.loads(json.dumps({**nouvelle, "version": "2026.3", "total_keur": 87200.5}))
    flottant = {**corps, "version": "2026.3", "contenu": contenu}
    _probleme(await api.client.post(url, headers=DNS, json=flottant), 422, "contenu")
    # A phase-1 document must still load with the shared loader (2024.2 is shipped: the next is 2024.3).
    casse = {"version": "2024.3", "motivation": "test", "contenu": {"version": "2024.3", "objectifs": []}}
    _probleme(await api.client.post("/v1/programme/phase1/versions", headers=DNS, json=casse), 422, "contenu")


async def test_programme_phase1_livre_par_versions_epinglees(api: Api) -> None:
    """2024.1 stays as migration 0002 seeded it; 2024.2 (ADR 0007) is seeded by 0003 and is current."""
    for version, migration in (("2024.1", "migration 0002"), ("2024.2", "migration 0003")):
        livree = (await api.client.get(f"/v1/programme/phase1/versions/{version}", headers=ARS)).json()
        assert livree["source"] == f"hopen_common/programme/data/phase1_v{version}.json"
        assert livree["contenu"] == lire_donnees("phase1", version)
        assert livree["publie_par"] == migration
    assert (await api.client.get("/v1/programme/phase1", headers=ARS)).json()["version"] == "2024.2"


async def test_programme_aap_livre_depuis_hopen_common(api: Api) -> None:
    """The referentiel serves the AAP files every service loads (no copy of its own), and a new AAP
    version must still load with the shared loader."""
    for document in ("aap", "enveloppes_aap"):
        livree = (await api.client.get(f"/v1/programme/{document}/versions/2026.1", headers=ARS)).json()
        assert livree["source"] == f"hopen_common/programme/data/{document}_v2026.1.json"
        assert livree["contenu"] == lire_donnees(document, "2026.1")
    aap = (await api.client.get("/v1/programme/aap/versions/2026.1", headers=ARS)).json()["contenu"]
    casse = {**aap, "version": "2026.2", "themes": [{**aap["themes"][0], "condition": "aucune"}]}
    corps = {"version": "2026.2", "motivation": "test", "contenu": casse}
    _probleme(await api.client.post("/v1/programme/aap/versions", headers=DNS, json=corps), 422, "contenu")
    assert await compter(api.engine, VersionProgramme, VersionProgramme.document == "aap") == 1


async def test_programme_pieces_livre_par_la_migration_0005(api: Api) -> None:
    """The pieces each dispositif requires (issue 8) are a programme document like the others: seeded
    from the file every service loads, and a new version must still load with the shared loader."""
    livree = (await api.client.get("/v1/programme/pieces/versions/2026.1", headers=ARS)).json()
    assert livree["source"] == "hopen_common/programme/data/pieces_v2026.1.json"
    assert livree["contenu"] == lire_donnees("pieces", "2026.1")
    assert livree["publie_par"] == "migration 0005"
    casse = {**livree["contenu"], "version": "2026.2",
             "exigences": [{**livree["contenu"]["exigences"][0], "condition": "parfois"}]}
    corps = {"version": "2026.2", "motivation": "test", "contenu": casse}
    _probleme(await api.client.post("/v1/programme/pieces/versions", headers=DNS, json=corps), 422, "contenu")
    assert await compter(api.engine, VersionProgramme, VersionProgramme.document == "pieces") == 1

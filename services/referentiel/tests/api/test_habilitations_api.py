"""/v1/habilitations on the referentiel's real database and the real OIDC provider (issue 10, ADR 0022):
who may grant what (DNS, a region's référent, ops), nobody their own rights, one habilitation per
person, the history, audit and event of each change, the optimistic lock, the scoped lists, the
regions without référent against annex 3's deadline, and an identity provider's token resolved by
the rights written here (403 sans-habilitation without, 403 again once revoked)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hopen_common.auth import Role
from hopen_common.db import build_engine, build_sessionmaker, session_scope
from hopen_common.db.messaging import HabilitationConnue, JournalAudit, OutboxMessage
from hopen_common.testing import jeton
from hopen_common.testing.plugin import OidcProviderInfo
from hopen_referentiel.habilitations import service
from hopen_referentiel.main import create_app
from hopen_referentiel.models import HistoriqueHabilitation
from hopen_referentiel.settings import ReferentielSettings

# A trusted identity provider that is never called here: the habilitations are written for its
# persons by development tokens (whose own rights are their claims).
PROCONNECT = "https://auth.proconnect.exemple.gouv.fr/api/v2"
DNS = jeton("dns")
OPS = jeton("ops")
REFERENT_94 = jeton("ars", region="94", sujet="referent-94", referent=True)
AGENT_94 = jeton("ars", region="94", sujet="agent-94")
REFERENT_11 = jeton("ars", region="11", sujet="referent-11", referent=True)
ETABLISSEMENT = jeton("etablissement", finess=["2B0005342"])


@dataclass
class Api:
    client: httpx.AsyncClient
    engine: AsyncEngine
    oidc: OidcProviderInfo


@pytest.fixture(scope="module")
async def api(fresh_database: Callable[[str], str], oidc_provider: OidcProviderInfo) -> AsyncIterator[Api]:
    url = fresh_database("referentiel")
    reglages = oidc_provider.reglages()
    reglages["jwt_emetteurs"] = {**reglages["jwt_emetteurs"], PROCONNECT: "http://127.0.0.1:9/jwks"}  # type: ignore[dict-item]
    app = create_app(ReferentielSettings(database_url=url, workers_in_process=False,
                                         date_du_jour=date(2024, 9, 24), **reglages))
    engine = build_engine(url)
    app.state.engine = engine
    app.state.sessionmaker = build_sessionmaker(engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://referentiel") as client:
        yield Api(client, engine, oidc_provider)
    await engine.dispose()


def _agent(sujet: str, region: str = "94", **autres: Any) -> dict[str, Any]:
    return {"emetteur": PROCONNECT, "sujet": sujet, "role": "ars", "region": region,
            "profils": ["instructeur"], "nom": "Agent " + sujet, "courriel": f"{sujet}@ars.sante.fr",
            "motivation": "arrivée dans le service", **autres}


def _probleme(r: httpx.Response, statut: int, code: str, champ: str | None = None) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps: dict[str, Any] = r.json()
    assert corps["type"].endswith("/" + code), corps
    if champ is not None:
        assert corps.get("champ") == champ, corps
    return corps


async def _nombre(engine: AsyncEngine, modele: Any, *conditions: Any) -> int:
    async with session_scope(build_sessionmaker(engine)) as session:
        return len(list(await session.scalars(select(modele).where(*conditions))))


async def test_la_dns_nomme_un_agent_avec_historique_audit_et_evenement(api: Api) -> None:
    sujet = f"valideur-{uuid.uuid4().hex[:6]}"
    r = await api.client.post("/v1/habilitations", headers=DNS,
                              json=_agent(sujet, profils=["instructeur", "valideur"]))
    assert r.status_code == 201, r.text
    lue = r.json()
    assert (lue["role"], lue["region"], lue["profils"], lue["version"], lue["actif"]) == (
        "ars", "94", ["instructeur", "valideur"], 1, True)
    assert r.headers["etag"] == '"1"'
    identifiant = lue["id"]
    historique = (await api.client.get(f"/v1/habilitations/{identifiant}/historique", headers=DNS)).json()
    assert [(h["version"], h["action"], h["avant"], h["par"]) for h in historique] == [
        (1, "creation", None, "test-dns")]
    assert historique[0]["apres"]["profils"] == ["instructeur", "valideur"]
    assert await _nombre(api.engine, JournalAudit, JournalAudit.objet_id == identifiant,
                         JournalAudit.action == "habilitation_creation", JournalAudit.region == "94") == 1
    async with session_scope(build_sessionmaker(api.engine)) as session:
        evenements = list(await session.scalars(
            select(OutboxMessage).where(OutboxMessage.key == identifiant)))
    assert [e.envelope["type"] for e in evenements] == ["HabilitationModifiee"]
    donnees = evenements[0].envelope["data"]
    assert (donnees["sujet"], donnees["version"], donnees["actif"]) == (sujet, 1, True)
    assert "nom" not in donnees  # no personal data travels
    assert "courriel" not in donnees

    # One habilitation per person.
    _probleme(await api.client.post("/v1/habilitations", headers=DNS, json=_agent(sujet)), 409,
              "habilitation-existante", "sujet")


async def test_le_referent_nomme_les_agents_de_sa_region_et_rien_d_autre(api: Api) -> None:
    r = await api.client.post("/v1/habilitations", headers=REFERENT_94,
                              json=_agent(f"a-{uuid.uuid4().hex[:6]}"))
    assert r.status_code == 201, r.text
    avant = await _nombre(api.engine, HabilitationConnue)
    _probleme(await api.client.post("/v1/habilitations", headers=REFERENT_94, json=_agent("x", region="11")),
              403, "hors-perimetre", "region")
    _probleme(await api.client.post("/v1/habilitations", headers=REFERENT_94,
                                    json=_agent("y", referent=True)), 403, "role-interdit", "referent")
    _probleme(await api.client.post("/v1/habilitations", headers=REFERENT_94,
                                    json={**_agent("z"), "role": "dns", "region": None, "profils": []}),
              403, "role-interdit", "role")
    # An agent who is not the référent names nobody, nor does an establishment.
    _probleme(await api.client.post("/v1/habilitations", headers=AGENT_94, json=_agent("w")), 403,
              "role-interdit")
    _probleme(await api.client.post("/v1/habilitations", headers=ETABLISSEMENT, json=_agent("v")), 403,
              "role-interdit")
    # The DNS does not name the technical accounts; ops names only them.
    ops = {"emetteur": PROCONNECT, "sujet": "robot-sauvegarde", "role": "ops",
           "motivation": "compte technique"}
    _probleme(await api.client.post("/v1/habilitations", headers=DNS, json=ops), 403, "role-interdit", "role")
    _probleme(await api.client.post("/v1/habilitations", headers=OPS, json=_agent("u")), 403, "role-interdit",
              "role")
    assert (await api.client.post("/v1/habilitations", headers=OPS, json=ops)).status_code == 201
    assert await _nombre(api.engine, HabilitationConnue) == avant + 1


async def test_etats_invalides_422_nommant_le_champ_et_rien_d_ecrit(api: Api) -> None:
    avant = await _nombre(api.engine, HabilitationConnue)
    cas = [
        ({"emetteur": PROCONNECT, "sujet": "e1", "role": "etablissement", "motivation": "m"}, "finess"),
        ({**_agent("e2"), "region": None}, "region"),
        ({**_agent("e3"), "emetteur": "https://inconnu.example"}, "emetteur"),
        ({**_agent("e4"), "emetteur": "hopen-dev"}, "emetteur"),
        ({"emetteur": PROCONNECT, "sujet": "e5", "role": "dns", "profils": ["valideur"], "motivation": "m"},
         "profils"),
    ]
    for corps, champ in cas:
        _probleme(await api.client.post("/v1/habilitations", headers=DNS, json=corps), 422, "regle-metier",
                  champ)
    r = await api.client.post("/v1/habilitations", headers=DNS, json={**_agent("e6"), "profils": ["chef"]})
    assert r.status_code == 422, r.text
    r = await api.client.post("/v1/habilitations", headers=DNS, json={**_agent("e7"), "inconnu": 1})
    assert r.status_code == 422, r.text
    assert await _nombre(api.engine, HabilitationConnue) == avant


async def test_modification_verrou_optimiste_et_revocation(api: Api) -> None:
    r = await api.client.post("/v1/habilitations", headers=DNS, json=_agent(f"m-{uuid.uuid4().hex[:6]}"))
    identifiant = r.json()["id"]
    url = f"/v1/habilitations/{identifiant}"
    r = await api.client.patch(url, headers={**DNS, "If-Match": '"1"'},
                               json={"profils": ["valideur"], "motivation": "devient valideur"})
    assert r.status_code == 200, r.text
    assert (r.json()["profils"], r.json()["version"], r.headers["etag"]) == (["valideur"], 2, '"2"')
    # A change made meanwhile (the reader saw version 1): 412, nothing written.
    _probleme(await api.client.patch(url, headers={**DNS, "If-Match": '"1"'},
                                     json={"profils": ["instructeur"], "motivation": "m"}), 412,
              "version-perimee", "If-Match")
    # The référent of another region does not see it (404, no existence leak); its own région's does.
    _probleme(await api.client.get(url, headers=REFERENT_11), 404, "introuvable")
    assert (await api.client.get(url, headers=AGENT_94)).status_code == 200
    r = await api.client.post(f"{url}/revocation", headers=REFERENT_94, json={"motivation": "départ"})
    assert r.status_code == 200, r.text
    assert (r.json()["actif"], r.json()["version"]) == (False, 3)
    _probleme(await api.client.post(f"{url}/revocation", headers=DNS, json={"motivation": "encore"}), 422,
              "regle-metier", "actif")
    r = await api.client.patch(url, headers=DNS, json={"actif": True, "motivation": "retour"})
    assert (r.status_code, r.json()["actif"], r.json()["version"]) == (200, True, 4)
    actions = [h["action"] for h in (await api.client.get(f"{url}/historique", headers=DNS)).json()]
    assert actions == ["creation", "modification", "revocation", "modification"]
    assert await _nombre(api.engine, HistoriqueHabilitation,
                         HistoriqueHabilitation.habilitation_id == uuid.UUID(identifiant)) == 4
    # The history is immutable, whatever the code would try.
    async with build_sessionmaker(api.engine)() as session:
        with pytest.raises(Exception, match="immuable"):
            await session.execute(HistoriqueHabilitation.__table__.delete())


async def test_listes_restreintes_au_lecteur(api: Api) -> None:
    await api.client.post("/v1/habilitations", headers=DNS,
                          json=_agent(f"l-{uuid.uuid4().hex[:6]}", region="11"))
    tout = (await api.client.get("/v1/habilitations?limit=500", headers=DNS)).json()
    assert {h["region"] for h in tout["items"]} >= {"94", "11"}
    region_94 = (await api.client.get("/v1/habilitations?limit=500", headers=AGENT_94)).json()
    assert region_94["items"]
    assert {(h["role"], h["region"]) for h in region_94["items"]} == {("ars", "94")}
    _probleme(await api.client.get("/v1/habilitations?region=11", headers=AGENT_94), 403, "hors-perimetre",
              "region")
    ops = (await api.client.get("/v1/habilitations?limit=500", headers=OPS)).json()
    assert {h["role"] for h in ops["items"]} <= {"ops"}
    _probleme(await api.client.get("/v1/habilitations", headers=ETABLISSEMENT), 403, "role-interdit")


async def test_regions_sans_referent_avant_la_fin_des_candidatures(api: Api) -> None:
    avant = (await api.client.get("/v1/habilitations/referents/manquants", headers=DNS)).json()
    # Annex 3 of the phase-1 instruction: before the end of its candidature period, 4 October 2024 (its
    # calendar, phase1_v2024.2); today is pinned to 24 September 2024.
    assert (avant["echeance"], avant["jours_restants"], avant["echeance_depassee"]) == (
        "2024-10-04", 10, False)
    codes = [r["code"] for r in avant["regions"]]
    assert "53" in codes
    r = await api.client.post("/v1/habilitations", headers=DNS,
                              json=_agent(f"ref-53-{uuid.uuid4().hex[:6]}", region="53", referent=True))
    assert r.status_code == 201, r.text
    apres = (await api.client.get("/v1/habilitations/referents/manquants", headers=DNS)).json()
    assert [r["code"] for r in apres["regions"]] == [c for c in codes if c != "53"]
    _probleme(await api.client.get("/v1/habilitations/referents/manquants", headers=REFERENT_94), 403,
              "role-interdit")


async def test_jeton_oidc_resolu_par_nos_habilitations_et_jamais_les_siennes(api: Api) -> None:
    """The provider's token of a person without rights is 403; granted DNS by the bootstrap, the same
    person manages others but not itself; revoked by another DNS person, refused again."""
    sujet = f"dns-{uuid.uuid4().hex[:6]}"
    entete = api.oidc.entete(sujet)
    _probleme(await api.client.get("/v1/habilitations/moi", headers=entete), 403, "sans-habilitation")
    async with session_scope(build_sessionmaker(api.engine)) as session:
        ligne = await service.amorcer(session, emetteur=api.oidc.issuer, sujet=sujet, role=Role.DNS, nom=None,
                                      motivation="amorçage du test", par="amorcage:test")
    moi = await api.client.get("/v1/habilitations/moi", headers=entete)
    assert (moi.status_code, moi.json()["id"], moi.json()["role"]) == (200, str(ligne.id), "dns")
    _probleme(await api.client.patch(f"/v1/habilitations/{ligne.id}", headers=entete,
                                     json={"role": "dns", "motivation": "moi-même"}), 403,
              "auto-habilitation")
    # The bootstrap is once: a second DNS comes through the API.
    async with session_scope(build_sessionmaker(api.engine)) as session:
        with pytest.raises(Exception, match="amorçage est fait"):
            await service.amorcer(session, emetteur=api.oidc.issuer, sujet="autre", role=Role.DNS, nom=None,
                                  motivation="m", par="amorcage:test")
    autre = f"dns-{uuid.uuid4().hex[:6]}"
    r = await api.client.post("/v1/habilitations", headers=entete,
                              json={"emetteur": api.oidc.issuer, "sujet": autre, "role": "dns",
                                    "motivation": "binôme"})
    assert r.status_code == 201, r.text
    r = await api.client.post(f"/v1/habilitations/{ligne.id}/revocation", headers=api.oidc.entete(autre),
                              json={"motivation": "départ"})
    assert r.status_code == 200, r.text
    _probleme(await api.client.get("/v1/habilitations/moi", headers=entete), 403, "sans-habilitation")



async def test_personnes_de_demo_avec_de_vrais_jetons(api: Api) -> None:
    """`make up` grants the demo persons at the dev stack's provider: alice's real token is an
    instructeur of Corse; seeding again grants nothing twice."""
    from hopen_referentiel.seed_demo import PERSONNES_DEMO, habiliter_demo

    url = api.engine.url.render_as_string(hide_password=False)
    emetteurs = frozenset({api.oidc.issuer})
    assert await habiliter_demo(url, emetteurs) == len(PERSONNES_DEMO)
    assert await habiliter_demo(url, emetteurs) == 0
    moi = (await api.client.get("/v1/habilitations/moi", headers=api.oidc.entete("alice"))).json()
    assert (moi["role"], moi["region"], moi["profils"], moi["referent"]) == (
        "ars", "94", ["instructeur"], False)
    referente = (await api.client.get("/v1/habilitations/moi", headers=api.oidc.entete("corinne"))).json()
    assert referente["referent"] is True

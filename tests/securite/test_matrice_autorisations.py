"""The authorization matrix (issue 12 point 4, ADR 0029): every route of the five services, called as
each kind of caller, on each service's real database, answers what the route declares.

Expectations are derived from each route's declaration (`hopen_common.auth.declaration`): what
`exiger_roles`, `CurrentPrincipal`, `PrincipalAuthentifie` or `route_publique` say in its
dependencies. A route without a readable declaration fails the test. For every (route, caller):

- no token: 401 (a public route: never 401/403, never 5xx);
- a role outside the declaration: 403 `role-interdit`, whatever the body and the ids (the role is
  checked before validation and before any lookup);
- a role inside: never 401, never 403 `role-interdit`, never 5xx; ids that do not exist answer
  404/409/422, and where the route narrows by scope (`hopen_common.auth.portee`) a 403
  `hors-perimetre` or a 404 is the right answer for the wrong region or establishment;
- never a 2xx for a write by a caller outside the scope it names (another establishment, another
  region's ARS);
- every error is problem+json.

Path parameters are syntactically valid but nonexistent (UUIDs, the owner's FINESS, region 94), JSON
bodies are the smallest instance of the route's OpenAPI schema naming the owner's FINESS and region,
so that most requests get past validation to the scope checks. The second part reads real resources
(a candidature of a Corse establishment, its dossier in instruction, its lines in financement) as
each caller: another establishment and another region's ARS get 404 (existence does not leak), the
owner, the region's ARS and the DNS get 200."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from hopen_candidature.models import EtablissementConnu
from hopen_common.auth.declaration import (
    Acces,
    Declaration,
    DeclarationManquante,
    RouteDeclaree,
    declaration_de,
    routes_de,
)
from hopen_common.auth.principal import Role
from hopen_common.contracts import CandidatureValidee, EtablissementPublie, ObjectifAtteint
from hopen_common.events import Evenement, decoder_payload, nouvel_evenement
from hopen_common.testing import jeton
from hopen_common.testing.api import client_api
from hopen_common.testing.copies_locales import etablissement_connu
from hopen_common.testing.services import Services
from hopen_financement.consumers import HANDLERS
from hopen_instruction.models import Dossier

SERVICES = ("referentiel", "candidature", "instruction", "financement", "reporting")
REGION, AUTRE_REGION = "94", "11"  # Corse, Ile-de-France
PROPRIETAIRE, AUTRE_ES = "2A0002606", "210780581"  # valid check keys; the owner is in Corse

# (name, role, headers): the nine kinds of caller of the matrix.
APPELANTS: list[tuple[str, Role | None, dict[str, str]]] = [
    ("sans-jeton", None, {}),
    ("autre-etablissement", Role.ETABLISSEMENT,
     jeton("etablissement", finess=[AUTRE_ES], sujet="m-autre-es")),
    ("etablissement", Role.ETABLISSEMENT, jeton("etablissement", finess=[PROPRIETAIRE], sujet="m-es")),
    ("ars-autre-region", Role.ARS, jeton("ars", region=AUTRE_REGION, sujet="m-ars-idf")),
    ("ars-instructeur", Role.ARS, jeton("ars", region=REGION, sujet="m-ars-instructeur")),
    ("ars-valideur", Role.ARS, jeton("ars", region=REGION, profils=["valideur"], sujet="m-ars-valideur")),
    ("dns", Role.DNS, jeton("dns", sujet="m-dns")),
    ("ops", Role.OPS, jeton("ops", sujet="m-ops")),
    ("expert", Role.EXPERT, jeton("expert", sujet="m-expert")),
]
# Callers outside the owner's scope: a write of theirs naming the owner's FINESS or region is a hole
# if it succeeds.
HORS_PORTEE = {"autre-etablissement", "ars-autre-region"}
# Writes that store nothing of anyone's (calculators): a 2xx is right for every caller they admit.
SANS_PORTEE = {("financement", "POST", "/v1/simulations/phase1"),
               ("financement", "POST", "/v1/simulations/hospiconnect")}
ECRITURES = {"POST", "PUT", "PATCH", "DELETE"}
# The two-person rule (ADR 0023) narrows some ARS routes to a profile, which a route's declaration
# does not carry (it names roles): an ARS agent without the instructeur profile who proposes a
# decision gets 403 role-interdit saying so (`hopen_common.propositions.exiger_proposeur`), before
# any lookup. That answer is right for the valideur caller, and only for it.
REFUS_DE_PROFIL = {"ars-valideur": "seul un instructeur de l'ARS propose"}


# --- requests built from the route ---------------------------------------------------------------

def _valeur_nommee(nom: str) -> Any:
    """A value for a parameter or a field, from its name: the owner's scope, or an id that exists
    nowhere."""
    nom = nom.lower()
    if nom in ("finess", "finess_ej", "finess_geographique") or nom.startswith("finess"):
        return PROPRIETAIRE
    if nom in ("region", "code", "code_region"):
        return REGION
    if nom == "annee":
        return "2026"
    if nom == "objectif":
        return "P1.O1"
    if nom == "version":
        return "1"
    if nom.endswith("_id") or nom == "id":
        return str(uuid.uuid4())
    return None


def _chemin(route: RouteDeclaree) -> str:
    valeurs = {nom: _valeur_nommee(nom) or "inexistant" for nom in route.convertisseurs}
    return route.chemin.format(**valeurs)


def _resoudre(schema: dict[str, Any], openapi: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        nom = schema["$ref"].rsplit("/", 1)[1]
        schema = openapi["components"]["schemas"][nom]
    return schema


def _instance(schema: dict[str, Any], openapi: dict[str, Any], nom: str = "", profondeur: int = 0) -> Any:
    """The smallest instance of a JSON schema: required properties only, the owner's FINESS and region
    where a field names them (nothing here needs to be accepted: it needs to reach the scope checks)."""
    schema = _resoudre(schema, openapi)
    if profondeur > 6:
        return None
    for cle in ("anyOf", "oneOf"):
        if cle in schema:
            options = [s for s in schema[cle] if _resoudre(s, openapi).get("type") != "null"]
            return _instance(options[0], openapi, nom, profondeur + 1) if options else None
    if "allOf" in schema:
        return _instance(schema["allOf"][0], openapi, nom, profondeur + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    genre = schema.get("type")
    if genre == "object" or "properties" in schema:
        proprietes = schema.get("properties", {})
        return {cle: _instance(proprietes[cle], openapi, cle, profondeur + 1)
                for cle in schema.get("required", []) if cle in proprietes}
    if genre == "array":
        minimum = int(schema.get("minItems", 0))
        return [_instance(schema.get("items", {}), openapi, nom, profondeur + 1)
                for _ in range(max(minimum, 1))]
    if genre == "integer":
        return 2026 if "annee" in nom else max(int(schema.get("minimum", 1)), 1)
    if genre == "number":
        return 1
    if genre == "boolean":
        return True
    if genre == "string":
        nommee = _valeur_nommee(nom)
        if nommee is not None:
            return nommee
        format_ = schema.get("format")
        if format_ == "date":
            return "2026-06-01"
        if format_ == "date-time":
            return "2026-06-01T00:00:00Z"
        if format_ == "uuid":
            return str(uuid.uuid4())
        if format_ in ("uri", "url"):
            return "https://exemple.invalid/hook"
        if format_ == "email":
            return "contact@exemple.invalid"
        return "x" * max(int(schema.get("minLength", 1)), 1)
    return None


def _requete(route: RouteDeclaree, openapi: dict[str, Any]) -> dict[str, Any]:
    """httpx keywords of the route's call: its query parameters (the required ones, and the scope
    filters finess/region naming the owner's), its JSON body."""
    operation = openapi["paths"].get(route.chemin, {}).get(route.methode.lower(), {})
    params = {}
    for parametre in operation.get("parameters", []):
        if parametre.get("in") != "query":
            continue
        nom = parametre["name"]
        if parametre.get("required") or nom in ("finess", "region"):
            valeur = _valeur_nommee(nom)
            if valeur is None:
                valeur = _instance(parametre.get("schema", {}), openapi, nom)
            params[nom] = valeur
    mots: dict[str, Any] = {"params": params}
    corps = operation.get("requestBody", {}).get("content", {})
    if "application/json" in corps:
        mots["json"] = _instance(corps["application/json"].get("schema", {}), openapi)
    elif route.methode in ECRITURES:
        mots["json"] = {}
    return mots


# --- what each answer must be --------------------------------------------------------------------

def _type(r: httpx.Response) -> str:
    """The last segment of a problem's type (role-interdit, hors-perimetre...), "" for another body."""
    try:
        corps = r.json()
    except ValueError:
        return ""
    return str(corps.get("type", "")).rsplit("/", 1)[-1] if isinstance(corps, dict) else ""


def _ecarts(service: str, route: RouteDeclaree, declaration: Declaration, appelant: str, role: Role | None,
            r: httpx.Response) -> list[str]:
    """What is wrong with answer `r`, as sentences (empty: the answer is right)."""
    ou = f"{service} {route.methode} {route.chemin} as {appelant}: {r.status_code} {r.text[:200]}"
    ecarts = []
    statut = r.status_code
    if statut >= 400 and not r.headers.get("content-type", "").startswith("application/problem+json"):
        ecarts.append(f"{ou}: error not problem+json ({r.headers.get('content-type')})")
    if statut >= 500:
        ecarts.append(f"{ou}: server error")
    if declaration.acces is Acces.PUBLIC:
        if statut in (401, 403):
            ecarts.append(f"{ou}: a public route refused the caller")
        return ecarts
    if role is None:
        if statut != 401:
            ecarts.append(f"{ou}: no token must be 401")
        return ecarts
    if not declaration.admet(role):
        if (statut, _type(r)) != (403, "role-interdit"):
            ecarts.append(f"{ou}: role {role.value} outside the declaration must be 403 role-interdit")
        return ecarts
    refus_de_profil = appelant in REFUS_DE_PROFIL and REFUS_DE_PROFIL[appelant] in r.text
    if statut == 401 or (statut == 403 and _type(r) == "role-interdit" and not refus_de_profil):
        ecarts.append(f"{ou}: role {role.value} is in the declaration")
    if (statut < 300 and route.methode in ECRITURES and appelant in HORS_PORTEE
            and (service, route.methode, route.chemin) not in SANS_PORTEE):
        ecarts.append(f"{ou}: a write outside the caller's scope succeeded")
    return ecarts


async def _avant_la_validation(api: httpx.AsyncClient, service: str, route: RouteDeclaree,
                               declaration: Declaration, chemin: str) -> list[str]:
    """A write with a body no schema accepts (well-formed JSON, not an object) is still 401 without a
    token and 403 for a role outside the declaration: who may call is decided before what was sent is
    validated. (Malformed JSON is refused earlier still, before routing, by the request guards of ADR
    0027: `{"pas du JSON` is 422 for every caller alike, token or not, which tells nothing.)"""
    ecarts = []
    dehors = next((a for a in APPELANTS if a[1] is not None and not declaration.admet(a[1])), None)
    for appelant, role, entetes in [APPELANTS[0], *([dehors] if dehors else [])]:
        r = await api.request(route.methode, chemin, headers=entetes, json=["pas", "un", "objet"])
        attendu = 401 if role is None else 403
        if r.status_code != attendu:
            ecarts.append(f"{service} {route.methode} {route.chemin} as {appelant}, malformed body:"
                          f" {r.status_code} {r.text[:200]}, expected {attendu} before validation")
    return ecarts


# --- the matrix ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
async def propres(fresh_database: Callable[[str], str], kafka_bootstrap: str,
                  tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Services]:
    """The five services on databases of this module only: the matrix writes what its callers are
    allowed to write, and no other test must see it."""
    stockage = f"file://{tmp_path_factory.mktemp('stockage-matrice')}"
    partage = Services(fresh_database, kafka_bootstrap, stockage)
    yield partage
    for moteur in partage.moteurs.values():
        await moteur.dispose()


_RESULTATS: dict[str, list[tuple[str, str, dict[str, tuple[int, str]]]]] = {}


@pytest.mark.parametrize("service", SERVICES)
async def test_matrice(propres: Services, service: str) -> None:
    app = propres.application(service)
    routes = list(routes_de(app))
    assert len(routes) > 8, "the walk did not see the service's routes"
    declarations: list[Declaration] = []
    manquantes = []
    for route in routes:
        try:
            declarations.append(declaration_de(route))
        except DeclarationManquante as exc:  # a new route nobody declared
            manquantes.append(str(exc))
    assert not manquantes, manquantes
    openapi = app.openapi()
    ecarts: list[str] = []
    lignes = []
    async with client_api(app, f"http://{service}") as api:
        for route, declaration in zip(routes, declarations, strict=True):
            chemin, mots = _chemin(route), _requete(route, openapi)
            statuts = {}
            for appelant, role, entetes in APPELANTS:
                r = await api.request(route.methode, chemin, headers=entetes, **mots)
                statuts[appelant] = (r.status_code, _type(r))
                ecarts += _ecarts(service, route, declaration, appelant, role, r)
            if route.methode in ECRITURES and declaration.acces is not Acces.PUBLIC:
                ecarts += await _avant_la_validation(api, service, route, declaration, chemin)
            lignes.append((route.methode, route.chemin, statuts))
    _RESULTATS[service] = lignes
    assert not ecarts, "\n".join(ecarts)


def _issue(statut: int, type_: str) -> str:
    if statut == 403:
        return f"403 {type_}"
    return str(statut) if statut in (401, 404, 409, 422) else f"{statut // 100}xx"


def test_tableau_de_la_matrice() -> None:
    """The matrix as a table (route x caller -> status) in .hopen/matrice-autorisations.md, with its
    counts, for the README; runs after the five services' matrices and checks their sum."""
    assert set(_RESULTATS) == set(SERVICES), "run the whole module: the table needs the five services"
    noms = [a[0] for a in APPELANTS]
    lignes = ["| service | route | " + " | ".join(noms) + " |", "|" + "---|" * (len(noms) + 2)]
    issues: Counter[str] = Counter()
    for service in SERVICES:
        for methode, chemin, statuts in _RESULTATS[service]:
            cellules = " | ".join(str(statuts[n][0]) for n in noms)
            lignes.append(f"| {service} | {methode} {chemin} | {cellules} |")
            issues.update(_issue(*statut) for statut in statuts.values())
    routes = sum(len(v) for v in _RESULTATS.values())
    publiques = sum(statuts["sans-jeton"][0] != 401 for v in _RESULTATS.values() for *_, statuts in v)
    compte = f"{routes} routes x {len(noms)} callers = {routes * len(noms)} requests: " + ", ".join(
        f"{issue}: {n}" for issue, n in sorted(issues.items()))
    fichier = Path(__file__).resolve().parents[2] / ".hopen" / "matrice-autorisations.md"
    fichier.parent.mkdir(exist_ok=True)
    fichier.write_text(compte + "\n\n" + "\n".join(lignes) + "\n", encoding="utf-8")
    # Every non-public route refused the caller without a token, and the nine callers were all heard.
    assert issues["401"] == routes - publiques
    assert publiques == 3 * len(SERVICES)  # /health/live, /health/ready, /v1/audit/cle
    assert min(issues["403 role-interdit"], issues["403 hors-perimetre"], issues["2xx"]) > 0, compte


# --- the main flows on real resources ------------------------------------------------------------

ENTETES = {nom: entetes for nom, _, entetes in APPELANTS}
# Who reads a candidature, its dossier and its lines: the owner, the region's ARS, the DNS; the others
# get 404, exactly as for a missing one.
VOIENT = {"etablissement", "ars-instructeur", "ars-valideur", "dns"}
NE_VOIENT_PAS = {"autre-etablissement", "ars-autre-region", "ops"}


async def _appliquer(propres: Services, *evenements: Evenement) -> None:
    """Events applied with financement's own handlers, each in its own transaction, as its consumer
    does (the workers are off in these tests)."""
    sessions = async_sessionmaker(propres.moteur("financement"), expire_on_commit=False)
    for ev in evenements:
        async with sessions() as s:
            await HANDLERS[ev.type](s, ev, decoder_payload(ev))
            await s.commit()


async def _comme_chacun(api: httpx.AsyncClient, methode: str, chemin: str, noms: set[str]) -> dict[str, int]:
    return {nom: await _statut(api, nom, methode, chemin) for nom in noms}


async def _statut(api: httpx.AsyncClient, appelant: str, methode: str, chemin: str, **mots: Any) -> int:
    r = await api.request(methode, chemin, headers=ENTETES[appelant], **mots)
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return r.status_code


def _ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [d["id"] for d in r.json()["items"]]


async def test_flux_principaux_sur_des_ressources_reelles(propres: Services) -> None:
    # candidature: the owner creates it (its establishment known from the referentiel's events).
    async with propres.moteur("candidature").begin() as conn:
        await conn.execute(insert(EtablissementConnu), [etablissement_connu(PROPRIETAIRE)])
    async with propres.client("candidature") as api:
        cree = await api.post("/v1/candidatures", headers=ENTETES["etablissement"], json={
            "dispositif": "phase1", "finess": PROPRIETAIRE, "objectifs": ["P1.O1"]})
        assert cree.status_code == 201, cree.text
        cid = cree.json()["id"]
        for suffixe in ("", "/indicateurs", "/depenses", "/pieces"):
            chemin = f"/v1/candidatures/{cid}{suffixe}"
            assert await _comme_chacun(api, "GET", chemin, VOIENT) == dict.fromkeys(VOIENT, 200), chemin
            assert await _comme_chacun(api, "GET", chemin, NE_VOIENT_PAS) == dict.fromkeys(NE_VOIENT_PAS, 404)
        # Another establishment's writes on it: 404 (it does not see it), nothing changes.
        for methode, suffixe, corps in (("PATCH", "/champs", {"champs": {"objectifs": ["P1.O1"]}}),
                                        ("POST", "/desistement", {"motivation": "retrait"}),
                                        ("POST", "/depot", {})):
            chemin = f"/v1/candidatures/{cid}{suffixe}"
            assert await _statut(api, "autre-etablissement", methode, chemin, json=corps) == 404, chemin
        relue = await api.get(f"/v1/candidatures/{cid}", headers=ENTETES["etablissement"])
        assert relue.json()["statut"] == cree.json()["statut"]

    # instruction: its dossier, as candidature's deposit event writes it.
    async with propres.moteur("instruction").begin() as conn:
        await conn.execute(insert(Dossier), [{
            "id": cid, "dispositif": "phase1", "finess": PROPRIETAIRE, "raison_sociale": "CH de Sartène",
            "region": REGION, "objectifs": ["P1.O1"], "domaines_sun_es": [], "perimetre": None,
            "statut": "deposee", "deposee_le": datetime(2026, 3, 1, tzinfo=UTC)}])
    ars_voient = {"ars-instructeur", "ars-valideur", "dns"}
    async with propres.client("instruction") as api:
        for suffixe in ("", "/historique", "/messages", "/affectation", "/avis", "/corrections"):
            chemin = f"/v1/dossiers/{cid}{suffixe}"
            lus = await _comme_chacun(api, "GET", chemin, ars_voient)
            assert lus == dict.fromkeys(ars_voient, 200), chemin
            assert await _statut(api, "ars-autre-region", "GET", chemin) == 404, chemin
        # Another region's ARS writes on it: 403 or 404, never a 2xx; the dossier is unchanged.
        for methode, suffixe, corps in (("POST", "/messages", {"texte": "bonjour"}),
                                        ("PUT", "/affectation", {"agent": "m-ars-idf"}),
                                        ("POST", "/instruction", {}),
                                        ("POST", "/decision", {"decision": "validee",
                                                               "motivation": "dossier complet"})):
            chemin = f"/v1/dossiers/{cid}{suffixe}"
            assert await _statut(api, "ars-autre-region", methode, chemin, json=corps) in (403, 404), chemin
        lu = await api.get(f"/v1/dossiers/{cid}", headers=ENTETES["dns"])
        assert (lu.json()["statut"], lu.json().get("affecte_a")) == ("deposee", None), lu.text
        # The region's list shows it to its ARS, not to another region's.
        assert cid in _ids(await api.get("/v1/dossiers", headers=ENTETES["ars-instructeur"]))
        assert cid not in _ids(await api.get("/v1/dossiers", headers=ENTETES["ars-autre-region"]))

    # financement: the candidature validated and its objective reached give the owner its lines.
    await _appliquer(propres, *_evenements_financement(cid))
    async with propres.client("financement") as api:
        filtre = {"finess": PROPRIETAIRE}
        for lecteur in ("etablissement", "ars-instructeur", "dns"):
            r = await api.get("/v1/financements", headers=ENTETES[lecteur], params=filtre)
            assert r.status_code == 200, (lecteur, r.text)
            assert {ligne["finess"] for ligne in r.json()["items"]} == {PROPRIETAIRE}, (lecteur, r.text)
        # Naming the owner's FINESS or region out of scope is refused (a filter: nothing to leak)...
        assert await _statut(api, "autre-etablissement", "GET", "/v1/financements", params=filtre) == 403
        corse = {"region": REGION}
        assert await _statut(api, "ars-autre-region", "GET", "/v1/financements", params=corse) == 403
        # ... and another region's own list has none of the owner's lines.
        autre = await api.get("/v1/financements", headers=ENTETES["ars-autre-region"])
        assert autre.status_code == 200, autre.text
        assert PROPRIETAIRE not in {ligne["finess"] for ligne in autre.json()["items"]}
        assert await _statut(api, "ars-autre-region", "GET", f"/v1/enveloppes/{REGION}") == 404
        assert await _statut(api, "ars-instructeur", "GET", f"/v1/enveloppes/{REGION}") == 200


def _evenements_financement(cid: str) -> list[Evenement]:
    def ev(payload: Any, sujet: str) -> Evenement:
        return nouvel_evenement(payload, source="/test/matrice", subject=sujet)

    decide = {"decision_id": "", "candidature_id": cid, "finess": PROPRIETAIRE, "region": REGION,
              "decide_par": "m-ars-instructeur", "decide_le": datetime.now(UTC), "motivation": "vérifié"}
    return [
        ev(EtablissementPublie(
            finess=PROPRIETAIRE, finess_ej=PROPRIETAIRE, raison_sociale="CH de Sartène", region=REGION,
            departement="2A", secteur="public", categorie="1101", niveau="EJ", ght_code=None, ght_role=None,
            finess_pmsi=PROPRIETAIRE, activite_combinee=Decimal("18530"), eligible_phase1=True,
            maille_phase1=PROPRIETAIRE, domaines_sun_es=[], ferme=False, effectifs=None),
           f"etablissement/{PROPRIETAIRE}"),
        ev(CandidatureValidee(**{**decide, "decision_id": str(uuid.uuid4())}, dispositif="phase1",
                              objectifs=["P1.O1"], perimetre=None, remplace=None), f"candidature/{cid}"),
        ev(ObjectifAtteint(**{**decide, "decision_id": str(uuid.uuid4())}, objectif="P1.O1",
                           objectifs_candidature=["P1.O1"], finess_ej=None, remplace=None),
           f"candidature/{cid}"),
    ]

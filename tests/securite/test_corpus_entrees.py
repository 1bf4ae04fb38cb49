"""Issue 12 point 6: the bad-input corpus (corpus_entrees.json, kept as data) sent to the main write
routes of each service, on their real databases: each value answers a 4xx problem+json naming the
field it was put in, never a 500, and no table of the service gains or loses a row.

Each route declares its fields by kind (finess, code, texte, entier, montant, region, date); every
corpus value of a kind is put in every field of that kind of a valid body, and every `corps` entry
replaces the whole body. Reporting has no write route: its path parameter gets the `region` kind."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hopen_candidature.models import EtablissementConnu
from hopen_common.testing import jeton
from hopen_common.testing.copies_locales import etablissement_connu
from hopen_instruction.models import Dossier

CORPUS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "corpus_entrees.json").read_text(encoding="utf-8"))
CHAUMONT, CORSE = "520780032", "94"
ES = jeton("etablissement", finess=[CHAUMONT], sujet="es-corpus")
ARS = jeton("ars", region=CORSE, sujet="ars-corpus")
DNS = jeton("dns", sujet="dns-corpus")
DOSSIER = "d-corpus"


@dataclass
class Route:
    service: str
    methode: str
    chemin: str
    entete: dict[str, str]
    corps: dict[str, Any] | None
    champs: dict[str, str] = field(default_factory=dict)  # JSON path (a.0.b) -> kind
    parametres: dict[str, str] = field(default_factory=dict)  # path parameter -> kind


def _routes(candidature_id: str) -> list[Route]:
    dans_un_mois = (date.today() + timedelta(days=30)).isoformat()
    return [
        Route("candidature", "POST", "/v1/candidatures", ES,
              {"dispositif": "phase1", "finess": CHAUMONT, "objectifs": ["P1.O1"]},
              {"finess": "finess", "dispositif": "code", "objectifs.0": "code"}),
        Route("candidature", "POST", f"/v1/candidatures/{candidature_id}/indicateurs", ES,
              {"objectif": "P1.O3", "numerateur": 1, "denominateur": 2},
              {"objectif": "code", "numerateur": "entier", "denominateur": "entier"}),
        Route("candidature", "POST", f"/v1/candidatures/{candidature_id}/desistement", ES,
              {"motivation": "projet reporté"}, {"motivation": "texte"}),
        Route("instruction", "POST", f"/v1/dossiers/{DOSSIER}/corrections", ARS,
              {"motivation": "pièce illisible", "echeance": dans_un_mois,
               "champs": [], "pieces": [{"type": "P1.P1"}]},
              {"motivation": "texte", "echeance": "date", "pieces.0.type": "code"}),
        Route("instruction", "POST", f"/v1/dossiers/{DOSSIER}/decision", ARS,
              {"decision": "validee", "motivation": "dossier complet"},
              {"decision": "code", "motivation": "texte"}),
        Route("financement", "POST", "/v1/enveloppes/transferts", DNS,
              {"source": {"region": CORSE}, "destination": {"region": "27"}, "montant": "10.00",
               "motif": "rééquilibrage"},
              {"montant": "montant", "source.region": "region", "destination.region": "region",
               "motif": "texte"}),
        Route("referentiel", "POST", "/v1/programme/phase1/versions", DNS,
              {"version": "2099.1", "motivation": "corpus", "contenu": {}},
              {"motivation": "texte", "version": "code"}),
        Route("reporting", "GET", "/v1/regions/{code}/synthese", DNS, None, parametres={"code": "region"}),
    ]


def _valeur(entree: dict[str, Any]) -> Any:
    if "valeur_repetee" in entree:
        motif, fois = entree["valeur_repetee"]
        return motif * fois
    if "valeur_relative_jours" in entree:
        return (date.today() + timedelta(days=entree["valeur_relative_jours"])).isoformat()
    return entree["valeur"]


def _placer(corps: dict[str, Any], chemin: str, valeur: Any) -> dict[str, Any]:
    copie = copy.deepcopy(corps)
    *parents, dernier = [int(p) if p.isdigit() else p for p in chemin.split(".")]
    cible: Any = copie
    for p in parents:
        cible = cible[p]
    cible[dernier] = valeur
    return copie


def _corps_brut(entree: dict[str, Any]) -> bytes:
    if "brut" in entree:
        return str(entree["brut"]).encode("latin-1")
    if "utf16" in entree:
        return str(entree["utf16"]).encode("utf-16")
    if "profondeur" in entree:
        n = entree["profondeur"]
        return ('{"motivation": ' + "[" * n + "]" * n + "}").encode()
    return ('{"motivation": ' + "9" * entree["chiffres"] + "}").encode()


def _envois(route: Route) -> list[tuple[str, str, str, bytes | None, str | None]]:
    """(case, kind, path, body, field expected: None for a whole-body case, any field named)."""
    envois: list[tuple[str, str, str, bytes | None, str | None]] = []
    for champ, genre in route.champs.items():
        assert route.corps is not None
        for entree in CORPUS[genre]:
            # json.dumps, not httpx's: it escapes lone surrogates and writes NaN/Infinity as a client may.
            corps = json.dumps(_placer(route.corps, champ, _valeur(entree))).encode()
            envois.append((f"{champ}={entree['nom']}", genre, route.chemin, corps, champ))
    for parametre, genre in route.parametres.items():
        for entree in CORPUS[genre]:
            if not isinstance(_valeur(entree), str):
                continue  # a path is text: 27 and "27" are the same path
            valeur = quote(str(_valeur(entree)), safe="") or "%20"
            envois.append((f"{parametre}={entree['nom']}", genre,
                           route.chemin.replace("{" + parametre + "}", valeur), None, parametre))
    if route.corps is not None:
        for entree in CORPUS["corps"]:
            envois.append((f"corps={entree['nom']}", "corps", route.chemin, _corps_brut(entree), None))
    return envois


async def _comptes(moteur: AsyncEngine) -> dict[str, int]:
    """Rows of every table of the service's database, in one query."""
    async with moteur.connect() as conn:
        tables = list((await conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))).scalars())
        ligne = (await conn.execute(text(
            "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)))).one()
    return dict(zip(tables, ligne, strict=True))


def _ecart(r: httpx.Response, champ: str | None) -> str | None:
    if not 400 <= r.status_code < 500:
        return f"status {r.status_code}: {r.text[:160]}"
    if r.headers.get("content-type") != "application/problem+json":
        return f"content-type {r.headers.get('content-type')}"
    nomme = str(r.json().get("champ") or "").replace("[", ".").replace("]", "")  # pieces[0].type
    if not nomme:
        return f"no field named: {r.text[:160]}"
    # The field itself or one of its parents (`objectifs` for `objectifs.0`).
    if champ is not None and not (champ == nomme or champ.startswith(nomme + ".")):
        return f"champ {nomme!r}: {r.text[:160]}"
    return None


@pytest.fixture(scope="module")
async def candidature_id(services: Any) -> str:
    async with services.moteur("candidature").begin() as conn:
        await conn.execute(insert(EtablissementConnu), [etablissement_connu(CHAUMONT)])
    async with services.moteur("instruction").begin() as conn:
        await conn.execute(insert(Dossier), [{
            "id": DOSSIER, "dispositif": "phase1", "finess": CHAUMONT, "raison_sociale": "CH",
            "region": CORSE,
            "objectifs": ["P1.O1"], "domaines_sun_es": [], "perimetre": None, "statut": "deposee",
            "deposee_le": datetime(2026, 3, 1, tzinfo=UTC), "criteres_ght": None}])
    async with services.client("candidature") as api:
        r = await api.post("/v1/candidatures", headers=ES,
                           json={"dispositif": "phase1", "finess": CHAUMONT, "objectifs": ["P1.O3"]})
        assert r.status_code == 201, r.text
    # Deposited (seeded: the deposit's own rules are not what is tested here), so that its indicators'
    # rules are reached rather than its state.
    async with services.moteur("candidature").begin() as conn:
        await conn.execute(text("UPDATE candidature SET statut = 'deposee', deposee_le = now()"
                                " WHERE id = :id"), {"id": r.json()["id"]})
    return str(r.json()["id"])


@pytest.mark.parametrize("service", ["candidature", "instruction", "financement", "referentiel", "reporting"])
async def test_le_corpus_est_refuse_sans_rien_ecrire(services: Any, candidature_id: str,
                                                     service: str) -> None:
    routes = [r for r in _routes(candidature_id) if r.service == service]
    moteur = services.moteur(service)
    ecarts: dict[str, str] = {}
    envoyes = 0
    async with services.client(service) as api:
        for route in routes:
            for cas, _genre, chemin, corps, champ in _envois(route):
                avant = await _comptes(moteur)
                entete = dict(route.entete)
                if corps is not None:
                    entete["content-type"] = "application/json"
                r = await api.request(route.methode, chemin, content=corps, headers=entete)
                envoyes += 1
                if (ecart := _ecart(r, champ)) is not None:
                    ecarts[f"{route.methode} {route.chemin} {cas}"] = ecart
                apres = await _comptes(moteur)
                if apres != avant:
                    ecrit = {t: apres[t] - avant.get(t, 0) for t in apres if apres[t] != avant.get(t, 0)}
                    ecarts[f"{route.methode} {route.chemin} {cas} (écrit)"] = str(ecrit)
    assert envoyes >= 5  # the walk did send the corpus
    assert not ecarts, "\n".join(f"{cas}: {ecart}" for cas, ecart in ecarts.items())

"""The catalogue: each problem type declared once, raised by name, answered by the handlers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from hopen_common import problemes
from hopen_common.devstack.stack import find_repo_root
from hopen_common.errors import PROBLEM_BASE, ProblemError, install_problem_handlers, introuvable
from hopen_common.problemes import (
    CATALOGUE,
    DEJA_DECIDEE,
    HORS_PERIMETRE,
    INTROUVABLE,
    TypeProbleme,
    par_code,
)
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.testing.api import client_api

SOURCES = Path(problemes.__file__).parent

# Every code the platform answers with today (services and libs, grep ProblemError), once unified,
# plus the handlers' and the ones being added (deja-candidat, ej-deja-couverte, paiement-en-double,
# desistement-impossible, candidature-desistee).
ATTENDUS = {
    "validation": 422, "regle-metier": 422, "introuvable": 404, "non-authentifie": 401, "interdit": 403,
    "jeton-invalide": 401, "sans-habilitation": 403,
    "auto-habilitation": 403, "habilitation-existante": 409, "version-perimee": 412,
    "methode-non-permise": 405, "corps-trop-grand": 413, "media-type-refuse": 415,
    "encodage-invalide": 422, "http": 500, "role-interdit": 403, "hors-perimetre": 403, "quatre-yeux": 403,
    "proposition-deja-traitee": 409, "proposition-en-attente": 409, "proposition-perimee": 409,
    "montants-non-verifiables": 503,
    "idempotency-key-invalide": 400, "idempotency-key-reutilisee": 422, "lettre-non-garee": 409,
    "rejeu-en-echec": 409, "deja-decidee": 409, "deja-deposee": 409, "deja-candidat": 409,
    "deja-declaree": 409, "piece-trop-grande": 413, "piece-type-refuse": 415, "multipart-attendu": 415,
    "plage-non-satisfiable": 416, "dossier-clos": 409,
    "ej-deja-couverte": 409, "desistement-impossible": 409, "candidature-desistee": 409,
    "candidature-non-deposee": 409, "candidature-non-validee": 409,
    "projet-non-selectionne": 409, "dispositif-different": 409, "paiement-en-double": 409,
    "pieces-manquantes": 422, "criteres-ght-invalides": 422, "avis-deja-rendu": 409,
    "transition-interdite": 409, "champ-non-demande": 422, "echeance-depassee": 422,
    "montant-non-calculable": 409, "erreur-interne": 500, "caractere-interdit": 422,
    "fichier-format-invalide": 422, "fichier-entete-invalide": 422, "fichier-encodage-invalide": 422,
    "fichier-fichier-tronque": 422, "fichier-colonnes-invalides": 422, "fichier-ordre-inattendu": 422,
}


def _declarations() -> list[tuple[str, str]]:
    """(constant, code) of every `NAME = TypeProbleme("code", ...)` in problemes.py."""
    arbre = ast.parse((SOURCES / "problemes.py").read_text(encoding="utf-8"))
    trouvees = []
    for noeud in arbre.body:
        if (isinstance(noeud, ast.Assign) and isinstance(noeud.value, ast.Call)
                and isinstance(noeud.value.func, ast.Name) and noeud.value.func.id == "TypeProbleme"):
            (cible,) = noeud.targets
            assert isinstance(cible, ast.Name)
            code = noeud.value.args[0]
            assert isinstance(code, ast.Constant)
            trouvees.append((cible.id, code.value))
    return trouvees


def test_chaque_code_est_declare_une_fois() -> None:
    declarations = _declarations()
    codes = [code for _, code in declarations]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    assert set(codes) == set(CATALOGUE)
    # The constant is the code's name: DEJA_DECIDEE is "deja-decidee".
    for nom, code in declarations:
        assert nom == code.upper().replace("-", "_")
        assert getattr(problemes, nom) is CATALOGUE[code]


def test_catalogue_complet() -> None:
    assert {code: t.status for code, t in CATALOGUE.items()} == ATTENDUS
    # The drifted spellings are gone.
    assert "deja-decide" not in CATALOGUE
    assert "deja-depose" not in CATALOGUE


def test_une_seconde_declaration_est_refusee() -> None:
    with pytest.raises(ValueError, match="deux fois"):
        TypeProbleme("deja-decidee", 409, "Autre titre")
    with pytest.raises(ValueError, match="statut"):
        TypeProbleme("pas-une-erreur", 200, "OK")
    assert CATALOGUE["deja-decidee"] is DEJA_DECIDEE


def _litteraux(racine: Path) -> list[str]:
    """Every `ProblemError(<status or code>...` under `racine`: a problem typed by hand."""
    trouves = []
    for fichier in sorted(racine.rglob("*.py")):
        for n, ligne in enumerate(fichier.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"ProblemError\(\s*(\d|\"|')", ligne) or re.search(r"ProblemError\(\s*$", ligne):
                trouves.append(f"{fichier.relative_to(racine)}:{n}: {ligne.strip()}")
    return trouves


def test_aucun_problem_error_litteral_dans_libs_common() -> None:
    # Raised by name only: the one ProblemError(...) left is the catalogue's own `erreur`.
    assert _litteraux(SOURCES) == []
    appels = [f for f in SOURCES.rglob("*.py") if "ProblemError(" in f.read_text(encoding="utf-8")
              and f.name != "problemes.py"]
    assert appels == []


# financement is being switched to the catalogue on its own branch (issue 7 item 6): it joins the
# scan below when that lands.
def test_aucun_problem_error_litteral_dans_les_services() -> None:
    services = sorted(p for p in (find_repo_root() / "services").iterdir() if (p / "src").is_dir())
    assert {p.name for p in services} >= {"candidature", "financement", "instruction", "referentiel",
                                          "reporting"}
    litteraux = [f"{s.name}/{ligne}" for s in services for ligne in _litteraux(s / "src")]
    assert litteraux == []


def test_erreur_porte_le_type() -> None:
    e = DEJA_DECIDEE.erreur("projet p1 : selectionne", champ="decision", extra={"decision_id": "d1"})
    assert isinstance(e, ProblemError)
    assert (e.status, e.code, e.title, e.detail, e.champ, e.extra) == (
        409, "deja-decidee", "Décision déjà prise", "projet p1 : selectionne", "decision",
        {"decision_id": "d1"})
    assert DEJA_DECIDEE.type_uri == PROBLEM_BASE + "deja-decidee"
    assert str(HORS_PERIMETRE.erreur()) == "Hors de votre périmètre"


def test_introuvable_et_par_code() -> None:
    e = introuvable("Projet", "p1")
    assert (e.status, e.code, e.title, e.detail) == (
        404, "introuvable", INTROUVABLE.title, "Projet p1 introuvable")
    assert par_code("fichier-fichier-tronque").status == 422
    with pytest.raises(KeyError, match="absent du catalogue"):
        par_code("deja-decide")


class Demande(BaseModel):
    n: int


async def test_les_gestionnaires_repondent_avec_le_catalogue() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/probleme")
    async def probleme() -> None:
        raise DEJA_DECIDEE.erreur("déjà", champ="decision", extra={"decision_id": "d1"})

    @app.get("/regle")
    async def regle() -> None:
        raise RegleMetierError("trop", "montant")

    @app.post("/validation")
    async def validation(demande: Demande) -> None:
        return None

    @app.get("/http/{status}")
    async def http(status: int) -> None:
        raise HTTPException(status, "le texte de l'exception", {"WWW-Authenticate": "Bearer"})

    attendus = [
        ("GET", "/probleme", 409, "deja-decidee", "Décision déjà prise", "decision"),
        ("GET", "/regle", 422, "regle-metier", "Règle métier non respectée", "montant"),
        ("POST", "/validation", 422, "validation", "Requête invalide", "n"),
        ("GET", "/http/401", 401, "non-authentifie", "Authentification requise", None),
        ("GET", "/http/403", 403, "interdit", "Accès interdit", None),
        ("GET", "/http/404", 404, "introuvable", "Ressource introuvable", None),
        ("GET", "/http/413", 413, "corps-trop-grand", "Corps de requête trop volumineux", None),
        ("GET", "/http/415", 415, "media-type-refuse", "Type de contenu refusé", None),
        ("GET", "/http/418", 418, "http", "Erreur HTTP", None),  # keeps the exception's status
        ("GET", "/inconnue", 404, "introuvable", "Ressource introuvable", None),
        ("DELETE", "/probleme", 405, "methode-non-permise", "Méthode non permise", None),
    ]
    async with client_api(app) as client:
        for methode, chemin, status, code, titre, champ in attendus:
            r = await client.request(methode, chemin, json={"n": "x"} if methode == "POST" else None)
            corps = r.json()
            assert r.status_code == status, (chemin, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert (corps["type"], corps["title"], corps["status"], corps.get("champ")) == (
                PROBLEM_BASE + code, titre, status, champ), chemin
            assert CATALOGUE[code].title == titre
        r = await client.get("/http/401")
        assert (r.json()["detail"], r.headers["WWW-Authenticate"]) == ("le texte de l'exception", "Bearer")
        assert (await client.get("/probleme")).json()["decision_id"] == "d1"


async def test_un_405_nomme_toutes_les_methodes_du_chemin() -> None:
    """A path's GET and POST are two routes: the 405 lists both (RFC 9110), not only the first's."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/dossiers")
    async def lister() -> None:
        return None

    @app.post("/dossiers")
    async def creer() -> None:
        return None

    async with client_api(app) as client:
        r = await client.request("OPTIONS", "/dossiers")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST"


async def test_une_panne_repond_aussi_en_problem_json() -> None:
    """A bug (any exception) is a 500 problem+json `erreur-interne` that tells nothing of the exception
    (Starlette answered text/plain "Internal Server Error")."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/panne")
    async def panne() -> None:
        raise RuntimeError("secret de la base")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url="http://test") as client:
        r = await client.get("/panne")
    assert (r.status_code, r.headers["content-type"]) == (500, "application/problem+json")
    assert r.json()["type"] == PROBLEM_BASE + "erreur-interne"
    assert "secret" not in r.text

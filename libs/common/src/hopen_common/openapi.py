"""OpenAPI that tells the truth about errors (issue 12 item 3, ADR 0027).

FastAPI documents a 200/201 and, where there are parameters, a 422 in `application/json` with its own
validation schema. Our services answer every error as `application/problem+json` (RFC 9457,
`hopen_common.errors`), and which errors an operation can give follows from what it declares: a
security scheme (401, 403), path parameters (404), a body (400 malformed, 413 too large, 415 wrong
type, 422), a write (409), an `If-Match` header (412). `documenter_erreurs` adds them to every
operation, once, from the app's own routes, so that a new route is documented the day it is written;
a status an operation raises beyond these (a 202 proposal, a 503) is declared on its route with
`responses=` and gets the problem+json content here if it is an error.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

MEDIA_PROBLEME = "application/problem+json"
_REF_PROBLEME = {"$ref": "#/components/schemas/Probleme"}

PROBLEME: dict[str, Any] = {
    "title": "Probleme",
    "description": "RFC 9457 problem details; `champ` names the field at fault when there is one.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "URI of the problem type (its last segment is its code)"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": ["string", "null"]},
        "instance": {"type": ["string", "null"]},
        "champ": {"type": ["string", "null"], "description": "the field at fault"},
    },
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    "400": "Requête mal formée (corps illisible, en-tête invalide)",
    "401": "Jeton absent ou invalide",
    "403": "Rôle, habilitation ou périmètre insuffisant",
    "404": "Ressource introuvable (ou hors de votre périmètre)",
    "409": "Conflit avec l'état de la ressource",
    "412": "Version périmée (If-Match)",
    "413": "Corps trop volumineux",
    "415": "Type de contenu non pris en charge",
    "422": "Requête invalide (le champ en cause est nommé)",
}
_ECRITURES = frozenset({"post", "put", "patch", "delete"})


def _reponse_probleme(description: str) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_PROBLEME: {"schema": _REF_PROBLEME}}}


def _statuts_d_erreur(chemin: str, methode: str, operation: dict[str, Any]) -> list[str]:
    parametres = operation.get("parameters", [])
    statuts = []
    if operation.get("security"):
        statuts += ["401", "403"]
    if "requestBody" in operation:
        statuts += ["400", "413", "415"]
    if "{" in chemin or "requestBody" in operation:
        statuts.append("404")
    if methode in _ECRITURES:
        statuts.append("409")
    if any(p.get("in") == "header" and p.get("name", "").lower() == "if-match" for p in parametres):
        statuts.append("412")
    if parametres or "requestBody" in operation:
        statuts.append("422")
    return statuts


def _pointeur(chemin: str, methode: str) -> str:
    return "#/paths/" + chemin.replace("~", "~0").replace("/", "~1") + "/" + methode


def _proprietes(schema: dict[str, Any], reponse: dict[str, Any]) -> set[str]:
    contenu = reponse.get("content", {}).get("application/json", {}).get("schema", {})
    ref = contenu.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        contenu = schema.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {})
    return set(contenu.get("properties", {}))


def ajouter_liens(schema: dict[str, Any]) -> None:
    """OpenAPI links of the main flows, inferred: what a POST creates (its answer's `id`) is what the
    operations under `<its path>/{x_id}` take, so a client (and schemathesis's stateful phase) can
    follow create -> read -> change -> act without knowing our paths by heart."""
    chemins = schema.get("paths", {})
    for chemin, operations in chemins.items():
        creation = operations.get("post")
        if creation is None:
            continue
        for statut, reponse in creation.get("responses", {}).items():
            if statut not in {"200", "201", "202"} or "id" not in _proprietes(schema, reponse):
                continue
            liens = {}
            for cible, operations_cible in chemins.items():
                reste = cible.removeprefix(chemin + "/{")
                if reste == cible or "}" not in reste:
                    continue
                parametre, suite = reste.split("}", 1)
                if "{" in suite:
                    continue  # only what the created id alone names
                for methode in sorted(operations_cible):
                    if methode in {"get", "post", "put", "patch", "delete"}:
                        nom = f"{methode}{suite.replace('/', '_') or '_' + parametre}"
                        liens[nom] = {"operationRef": _pointeur(cible, methode),
                                      "parameters": {parametre: "$response.body#/id"}}
            if liens:
                reponse["links"] = liens


def completer_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the problem+json errors to every operation of `schema` and the links of its main flows (in
    place; returned for chaining)."""
    ajouter_liens(schema)
    composants = schema.setdefault("components", {}).setdefault("schemas", {})
    composants["Probleme"] = PROBLEME
    for chemin, operations in schema.get("paths", {}).items():
        for methode, operation in operations.items():
            if methode not in {"get", "post", "put", "patch", "delete"}:
                continue
            reponses = operation.setdefault("responses", {})
            for statut in _statuts_d_erreur(chemin, methode, operation):
                reponses[statut] = _reponse_probleme(_DESCRIPTIONS[statut])
            for statut, reponse in reponses.items():
                # A status a route declared itself (503, 429...): an error is problem+json here too.
                if statut.isdigit() and int(statut) >= 400 and statut not in _DESCRIPTIONS:
                    reponses[statut] = _reponse_probleme(reponse.get("description") or "Erreur")
    for inutile in ("HTTPValidationError", "ValidationError"):
        composants.pop(inutile, None)
    return schema


def documenter_erreurs(app: FastAPI) -> None:
    """Make `app.openapi()` answer the completed schema (built once, like FastAPI's)."""
    generer = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = completer_schema(generer())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

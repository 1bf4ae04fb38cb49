"""RFC 9457 problem details: every error names its type and, when relevant, the field.

The types are declared once in `hopen_common.problemes` (the catalogue); this module answers them.
`ProblemError`, `PROBLEM_BASE` and `introuvable` are re-exported so existing imports keep working.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from hopen_common import problemes
from hopen_common.problemes import PROBLEM_BASE, ProblemError, TypeProbleme, introuvable
from hopen_common.programme.erreurs import RegleMetierError

MEDIA_TYPE = "application/problem+json"

__all__ = ["MEDIA_TYPE", "PROBLEM_BASE", "ProblemError", "install_problem_handlers", "introuvable",
           "problem_response"]


def problem_response(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    champ: str | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if champ:
        body["champ"] = champ
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


# SQLSTATEs of a text PostgreSQL refuses to store: character_not_in_repertoire (a NUL byte in a
# text or JSON value), untranslatable_character.
_CARACTERES_REFUSES = {"22021", "22P05"}


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    etat = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return None if etat is None else str(etat)


_TYPE_HTTP: dict[int, TypeProbleme] = {
    t.status: t for t in (problemes.NON_AUTHENTIFIE, problemes.INTERDIT, problemes.INTROUVABLE,
                          problemes.METHODE_NON_PERMISE, problemes.CORPS_TROP_GRAND,
                          problemes.MEDIA_TYPE_REFUSE)
}


def _methodes_permises(request: Request) -> str:
    """Every method the path answers (RFC 9110: a 405 lists them all): Starlette's router names only
    the first route matching the path, while a path's GET and POST are often two routes."""
    methodes: set[str] = set()
    for route in request.app.router.routes:
        correspondance, _ = route.matches(request.scope)
        if correspondance is not Match.NONE:
            methodes |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methodes))


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        response = problem_response(request, exc.status, exc.code, exc.title, exc.detail, exc.champ,
                                    exc.extra)
        response.headers.update(exc.entetes)
        return response

    @app.exception_handler(RegleMetierError)
    async def _regle(request: Request, exc: RegleMetierError) -> JSONResponse:
        t = problemes.REGLE_METIER
        return problem_response(request, t.status, t.code, t.title, str(exc), exc.champ)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        erreurs = [
            {"champ": _field_name(tuple(e["loc"])), "message": e["msg"], "code": e["type"]}
            for e in exc.errors()
        ]
        premier = erreurs[0]["champ"] if erreurs else None
        detail = "; ".join(f"{e['champ']}: {e['message']}" for e in erreurs)
        t = problemes.VALIDATION
        return problem_response(request, t.status, t.code, t.title, detail, premier, {"erreurs": erreurs})

    @app.exception_handler(DBAPIError)
    async def _base(request: Request, exc: DBAPIError) -> JSONResponse:
        # Input the schema let through but PostgreSQL cannot store (a NUL byte): the transaction is
        # rolled back by the session, the caller is told which input is wrong. Anything else is a
        # server fault and stays one.
        if _sqlstate(exc) not in _CARACTERES_REFUSES:
            raise exc
        t = problemes.CARACTERE_INTERDIT
        return problem_response(request, t.status, t.code, t.title,
                                "un champ ou le chemin contient un caractère que la base ne peut pas garder"
                                " (octet NUL, U+0000) : rien n'a été enregistré")

    # Starlette's HTTPException (FastAPI's is a subclass): an unknown route (404) or method (405) is
    # raised by the router as Starlette's and was answered as plain JSON, outside the catalogue.
    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        t = _TYPE_HTTP.get(exc.status_code, problemes.HTTP)
        # The status stays the exception's (for `http`, the one type without a fixed status); the
        # exception's text, once the title, is now the detail under the type's fixed title.
        limite = getattr(exc, "limite", None)  # garde_fous.CorpsTropGrand: the limit passed
        response = problem_response(request, exc.status_code, t.code, t.title, str(exc.detail),
                                    extra=None if limite is None else {"limite": limite})
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405:
            response.headers["Allow"] = _methodes_permises(request)
        if exc.status_code == 413:
            # A body refused midway (hopen_common.garde_fous) is not read to its end: the connection
            # cannot carry another request.
            response.headers["Connection"] = "close"
        return response

    # Anything else is a server fault: still problem+json (Starlette answered text/plain), with no
    # detail of the exception for the caller; the traceback goes to the log, where uvicorn puts it
    # once the answer is sent (the handler runs in ServerErrorMiddleware, which re-raises).
    @app.exception_handler(Exception)
    async def _interne(request: Request, exc: Exception) -> JSONResponse:
        t = problemes.ERREUR_INTERNE
        return problem_response(request, t.status, t.code, t.title,
                                "erreur du service, réessayez plus tard")

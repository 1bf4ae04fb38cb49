"""RFC 9457 problem details: every error names its type and, when relevant, the field."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hopen_common.programme.erreurs import RegleMetierError

PROBLEM_BASE = "https://hopen.sante.gouv.fr/problemes/"
MEDIA_TYPE = "application/problem+json"


class ProblemError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        champ: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.champ = champ
        self.extra = extra or {}


def introuvable(ressource: str, identifiant: str) -> ProblemError:
    # Same answer whether it does not exist or belongs to another scope: no existence leak.
    return ProblemError(
        404, "introuvable", f"{ressource} introuvable", f"{ressource} {identifiant} introuvable"
    )


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


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(request, exc.status, exc.code, exc.title, exc.detail, exc.champ, exc.extra)

    @app.exception_handler(RegleMetierError)
    async def _regle(request: Request, exc: RegleMetierError) -> JSONResponse:
        return problem_response(
            request, 422, "regle-metier", "Règle métier non respectée", str(exc), exc.champ
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        erreurs = [
            {"champ": _field_name(tuple(e["loc"])), "message": e["msg"], "code": e["type"]}
            for e in exc.errors()
        ]
        premier = erreurs[0]["champ"] if erreurs else None
        detail = "; ".join(f"{e['champ']}: {e['message']}" for e in erreurs)
        return problem_response(
            request, 422, "validation", "Requête invalide", detail, premier, {"erreurs": erreurs}
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = {401: "non-authentifie", 403: "interdit", 404: "introuvable", 405: "methode-non-permise"}.get(
            exc.status_code, "http"
        )
        response = problem_response(request, exc.status_code, code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

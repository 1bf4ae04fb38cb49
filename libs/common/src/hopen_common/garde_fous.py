"""What every request goes through before any route reads it (issue 12 point 1, ADR 0027).

One ASGI middleware, installed by `create_service_app`, so that no route has to remember it:

- **size**: a body larger than its limit answers 413 `corps-trop-grand` before it is parsed. A declared
  Content-Length past the limit is refused without reading one byte of the body; a body without one
  (chunked) is counted as it arrives and refused as soon as it passes the limit. JSON (and any body
  that is not a form) is small (`corps_json_taille_max`, 1 MiB); `multipart/form-data` has its own
  limit (`corps_formulaire_taille_max`, by default the pieces' `stockage_taille_max` plus the form's
  framing): the pieces route still checks each file against `stockage_taille_max` as it streams.
- **JSON values PostgreSQL or Python cannot take**: the body (bounded by the above) is decoded
  strictly as UTF-8 and parsed once here; integers beyond 64 bits, NaN and infinities, a NUL byte or
  a lone surrogate (`\ud800`) in a string or a key,
  nesting deeper than `PROFONDEUR_MAX` answer 422 naming the field (its JSON path, `perimetre.0.finess_ej`)
  instead of a 500 from asyncpg or a RecursionError. The bytes are then handed to the route unchanged.
  This is a check of every request rather than bounded types in the 129 schemas: a schema written
  tomorrow is covered too.
- **the same for the path and the query**: a NUL byte, invalid UTF-8 in a percent-escape or an integer
  beyond 64 bits in a query parameter (named) or a path segment (named after the route's parameter).
- **media type**: a body sent as something else than JSON or a form answers 415 `media-type-refuse`
  (FastAPI would have passed its bytes to the schema and answered a puzzling 422).

Every refusal is problem+json (`hopen_common.errors`) and the connection stays usable.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hopen_common import problemes
from hopen_common.errors import problem_response
from hopen_common.problemes import TypeProbleme

ENTIER_MIN, ENTIER_MAX = -(2**63), 2**63 - 1  # PostgreSQL's bigint, the widest integer column we have
PROFONDEUR_MAX = 32  # no schema of the platform nests more than a few levels
_METHODES_AVEC_CORPS = {"POST", "PUT", "PATCH", "DELETE"}
# Python refuses to parse integers of more than 4300 digits (CVE-2020-10735): a ValueError, not a
# JSONDecodeError.
_ERREURS_ANALYSE = (ValueError, RecursionError)


class CorpsTropGrand(HTTPException):
    """Raised from `receive` when a streamed body passes its limit: an HTTPException, so that FastAPI's
    body reader lets it through (it turns any other exception into a 400) and the problem handlers
    answer it as `corps-trop-grand`."""

    def __init__(self, limite: int) -> None:
        super().__init__(413, f"le corps de la requête dépasse {limite} octets")
        self.limite = limite


class _Refus(Exception):
    def __init__(self, type_: TypeProbleme, detail: str, champ: str, *, status: int | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.type_, self.detail, self.champ = type_, detail, champ
        self.status = status or type_.status
        self.extra = extra or {}


def _media(headers: Headers) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _est_json(media: str) -> bool:
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _entier_hors_bornes(texte: str) -> bool:
    chiffres = texte[1:] if texte[:1] in "+-" else texte
    if not chiffres.isascii() or not chiffres.isdigit() or len(chiffres) < 19:
        return False
    return not ENTIER_MIN <= int(texte) <= ENTIER_MAX


def _encodable(texte: str) -> bool:
    try:
        texte.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _chemin(parties: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in parties) or "body"


def _valeurs(valeur: Any, chemin: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every value of a parsed JSON document with its path, depth first (keys too, as their own path)."""
    yield chemin, valeur
    if isinstance(valeur, dict):
        for cle, sous in valeur.items():
            yield (*chemin, cle), cle
            yield from _valeurs(sous, (*chemin, cle))
    elif isinstance(valeur, list):
        for i, sous in enumerate(valeur):
            yield from _valeurs(sous, (*chemin, i))


def verifier_json(corps: bytes, *, profondeur_max: int = PROFONDEUR_MAX) -> None:
    """Raise `_Refus` naming the field when `corps` is not a JSON document the services can take."""
    try:
        texte = corps.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refus(problemes.ENCODAGE_INVALIDE, f"le corps n'est pas de l'UTF-8 valide (octet {exc.start})",
                     "body") from None
    try:
        document = json.loads(texte)
    except json.JSONDecodeError as exc:
        raise _Refus(problemes.VALIDATION, f"JSON invalide : {exc.msg} (position {exc.pos})", "body",
                     extra={"erreurs": [{"champ": "body", "message": exc.msg, "code": "json_invalid"}]}
                     ) from None
    except _ERREURS_ANALYSE as exc:
        message = ("imbrication trop profonde" if isinstance(exc, RecursionError)
                   else f"nombre illisible : {exc}")
        raise _Refus(problemes.VALIDATION, f"JSON refusé : {message}", "body") from None
    for chemin, valeur in _valeurs(document):
        champ = _chemin(chemin)
        if len(chemin) > profondeur_max:
            raise _Refus(problemes.VALIDATION, f"{champ} : imbrication de plus de {profondeur_max} niveaux",
                         _chemin(chemin[:profondeur_max]))
        if isinstance(valeur, bool):
            continue
        if isinstance(valeur, int) and not ENTIER_MIN <= valeur <= ENTIER_MAX:
            raise _Refus(problemes.VALIDATION, f"{champ} : entier hors des 64 bits", champ)
        if isinstance(valeur, float) and not math.isfinite(valeur):  # 1e400, NaN, Infinity
            raise _Refus(problemes.VALIDATION, f"{champ} : nombre hors limites", champ)
        if isinstance(valeur, str):
            if "\x00" in valeur:
                raise _Refus(problemes.CARACTERE_INTERDIT, f"{champ} : octet NUL (U+0000) interdit", champ)
            if not _encodable(valeur):  # a lone surrogate (\ud800): valid JSON, no UTF-8 for it
                raise _Refus(problemes.ENCODAGE_INVALIDE, f"{champ} : caractère sans encodage UTF-8", champ)


def _gabarits(routes: Any) -> Iterator[str]:
    """The path templates of `routes`, those of included routers too (FastAPI 0.165 mounts them as
    contexts rather than copies)."""
    for route in routes:
        if isinstance(getattr(route, "path", None), str):
            yield route.path
        candidats = getattr(route, "effective_candidates", None)
        if candidats is not None:
            yield from _gabarits(candidats())


def _parametre_du_chemin(app: FastAPI | None, scope: Scope, segment: str) -> str:
    """The route parameter holding `segment` (`dossier_id`), else `chemin`: the templates are matched
    only on this error path."""
    if app is not None:
        for gabarit in _gabarits(app.router.routes):
            regex, _, _ = compile_path(gabarit)
            trouve = regex.match(scope["path"])
            if trouve is None:
                continue
            for nom, valeur in trouve.groupdict().items():
                if segment in valeur:
                    return str(nom)
    return "chemin"


def verifier_url(scope: Scope, app: FastAPI | None = None) -> None:
    """Raise `_Refus` for a path or a query the services cannot take."""
    brut: bytes = scope.get("raw_path") or scope["path"].encode()
    for segment_brut in brut.split(b"/"):
        try:
            segment = unquote_to_bytes(segment_brut).decode("utf-8")
        except UnicodeDecodeError:
            # The server put U+FFFD in scope["path"] for what is not UTF-8: match it that way.
            remplace = unquote_to_bytes(segment_brut).decode("utf-8", "replace")
            nom = _parametre_du_chemin(app, scope, remplace)
            raise _Refus(problemes.ENCODAGE_INVALIDE, f"{nom} : UTF-8 invalide dans le chemin", nom) from None
        if "\x00" in segment:
            nom = _parametre_du_chemin(app, scope, segment)
            raise _Refus(problemes.CARACTERE_INTERDIT, f"{nom} : octet NUL (U+0000) interdit", nom)
        if _entier_hors_bornes(segment):
            nom = _parametre_du_chemin(app, scope, segment)
            raise _Refus(problemes.VALIDATION, f"{nom} : entier hors des 64 bits", nom)
    requete: bytes = scope.get("query_string", b"")
    for cle_brute, valeur_brute in parse_qsl(requete.decode("latin-1"), keep_blank_values=True,
                                             encoding="latin-1"):
        # parse_qsl on latin-1, its %-escapes decoded as latin-1 too, keeps every byte: each one is
        # checked as UTF-8 below (decoded as UTF-8, a %F3%9B... escape was no longer latin-1: a 500).
        try:
            cle = cle_brute.encode("latin-1").decode("utf-8")
            valeur = valeur_brute.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            nom = cle_brute.encode("latin-1").decode("utf-8", "replace")
            raise _Refus(problemes.ENCODAGE_INVALIDE, f"{nom} : UTF-8 invalide", nom) from None
        if "\x00" in cle or "\x00" in valeur:
            nom = cle.replace("\x00", "\\0")
            raise _Refus(problemes.CARACTERE_INTERDIT, f"{nom} : octet NUL (U+0000) interdit", nom)
        if _entier_hors_bornes(valeur):
            raise _Refus(problemes.VALIDATION, f"{cle} : entier hors des 64 bits", cle)


class GardeFous:
    """The ASGI middleware (see the module's note). `app_fastapi` only names path parameters."""

    def __init__(self, app: ASGIApp, *, json_max: int, formulaire_max: int,
                 app_fastapi: FastAPI | None = None) -> None:
        self.app = app
        self.json_max = json_max
        self.formulaire_max = formulaire_max
        self.app_fastapi = app_fastapi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        media = _media(headers)
        formulaire = media == "multipart/form-data"
        limite = self.formulaire_max if formulaire else self.json_max
        try:
            verifier_url(scope, self.app_fastapi)
            longueur = self._longueur(headers, limite)
            if scope["method"] in _METHODES_AVEC_CORPS and _est_json(media):
                corps = await self._lire(receive, limite)
                if corps:
                    verifier_json(corps)
                await self.app(scope, _rejouer(corps, receive), send)
                return
            if (scope["method"] in _METHODES_AVEC_CORPS and media and not formulaire
                    and media != "application/x-www-form-urlencoded" and (longueur or 0) > 0):
                raise _Refus(problemes.MEDIA_TYPE_REFUSE,
                             f"corps en {media} refusé : application/json (ou multipart/form-data pour"
                             " une pièce) attendu", "Content-Type")
        except _Refus as refus:
            await _repondre(scope, receive, send, refus)
            return
        await self.app(scope, _compter(receive, limite), send)

    @staticmethod
    def _longueur(headers: Headers, limite: int) -> int | None:
        valeur = headers.get("content-length")
        if valeur is None:
            return None
        if not valeur.isascii() or not valeur.isdigit():
            raise _Refus(problemes.VALIDATION, "Content-Length : entier attendu", "Content-Length",
                         status=400)
        if int(valeur) > limite:
            raise _Refus(problemes.CORPS_TROP_GRAND, f"le corps de la requête dépasse {limite} octets",
                         "body", extra={"limite": limite})
        return int(valeur)

    @staticmethod
    async def _lire(receive: Receive, limite: int) -> bytes:
        morceaux, taille = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            morceau = message.get("body", b"")
            taille += len(morceau)
            if taille > limite:
                raise _Refus(problemes.CORPS_TROP_GRAND, f"le corps de la requête dépasse {limite} octets",
                             "body", extra={"limite": limite})
            morceaux.append(morceau)
            if not message.get("more_body", False):
                break
        return b"".join(morceaux)


def _rejouer(corps: bytes, receive: Receive) -> Receive:
    """`receive` giving the body already read once, then the real channel (disconnect)."""
    donne = False

    async def recevoir() -> Message:
        nonlocal donne
        if not donne:
            donne = True
            return {"type": "http.request", "body": corps, "more_body": False}
        return await receive()

    return recevoir


def _compter(receive: Receive, limite: int) -> Receive:
    recu = 0

    async def recevoir() -> Message:
        nonlocal recu
        message = await receive()
        if message["type"] == "http.request":
            recu += len(message.get("body", b""))
            if recu > limite:
                raise CorpsTropGrand(limite)
        return message

    return recevoir


async def _repondre(scope: Scope, receive: Receive, send: Send, refus: _Refus) -> None:
    request = Request(scope, receive)
    t = refus.type_
    extra = dict(refus.extra)
    extra.setdefault("erreurs", [{"champ": refus.champ, "message": refus.detail, "code": t.code}])
    response = problem_response(request, refus.status, t.code, t.title, refus.detail, refus.champ, extra)
    if t is problemes.CORPS_TROP_GRAND:
        # The rest of the body is not read: the connection cannot carry another request after it.
        response.headers["Connection"] = "close"
    await response(scope, receive, send)


def installer_garde_fous(app: FastAPI, *, json_max: int, formulaire_max: int) -> None:
    app.add_middleware(GardeFous, json_max=json_max, formulaire_max=formulaire_max, app_fastapi=app)

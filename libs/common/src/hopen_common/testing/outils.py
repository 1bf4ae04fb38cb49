"""Small helpers for tests that drive running services: tokens, waiting for what events do, and a
local HTTP server for what the platform calls out to."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from hopen_common.auth.tokens import mint_dev_token
from hopen_common.settings import DEV_JWT_SECRET

T = TypeVar("T")


def jeton(role: str, *, finess: list[str] | None = None, region: str | None = None,
          sujet: str | None = None, profils: list[str] | None = None,
          referent: bool = False) -> dict[str, str]:
    """Authorization header of a development token, as `hopen token` prints it. An ARS token is an
    instructeur's unless `profils` says otherwise (a valideur: `profils=["valideur"]`, with another
    `sujet` than the proposer's: the two-person rule compares subjects)."""
    if profils is None:
        profils = ["instructeur"] if role == "ars" else []
    token = mint_dev_token(role=role, finess=finess or [], region=region, profils=profils,
                           referent=referent, subject=sujet or f"test-{role}", secret=DEV_JWT_SECRET)
    return {"Authorization": f"Bearer {token}"}


def finalement(obtenir: Callable[[], T | None], *, en: float = 30.0, pas: float = 0.2,
               quoi: str = "condition") -> T:
    """Poll `obtenir` until it returns something other than None/False: events are asynchronous,
    so a test waits for their effect, with a deadline that fails loudly."""
    limite = time.monotonic() + en
    while True:
        valeur = obtenir()
        if valeur is not None and valeur is not False:
            return valeur
        if time.monotonic() > limite:
            raise AssertionError(f"{quoi}: not reached within {en:.0f} s")
        time.sleep(pas)


class GestionnaireHttp(http.server.BaseHTTPRequestHandler):
    """A request handler for `serveur_http_local`: silent, and `repondre` answers once, ignoring a
    client that already gave up (a timeout on the platform's side)."""

    def repondre(self, statut: int, corps: bytes, entetes: dict[str, str] | None = None) -> None:
        try:
            self.send_response(statut)
            for nom, valeur in (entetes or {}).items():
                self.send_header(nom, valeur)
            self.send_header("content-length", str(len(corps)))
            self.end_headers()
            self.wfile.write(corps)
        except OSError:
            pass

    def log_message(self, *_: object) -> None:
        pass


@contextlib.contextmanager
def serveur_http_local(gestionnaire: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 (free port, one thread per request) for what the platform calls
    out to (webhook receivers, key sets): yields its base URL, shut down on exit."""
    serveur = http.server.ThreadingHTTPServer(("127.0.0.1", 0), gestionnaire)
    serveur.daemon_threads = True
    threading.Thread(target=serveur.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{serveur.server_address[1]}"
    finally:
        serveur.shutdown()
        serveur.server_close()


@contextlib.asynccontextmanager
async def en_tache_de_fond(travail: Coroutine[Any, Any, Any]) -> AsyncIterator[asyncio.Task[Any]]:
    """`travail` (a worker's run_forever) runs for the block, then is cancelled and awaited, so that a
    test never leaves a loop running into the next one."""
    tache = asyncio.create_task(travail)
    try:
        yield tache
    finally:
        tache.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await tache

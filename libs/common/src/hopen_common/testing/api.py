"""In-process API harness for a service's tests: its app, lifespan included (engine, sessions, Kafka
producer), behind an httpx client; and the check that a refused request wrote nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hopen_common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)
# What a service's test fixture hands out to open a client of an app of its own, with other settings
# (e.g. `nouveau_client(ouvert=False)`: the programme calendar as it is).
NouveauClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def reglages_de_test(classe: type[S], engine: AsyncEngine, kafka_bootstrap: str, **autres: Any) -> S:
    """The service's settings on the test database `engine` is bound to and the test broker; workers
    (consumers, relay) stay off so that a test sees only what its requests do."""
    return classe(**{"environment": "test", "database_url": engine.url.render_as_string(hide_password=False),
                     "kafka_bootstrap_servers": kafka_bootstrap, "workers_in_process": False, **autres})


@asynccontextmanager
async def client_api(app: FastAPI, base_url: str = "http://test") -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on `app`, inside its lifespan: requests run in process, on the real database
    and broker the settings name, with what the lifespan builds in place."""
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
        yield client


async def compter(engine: AsyncEngine, modele: Any, *conditions: Any) -> int:
    """Rows of `modele` (an ORM class or a table) matching `conditions`, on a connection of its own."""
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(modele).where(*conditions)) or 0)


@asynccontextmanager
async def rien_ecrit(engine: AsyncEngine, *tables: Any) -> AsyncIterator[None]:
    """Every table a request could write holds exactly as many rows after the block as before."""
    avant = [await compter(engine, t) for t in tables]
    yield
    assert [await compter(engine, t) for t in tables] == avant


@contextmanager
def servi(app: FastAPI) -> Iterator[str]:
    """`app` under uvicorn on a free loopback port, in a thread of its own (its own loop), lifespan
    included: for what only a real server shows (kept-alive connections, bodies arriving in pieces,
    a client over TCP). Yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    serveur = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    fil = threading.Thread(target=serveur.run, daemon=True)
    fil.start()
    limite = time.monotonic() + 60
    while not serveur.started:
        if time.monotonic() > limite or not fil.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        serveur.should_exit = True
        fil.join(timeout=30)

"""Fixtures of the financement tests: a migrated database on the real PostgreSQL, the FastAPI app
on it (no lifespan: no Kafka needed to read and write through the API; events stay in the outbox),
and small builders of events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.testing import jeton
from hopen_financement.main import create_app
from hopen_financement.settings import FinancementSettings


@dataclass
class Api:
    client: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    url: str


@pytest.fixture(scope="module")
async def api(fresh_database: Callable[[str], str]) -> AsyncIterator[Api]:
    url = fresh_database("financement")
    app = create_app(FinancementSettings(database_url=url, workers_in_process=False))
    engine = build_engine(url, pool_size=10)
    app.state.engine = engine
    app.state.sessionmaker = build_sessionmaker(engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://financement") as client:
        yield Api(client, app.state.sessionmaker, engine, url)
    await engine.dispose()


DNS = jeton("dns", sujet="dns-test")
# Two DNS persons: a transfer is proposed by one and confirmed by the other (issue 10, ADR 0025).
DNS_A = jeton("dns", sujet="dns-a")
DNS_B = jeton("dns", sujet="dns-b")


def ars(region: str, sujet: str | None = None) -> dict[str, str]:
    return jeton("ars", region=region, sujet=sujet or f"ars-{region}")


def etablissement(*finess: str) -> dict[str, str]:
    return jeton("etablissement", finess=list(finess), sujet=f"es-{finess[0]}")

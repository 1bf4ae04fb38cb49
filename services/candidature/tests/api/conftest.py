"""The candidature API in process, on the database each test module seeds (its `moteur` fixture) and
the real Kafka broker its lifespan connects to; pieces go to a files store of the module's own.

The deposit's required-pieces check (issue 8 item 4) reads the piece table only where a module asks
for it (`pieces_requises=True`: test_pieces_api, and the end-to-end tests, upload the pieces): the
suites about other rules deposit without uploading, as test_exigences_api injects its own source."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hopen_candidature.exigences.repository import source_pieces
from hopen_candidature.main import create_app
from hopen_candidature.settings import CandidatureSettings
from hopen_common.testing.api import NouveauClient, client_api, reglages_de_test


@pytest.fixture(scope="module")
def stockage_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"file://{tmp_path_factory.mktemp('stockage')}"


@pytest.fixture(scope="module")
def nouveau_client(moteur: AsyncEngine, kafka_bootstrap: str, stockage_url: str) -> NouveauClient:
    def ouvrir(*, ouvert: bool, pieces_requises: bool = False,
               **autres: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        reglages = reglages_de_test(CandidatureSettings, moteur, kafka_bootstrap, calendrier_ouvert=ouvert,
                                    **{"stockage_url": stockage_url, **autres})
        app = create_app(reglages)
        if not pieces_requises:
            app.dependency_overrides[source_pieces] = lambda: None
        return client_api(app, "http://candidature")
    return ouvrir


@pytest.fixture(scope="module")
async def api(nouveau_client: NouveauClient) -> AsyncIterator[httpx.AsyncClient]:
    """The module's client, every programme window open (calendrier_ouvert)."""
    async with nouveau_client(ouvert=True) as client:
        yield client

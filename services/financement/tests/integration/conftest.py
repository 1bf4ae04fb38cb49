"""A real Kafka broker and a real PostgreSQL: the tests publish the producers' events to the broker,
financement's own consumer (EventConsumer + HANDLERS, as in production) applies them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from hopen_common.testing.bus import Bus, bus_de_test
from hopen_financement.consumers import HANDLERS

SUJETS = ("etablissement", "candidature", "dossier", "projet")


@pytest.fixture
async def bus(fresh_database: Callable[[str], str], kafka_bootstrap: str) -> AsyncIterator[Bus]:
    async with bus_de_test(nom="financement", handlers=HANDLERS, database_url=fresh_database("financement"),
                           kafka_bootstrap=kafka_bootstrap, sujets=SUJETS) as b:
        yield b

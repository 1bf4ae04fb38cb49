"""The fault matrix's own PostgreSQL cluster and Kafka broker (the faults restart them: the session's
shared ones must not be), its workers as OS processes, candidature's API in process."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# The harness is shared with bench/bench_fautes.py, which imports it by path too.
sys.path.insert(0, str(Path(__file__).parent))

from harnais_fautes import Infrastructure, Matrice  # noqa: E402


@pytest.fixture(scope="module")
def infrastructure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infrastructure]:
    infra = Infrastructure(tmp_path_factory.mktemp("fautes"))
    infra.demarrer()
    try:
        yield infra
    finally:
        infra.arreter()


@pytest.fixture(scope="module")
async def matrice(infrastructure: Infrastructure) -> AsyncIterator[Matrice]:
    async with Matrice(infrastructure, cles=50, debit=60.0, concurrence=4).ouverte() as m:
        yield m

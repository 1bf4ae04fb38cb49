"""The workers' loops: waiting for a wake-up with a timeout (the one way they do it) and running a
process's main coroutine."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


async def attendre_reveil(reveil: asyncio.Event, delai: float) -> bool:
    """Until `reveil` is set (True) or `delai` seconds have passed (False).

    `asyncio.timeout` rather than `asyncio.wait_for`: Python 3.11's wait_for can swallow a cancellation
    that arrives as the awaited event completes (CPython gh-86296, fixed in 3.12 by re-implementing it
    on timeout), and a worker's loop that swallows its stop never stops: its shutdown hangs. Seen in a
    webhook test whose loop was woken every few milliseconds."""
    try:
        async with asyncio.timeout(delai):
            await reveil.wait()
    except TimeoutError:
        return False
    return True


def executer(travail: Coroutine[Any, Any, T]) -> T:
    """Run a process's main coroutine on uvloop, as uvicorn runs the APIs (uvloop comes with
    uvicorn[standard]): the workers-only processes and the benches measure the loop production runs.
    About a fifth less CPU per webhook delivery than asyncio's own loop here (ADR 0026)."""
    return uvloop.run(travail)

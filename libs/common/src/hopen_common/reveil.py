"""Waiting for a wake-up with a timeout, the one way the workers' loops do it."""

from __future__ import annotations

import asyncio


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

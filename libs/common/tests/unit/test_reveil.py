"""A worker's loop waiting for a wake-up stops when it is cancelled, even when the wake-up comes in the
same instant (Python 3.11's wait_for swallowed that cancellation: the webhook loop's stop hung)."""

from __future__ import annotations

import asyncio

import pytest

from hopen_common.reveil import attendre_reveil


async def _boucle(reveil: asyncio.Event, tours: list[bool]) -> None:
    while True:
        reveil.clear()
        tours.append(await attendre_reveil(reveil, 30.0))


async def test_un_arret_au_moment_du_reveil_arrete_la_boucle() -> None:
    reveil, tours = asyncio.Event(), []
    boucle = asyncio.create_task(_boucle(reveil, tours))
    await asyncio.sleep(0.01)  # the loop waits
    reveil.set()  # woken and stopped in the same tick: the stop must win
    boucle.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(boucle, 2.0)
    assert tours == []


async def test_reveil_et_delai() -> None:
    reveil = asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, reveil.set)
    assert await attendre_reveil(reveil, 5.0) is True
    reveil.clear()
    assert await attendre_reveil(reveil, 0.01) is False

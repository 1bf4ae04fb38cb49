"""The second half of the crash protocol: objects no row references are deleted, late.

The grace period covers a piece whose object is written and whose row is not committed yet:
such an object is younger than ``plus_vieux_que`` and is left alone. Older unreferenced
objects can only come from a crash or a failed transaction, and nothing serves them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from hopen_common.stockage.base import ObjetListe, Stockage

_log = logging.getLogger(__name__)


@runtime_checkable
class AvecTemporaires(Protocol):
    async def purger_temporaires(self, *, plus_vieux_que: timedelta) -> int: ...


@dataclass
class BilanCollecte:
    examines: int = 0
    recents: int = 0  # within the grace period: not even looked up
    references: int = 0
    supprimes: int = 0
    temporaires: int = 0


async def collecter_orphelins(
    stockage: Stockage,
    *,
    cles_referencees: Callable[[list[str]], Awaitable[set[str]]],
    plus_vieux_que: timedelta,
    prefixe: str = "pieces/",
    lot: int = 500,
    maintenant: datetime | None = None,
) -> BilanCollecte:
    """Delete the objects under ``prefixe`` older than ``plus_vieux_que`` that
    ``cles_referencees`` (the service's query: "which of these keys have a row?") does not
    return. Batches of ``lot`` keys, one query each, progress logged per batch."""
    if plus_vieux_que <= timedelta(0):
        raise ValueError("a grace period is required: an upload in flight has no row yet")
    seuil = (maintenant or datetime.now(UTC)) - plus_vieux_que
    bilan = BilanCollecte()
    candidats: list[ObjetListe] = []

    async def traiter() -> None:
        cles = [o.cle for o in candidats]
        gardees = await cles_referencees(cles)
        bilan.references += sum(1 for c in cles if c in gardees)
        for cle in cles:
            if cle not in gardees:
                await stockage.supprimer(cle)
                bilan.supprimes += 1
        candidats.clear()
        _log.info(
            "orphans %s: %d examined, %d recent, %d referenced, %d deleted so far",
            prefixe, bilan.examines, bilan.recents, bilan.references, bilan.supprimes,
        )

    async for objet in stockage.lister(prefixe):
        bilan.examines += 1
        if objet.modifie_le >= seuil:
            bilan.recents += 1
            continue
        candidats.append(objet)
        if len(candidats) >= lot:
            await traiter()
    if candidats:
        await traiter()
    if isinstance(stockage, AvecTemporaires):
        bilan.temporaires = await stockage.purger_temporaires(plus_vieux_que=plus_vieux_que)
    _log.info("orphan collection of %s done: %s", prefixe, bilan)
    return bilan

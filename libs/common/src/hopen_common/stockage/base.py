"""The object-store contract shared by every backend (ADR 0011).

Keys are made by the server (:func:`nouvelle_cle`), never from a client's file name, so a key
is also a safe relative path on a filesystem. ``lire`` is awaited before it is iterated: a
missing object or an impossible range fails while an HTTP handler can still answer 404/416,
not after it has sent its headers.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

# Lowercase segments, no leading dot (no hidden files, no "..", nothing a shell or S3 console
# would read differently): exactly what nouvelle_cle makes, plus room for other prefixes.
_CLE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,127}(/[a-z0-9][a-z0-9_.-]{0,127}){0,7}")


class StockageErreur(RuntimeError):
    """A store failed; the message never carries credentials."""


class ObjetIntrouvable(StockageErreur, LookupError):
    def __init__(self, cle: str) -> None:
        super().__init__(f"no object under {cle!r}")
        self.cle = cle


class PlageInvalide(StockageErreur, ValueError):
    """``debut``/``fin`` outside ``0 <= debut <= fin <= taille`` (HTTP 416)."""


class CleInvalide(StockageErreur, ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ObjetEcrit:
    cle: str
    taille: int
    sha256: str  # hex, of exactly the bytes stored


@dataclass(frozen=True, slots=True)
class ObjetListe:
    cle: str
    taille: int
    modifie_le: datetime  # timezone-aware (UTC)


def verifier_cle(cle: str) -> str:
    if not _CLE.fullmatch(cle):
        raise CleInvalide(f"invalid object key {cle!r}")
    return cle


def nouvelle_cle(prefixe: str = "pieces") -> str:
    """A fresh key ``<prefixe>/<uuid4>``: never reused, so a write never replaces bytes a row
    already points to."""
    return verifier_cle(f"{prefixe.strip('/')}/{uuid.uuid4()}")


def verifier_plage(debut: int | None, fin: int | None, taille: int) -> tuple[int, int]:
    """``[debut, fin)`` with defaults ``0`` and ``taille``; half-open like a Python slice
    (an HTTP ``bytes=a-b`` range is ``debut=a, fin=b + 1``)."""
    d = 0 if debut is None else debut
    f = taille if fin is None else fin
    if not 0 <= d <= f <= taille:
        raise PlageInvalide(f"range [{d}, {f}) outside an object of {taille} bytes")
    return d, f


class CompteurSha256:
    """Counts and hashes the bytes a backend actually stores, whatever wraps the stream."""

    def __init__(self, flux: AsyncIterable[bytes]) -> None:
        self._flux = flux
        self._hash = hashlib.sha256()
        self.taille = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for morceau in self._flux:
            if morceau:
                self._hash.update(morceau)
                self.taille += len(morceau)
                yield morceau

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


@runtime_checkable
class Stockage(Protocol):
    """Bytes under keys. Every method streams: no backend holds a whole object in memory."""

    async def ecrire(self, cle: str, flux: AsyncIterable[bytes]) -> ObjetEcrit:
        """Store ``flux`` under ``cle``; visible only once complete. If ``flux`` raises (or the
        task is cancelled) nothing is left under ``cle`` and the exception propagates."""
        ...

    async def lire(
        self, cle: str, *, debut: int | None = None, fin: int | None = None
    ) -> AsyncIterator[bytes]:
        """Open ``[debut, fin)`` of the object (raises ObjetIntrouvable, PlageInvalide now),
        then iterate the returned stream."""
        ...

    async def taille(self, cle: str) -> int:
        """Size in bytes; raises ObjetIntrouvable."""
        ...

    async def supprimer(self, cle: str) -> None:
        """Delete; deleting a missing object is not an error (the collector may race a user)."""
        ...

    def lister(self, prefixe: str = "") -> AsyncIterator[ObjetListe]:
        """Every object whose key starts with ``prefixe`` (string prefix, as in S3)."""
        ...

    async def fermer(self) -> None:
        """Release clients/threads (idempotent)."""
        ...


async def lire_octets(
    stockage: Stockage, cle: str, *, debut: int | None = None, fin: int | None = None
) -> bytes:
    """A small range as bytes (content sniffing, zip directories): never a whole piece."""
    flux = await stockage.lire(cle, debut=debut, fin=fin)
    return b"".join([morceau async for morceau in flux])

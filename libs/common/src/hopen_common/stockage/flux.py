"""The upload path's stream wrapper: size limit, SHA-256 and first bytes, as the bytes pass.

The limit is enforced on the bytes received, not on a Content-Length header (absent with
chunked encoding, and a client may lie): the chunk that would cross it is never handed on,
the exception aborts the store's write, and the handler answers 413 without having buffered
anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator

from hopen_common.stockage.detection import OCTETS_ENTETE, FichierVide, type_par_entete

TAILLE_MAX_DEFAUT = 20 * 1024 * 1024


class TailleDepassee(Exception):
    """The stream went past ``limite`` bytes (HTTP 413)."""

    def __init__(self, limite: int) -> None:
        super().__init__(f"more than {limite} bytes")
        self.limite = limite


class RecepteurLimite:
    """Iterate it in place of ``flux``: same chunks, at most ``limite`` bytes in all.

    With ``verifier_entete`` the first bytes are checked by :func:`type_par_entete` as soon as
    enough have arrived, so an executable or an HTML page stops the upload at its first chunk
    (``TypeRefuse``), and an empty stream raises ``FichierVide`` at its end.
    """

    def __init__(
        self, flux: AsyncIterable[bytes], limite: int = TAILLE_MAX_DEFAUT, *, verifier_entete: bool = True
    ) -> None:
        if limite <= 0:
            raise ValueError("limite must be positive")
        self._flux = flux
        self.limite = limite
        self._verifier = verifier_entete
        self._hash = hashlib.sha256()
        self.taille = 0
        self.entete = b""  # the first OCTETS_ENTETE bytes
        self.termine = False

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        verifie = not self._verifier
        async for morceau in self._flux:
            if not morceau:
                continue
            if self.taille + len(morceau) > self.limite:
                raise TailleDepassee(self.limite)
            if len(self.entete) < OCTETS_ENTETE:
                self.entete += morceau[: OCTETS_ENTETE - len(self.entete)]
            self.taille += len(morceau)
            self._hash.update(morceau)
            if not verifie and len(self.entete) >= OCTETS_ENTETE:
                type_par_entete(self.entete)
                verifie = True
            yield morceau
        if self.taille == 0 and self._verifier:
            raise FichierVide()
        if not verifie:  # a file shorter than OCTETS_ENTETE
            type_par_entete(self.entete)
        self.termine = True

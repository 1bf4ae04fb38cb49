"""Objects in an S3-compatible bucket, through obstore (Rust ``object_store``; ADR 0011).

A write is a multipart upload fed from the async stream, ``TAILLE_PARTIE`` bytes per part
with at most ``PARTIES_EN_VOL`` parts in flight: memory stays bounded by their product, and
S3 makes the object visible only when the upload completes. When the stream raises, obstore
aborts the upload, so nothing appears under the key (parts of an upload killed with the
process are the bucket's lifecycle rule's business: AbortIncompleteMultipartUpload).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator
from typing import TYPE_CHECKING, Any

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import S3Store

from hopen_common.stockage.base import (
    CompteurSha256,
    ObjetEcrit,
    ObjetIntrouvable,
    ObjetListe,
    verifier_cle,
    verifier_plage,
)

if TYPE_CHECKING:
    from obstore import GetOptions

_log = logging.getLogger(__name__)

TAILLE_PARTIE = 5 * 1024 * 1024  # S3's minimum part size (all but the last)
PARTIES_EN_VOL = 1  # parts are Python bytes held by obstore until sent: 5 MiB per upload
MORCEAU_LECTURE = 256 * 1024


class StockageS3:
    def __init__(
        self,
        bucket: str,
        prefixe: str = "",
        *,
        endpoint: str = "",
        region: str = "us-east-1",
        access_key: str = "",
        secret_key: str = "",
        taille_partie: int = TAILLE_PARTIE,
        parties_en_vol: int = PARTIES_EN_VOL,
    ) -> None:
        config: dict[str, Any] = {"region": region}
        if endpoint:
            # Path-style: S3-compatible servers (SeaweedFS, Garage, Ceph) rarely have
            # per-bucket DNS names.
            config.update(endpoint=endpoint.rstrip("/"), virtual_hosted_style_request=False)
        if access_key:
            config.update(access_key_id=access_key, secret_access_key=secret_key)
        self.bucket = bucket
        self.prefixe = prefixe.strip("/")
        self.endpoint = endpoint
        self._taille_partie = taille_partie
        self._parties_en_vol = parties_en_vol
        self._store = S3Store(
            bucket,
            prefix=self.prefixe or None,
            config=config,  # type: ignore[arg-type]  # keys checked by S3Config at runtime
            client_options={"allow_http": endpoint.startswith("http://"), "timeout": "300s",
                            "connect_timeout": "10s"},
        )

    def __repr__(self) -> str:  # no credentials
        return f"StockageS3(bucket={self.bucket!r}, prefixe={self.prefixe!r}, endpoint={self.endpoint!r})"

    async def ecrire(self, cle: str, flux: AsyncIterable[bytes]) -> ObjetEcrit:
        verifier_cle(cle)
        compteur = CompteurSha256(flux)
        annulation = asyncio.Event()
        # obstore aborts the multipart upload when the stream raises, but not when its future
        # is dropped (a cancelled request): the upload would stay pending. So the put runs in
        # its own task, and a cancellation is turned into the stream raising.
        envoi = asyncio.ensure_future(obstore.put_async(
            self._store, cle, _annulable(compteur, annulation), use_multipart=True,
            chunk_size=self._taille_partie, max_concurrency=self._parties_en_vol,
        ))
        try:
            await asyncio.shield(envoi)
        except asyncio.CancelledError:
            annulation.set()
            with contextlib.suppress(BaseException):
                await envoi  # returns once obstore has aborted the upload
            if envoi.done() and not envoi.cancelled() and envoi.exception() is None:
                # Completed just before the cancellation reached it: nobody will get its
                # ObjetEcrit, so no row will point to it.
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.supprimer(cle))
            raise
        return ObjetEcrit(cle=cle, taille=compteur.taille, sha256=compteur.sha256)

    async def lire(
        self, cle: str, *, debut: int | None = None, fin: int | None = None
    ) -> AsyncIterator[bytes]:
        verifier_cle(cle)
        options: GetOptions = {}
        if debut is not None or fin is not None:
            # A range needs the size to be checked the same way as on files (S3 clamps an
            # end past the object and refuses an empty range; we refuse the first, allow
            # the second).
            d, f = verifier_plage(debut, fin, await self.taille(cle))
            if d == f:
                return _vide()
            options["range"] = (d, f)
        try:
            resultat = await obstore.get_async(self._store, cle, options=options)
        except (NotFoundError, FileNotFoundError):  # obstore raises the builtin for a 404 GET
            raise ObjetIntrouvable(cle) from None
        return _flux(resultat.stream(min_chunk_size=MORCEAU_LECTURE))

    async def taille(self, cle: str) -> int:
        verifier_cle(cle)
        try:
            meta = await obstore.head_async(self._store, cle)
        except (NotFoundError, FileNotFoundError):  # obstore raises the builtin for a 404 GET
            raise ObjetIntrouvable(cle) from None
        return int(meta["size"])

    async def supprimer(self, cle: str) -> None:
        verifier_cle(cle)
        try:
            await obstore.delete_async(self._store, cle)
        except (NotFoundError, FileNotFoundError):  # obstore raises the builtin for a 404 GET
            pass

    async def lister(self, prefixe: str = "") -> AsyncIterator[ObjetListe]:
        # object_store matches a prefix by whole path segments; the contract is a string
        # prefix (as in S3), so list the prefix's directory and filter.
        dossier = prefixe.rpartition("/")[0]
        pages = obstore.list(self._store, prefix=dossier or None, chunk_size=1000)
        async for page in pages:
            for meta in page:
                cle = meta["path"]
                # object_store lists "directory" prefixes too; a key never ends with '/'.
                if not cle.startswith(prefixe) or cle.endswith("/"):
                    continue
                yield ObjetListe(cle=cle, taille=int(meta["size"]), modifie_le=meta["last_modified"])

    async def fermer(self) -> None:
        return None


class EcritureAnnulee(Exception):
    """Raised into obstore's stream so that it aborts the upload."""


async def _annulable(flux: AsyncIterable[bytes], annulation: asyncio.Event) -> AsyncIterator[bytes]:
    iterateur = aiter(flux)
    attente = asyncio.ensure_future(annulation.wait())
    try:
        while True:
            suivant = asyncio.ensure_future(anext(iterateur))
            await asyncio.wait({suivant, attente}, return_when=asyncio.FIRST_COMPLETED)
            if annulation.is_set():
                suivant.cancel()
                with contextlib.suppress(BaseException):
                    await suivant
                raise EcritureAnnulee()
            try:
                morceau = suivant.result()
            except StopAsyncIteration:
                return
            yield morceau
    finally:
        attente.cancel()


async def _vide() -> AsyncIterator[bytes]:
    return
    yield  # pragma: no cover - makes this an async generator


async def _flux(flux: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for morceau in flux:
        yield bytes(morceau)

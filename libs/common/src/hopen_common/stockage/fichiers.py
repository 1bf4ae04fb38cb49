"""Objects as files under one root directory (development, tests, single-host deployments).

A write goes to ``<racine>/.tmp/<uuid>.part`` (same filesystem, so the rename is atomic), is
fsynced, renamed to its key, and the directory is fsynced: after a crash an object is either
complete under its key or absent (a stale ``.part`` is removed by :meth:`purger_temporaires`).
Blocking file calls run in worker threads, a buffer of at most ``TAMPON`` bytes at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from hopen_common.stockage.base import (
    CompteurSha256,
    ObjetEcrit,
    ObjetIntrouvable,
    ObjetListe,
    verifier_cle,
    verifier_plage,
)

_log = logging.getLogger(__name__)
T = TypeVar("T")

TAMPON = 1024 * 1024  # one thread hop per MiB written, not per network chunk
MORCEAU_LECTURE = 256 * 1024
DOSSIER_TEMPORAIRE = ".tmp"


def _fsync_dossier(dossier: Path) -> None:
    fd = os.open(dossier, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StockageFichiers:
    def __init__(self, racine: Path | str) -> None:
        self.racine = Path(racine).resolve()
        self._temporaires = self.racine / DOSSIER_TEMPORAIRE

    def __repr__(self) -> str:
        return f"StockageFichiers({str(self.racine)!r})"

    def _chemin(self, cle: str) -> Path:
        return self.racine / verifier_cle(cle)

    async def ecrire(self, cle: str, flux: AsyncIterable[bytes]) -> ObjetEcrit:
        final = self._chemin(cle)
        # Creating a directory entry is quick and, done inline, cannot leak an fd to a
        # cancellation between the open and the try below.
        self._temporaires.mkdir(parents=True, exist_ok=True)
        temporaire = self._temporaires / f"{uuid.uuid4()}.part"
        fd = os.open(temporaire, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640)
        compteur = CompteurSha256(flux)
        tampon = bytearray()
        publie = False
        try:
            try:
                async for morceau in compteur:
                    tampon += morceau
                    if len(tampon) >= TAMPON:
                        await _jusqu_au_bout(_ecrire_tout, fd, bytes(tampon))
                        tampon.clear()
                if tampon:
                    await _jusqu_au_bout(_ecrire_tout, fd, bytes(tampon))
                    tampon.clear()
                await _jusqu_au_bout(os.fsync, fd)
            finally:
                os.close(fd)  # no thread still uses it: _jusqu_au_bout waited
            publie = True
            await _jusqu_au_bout(self._publier, temporaire, final)
        except BaseException:
            # Cancellation included: a half-written object must never stay anywhere, and a
            # published one whose ObjetEcrit nobody gets is undone (keys are fresh: it is ours).
            with contextlib.suppress(FileNotFoundError):
                temporaire.unlink()
            if publie:
                with contextlib.suppress(FileNotFoundError):
                    final.unlink()
            raise
        return ObjetEcrit(cle=cle, taille=compteur.taille, sha256=compteur.sha256)

    @staticmethod
    def _publier(temporaire: Path, final: Path) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporaire, final)
        _fsync_dossier(final.parent)

    async def lire(
        self, cle: str, *, debut: int | None = None, fin: int | None = None
    ) -> AsyncIterator[bytes]:
        chemin = self._chemin(cle)
        try:
            fichier = await asyncio.to_thread(chemin.open, "rb")
        except FileNotFoundError:
            raise ObjetIntrouvable(cle) from None
        try:
            taille = os.fstat(fichier.fileno()).st_size
            d, f = verifier_plage(debut, fin, taille)
        except BaseException:
            fichier.close()
            raise
        return self._flux(fichier, d, f)

    @staticmethod
    async def _flux(fichier: BinaryIO, debut: int, fin: int) -> AsyncIterator[bytes]:
        try:
            await asyncio.to_thread(fichier.seek, debut)
            reste = fin - debut
            while reste > 0:
                morceau = await asyncio.to_thread(fichier.read, min(MORCEAU_LECTURE, reste))
                if not morceau:  # truncated under us: stop short rather than loop
                    break
                reste -= len(morceau)
                yield morceau
        finally:
            fichier.close()

    async def taille(self, cle: str) -> int:
        try:
            return (await asyncio.to_thread(self._chemin(cle).stat)).st_size
        except FileNotFoundError:
            raise ObjetIntrouvable(cle) from None

    async def supprimer(self, cle: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._chemin(cle).unlink)

    async def lister(self, prefixe: str = "") -> AsyncIterator[ObjetListe]:
        # Walk only the directory the prefix names; each directory is read whole before its
        # entries are yielded, so a consumer may delete while it lists.
        dossier_prefixe, _, _ = prefixe.rpartition("/")
        depart = self.racine / dossier_prefixe if dossier_prefixe else self.racine
        a_voir = [depart]
        while a_voir:
            dossier = a_voir.pop()
            try:
                entrees = await asyncio.to_thread(_entrees, dossier)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entree in entrees:
                if entree.name.startswith("."):
                    continue  # .tmp and anything that is not a key
                chemin = Path(entree.path)
                cle = chemin.relative_to(self.racine).as_posix()
                if entree.is_dir(follow_symlinks=False):
                    if (cle + "/").startswith(prefixe) or prefixe.startswith(cle + "/"):
                        a_voir.append(chemin)
                    continue
                if not cle.startswith(prefixe):
                    continue
                try:
                    stat = entree.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                yield ObjetListe(
                    cle=cle, taille=stat.st_size,
                    modifie_le=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                )

    async def purger_temporaires(self, *, plus_vieux_que: timedelta) -> int:
        """Remove ``.part`` files a crashed writer left (none is younger than the grace period:
        a write in progress keeps its file)."""
        limite = time.time() - plus_vieux_que.total_seconds()

        def purger() -> int:
            n = 0
            try:
                entrees = list(os.scandir(self._temporaires))
            except FileNotFoundError:
                return 0
            for entree in entrees:
                with contextlib.suppress(FileNotFoundError):
                    if entree.stat().st_mtime < limite:
                        os.unlink(entree.path)
                        n += 1
            return n

        n = await asyncio.to_thread(purger)
        if n:
            _log.info("removed %d stale temporary files from %s", n, self._temporaires)
        return n

    async def fermer(self) -> None:
        return None


async def _jusqu_au_bout(fonction: Callable[..., T], *args: Any) -> T:
    """``asyncio.to_thread`` whose thread is waited for even when the caller is cancelled: a
    cancelled ``to_thread`` keeps running, and must not write to an fd we then close (its
    number may already name another file) nor rename after we cleaned up."""
    travail = asyncio.ensure_future(asyncio.to_thread(fonction, *args))
    try:
        return await asyncio.shield(travail)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await travail
        raise


def _ecrire_tout(fd: int, donnees: bytes) -> None:
    vue = memoryview(donnees)
    while vue:
        ecrits = os.write(fd, vue)
        vue = vue[ecrits:]


def _entrees(dossier: Path) -> list[os.DirEntry[str]]:
    with os.scandir(dossier) as it:
        return sorted(it, key=lambda e: e.name)

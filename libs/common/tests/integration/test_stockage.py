"""One contract, two backends: StockageFichiers on a temp dir, StockageS3 on a real SeaweedFS.

Nothing is mocked: the S3 backend talks HTTP to ``weed server -s3`` started by the plugin's
``s3_server`` fixture (only when an S3 case runs).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import time
import tracemalloc
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from hopen_common.stockage import (
    FichierVide,
    ObjetIntrouvable,
    PlageInvalide,
    Stockage,
    StockageFichiers,
    StockageS3,
    TailleDepassee,
    TypePiece,
    TypeRefuse,
    collecter_orphelins,
    lire_octets,
    nouvelle_cle,
    recevoir_piece,
)
from hopen_common.testing.plugin import S3ServerInfo

MIB = 1024 * 1024
MORCEAU = 64 * 1024


class Cas:
    def __init__(self, stockage: Stockage, *, racine: Path | None = None,
                 s3: S3ServerInfo | None = None, bucket: str = "") -> None:
        self.stockage, self.racine, self.s3, self.bucket = stockage, racine, s3, bucket

    async def rien_ne_reste(self, prefixe: str = "") -> None:
        """No object, no temp file, no multipart upload pending."""
        assert [o async for o in self.stockage.lister(prefixe)] == []
        if self.racine is not None:
            tmp = self.racine / ".tmp"
            assert not tmp.exists() or list(tmp.iterdir()) == []
        if self.s3 is not None:
            assert "<Upload>" not in await asyncio.to_thread(self.s3.multipart_uploads, self.bucket)


@pytest.fixture(scope="session")
def s3_bucket(s3_server: S3ServerInfo) -> str:
    return s3_server.create_bucket("hopen-tests")


@pytest.fixture(params=["fichiers", "s3"])
def cas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cas]:
    if request.param == "fichiers":
        yield Cas(StockageFichiers(tmp_path / "objets"), racine=tmp_path / "objets")
        return
    s3: S3ServerInfo = request.getfixturevalue("s3_server")
    bucket: str = request.getfixturevalue("s3_bucket")
    # A prefix per test: one bucket for the session, tests never see each other's objects.
    stockage = StockageS3(bucket, f"t-{uuid.uuid4().hex[:12]}", endpoint=s3.endpoint,
                          region=s3.region, access_key=s3.access_key, secret_key=s3.secret_key)
    yield Cas(stockage, s3=s3, bucket=bucket)


async def genere(taille: int, *, graine: int = 8, entete: bytes = b"%PDF-1.7\n",
                 casse_a: int | None = None) -> AsyncIterator[bytes]:
    """``taille`` pseudo-random bytes in 64 KiB chunks, made as they are asked for."""
    rng = random.Random(graine)
    envoye = 0
    premier = entete
    while envoye < taille:
        if casse_a is not None and envoye >= casse_a:
            raise ConnectionResetError("client went away")
        n = min(MORCEAU, taille - envoye)
        morceau = (premier + rng.randbytes(n))[:n]
        premier = b""
        envoye += n
        yield morceau
        await asyncio.sleep(0)


async def sha_de(flux: AsyncIterator[bytes]) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    async for m in flux:
        h.update(m)
        n += len(m)
    return h.hexdigest(), n


def attendu(taille: int, **kw: object) -> str:
    async def calc() -> str:
        return (await sha_de(genere(taille, **kw)))[0]  # type: ignore[arg-type]

    return asyncio.run(calc())


async def test_stockage_aller_retour_20_mio(cas: Cas) -> None:
    cle = nouvelle_cle()
    ecrit = await cas.stockage.ecrire(cle, genere(20 * MIB))
    sha = await asyncio.to_thread(attendu, 20 * MIB)
    assert (ecrit.cle, ecrit.taille, ecrit.sha256) == (cle, 20 * MIB, sha)
    assert await cas.stockage.taille(cle) == 20 * MIB
    assert await sha_de(await cas.stockage.lire(cle)) == (sha, 20 * MIB)


async def test_stockage_lectures_par_plage(cas: Cas) -> None:
    cle = nouvelle_cle()
    donnees = b"".join([m async for m in genere(MIB + 123)])
    await cas.stockage.ecrire(cle, genere(MIB + 123))
    taille = len(donnees)
    for debut, fin in [(0, 10), (100, 5000), (taille - 7, None), (None, 3), (500_000, taille),
                       (taille, taille), (42, 42)]:
        lu = await lire_octets(cas.stockage, cle, debut=debut, fin=fin)
        assert lu == donnees[debut:fin], (debut, fin)
    for debut, fin in [(0, taille + 1), (10, 5), (-1, 4), (taille + 1, None)]:
        with pytest.raises(PlageInvalide):
            await cas.stockage.lire(cle, debut=debut, fin=fin)
    with pytest.raises(ObjetIntrouvable):
        await cas.stockage.lire(nouvelle_cle())
    with pytest.raises(ObjetIntrouvable):
        await cas.stockage.taille(nouvelle_cle())


async def test_stockage_lister_et_supprimer(cas: Cas) -> None:
    cles = sorted(nouvelle_cle() for _ in range(3))
    for i, cle in enumerate(cles):
        await cas.stockage.ecrire(cle, genere(1000 + i))
    autre = nouvelle_cle("autres")
    await cas.stockage.ecrire(autre, genere(10))
    listes = sorted([o async for o in cas.stockage.lister("pieces/")], key=lambda o: o.cle)
    assert [(o.cle, o.taille) for o in listes] == [(c, 1000 + i) for i, c in enumerate(cles)]
    assert all(o.modifie_le.tzinfo is not None for o in listes)
    # A string prefix, as in S3, not a directory.
    assert {o.cle async for o in cas.stockage.lister("pie")} == set(cles)
    assert {o.cle async for o in cas.stockage.lister(cles[0][:-3])} == {cles[0]}
    assert {o.cle async for o in cas.stockage.lister()} == {*cles, autre}

    await cas.stockage.supprimer(cles[0])
    await cas.stockage.supprimer(cles[0])  # idempotent
    with pytest.raises(ObjetIntrouvable):
        await cas.stockage.taille(cles[0])
    assert {o.cle async for o in cas.stockage.lister("pieces/")} == set(cles[1:])


async def test_stockage_limite_depassee_ne_laisse_rien(cas: Cas) -> None:
    with pytest.raises(TailleDepassee):
        await recevoir_piece(cas.stockage, genere(12 * MIB), limite=11 * MIB)
    await cas.rien_ne_reste()


async def test_stockage_flux_interrompu_ne_laisse_rien(cas: Cas) -> None:
    # Past one 5 MiB part, so the S3 multipart upload has really begun when the client leaves.
    with pytest.raises(ConnectionResetError):
        await cas.stockage.ecrire(nouvelle_cle(), genere(20 * MIB, casse_a=7 * MIB))
    await cas.rien_ne_reste()


async def test_stockage_ecriture_annulee_ne_laisse_rien(cas: Cas) -> None:
    async def lent() -> AsyncIterator[bytes]:
        async for m in genere(8 * MIB):
            yield m
            await asyncio.sleep(0.01)  # ~1.3 s in all: the cancellation lands mid-stream

    tache = asyncio.create_task(cas.stockage.ecrire(nouvelle_cle(), lent()))
    await asyncio.sleep(0.3)
    tache.cancel()
    with pytest.raises(asyncio.CancelledError):
        await tache
    await cas.rien_ne_reste()


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<Types><Override PartName="/word/document.xml" ContentType='
                   '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                   '</Types>')
        z.writestr("word/document.xml", "<w:document/>" + "x" * 300_000)  # directory far from start
    return buf.getvalue()


async def en_flux(donnees: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(donnees), MORCEAU):
        yield donnees[i:i + MORCEAU]


async def test_stockage_reception_type_lu_sur_l_objet(cas: Cas) -> None:
    donnees = docx()
    piece = await recevoir_piece(cas.stockage, en_flux(donnees))
    assert piece.type_piece is TypePiece.DOCX
    assert piece.taille == len(donnees)
    assert piece.sha256 == hashlib.sha256(donnees).hexdigest()
    assert await lire_octets(cas.stockage, piece.cle) == donnees
    assert (await recevoir_piece(cas.stockage, genere(3000))).type_piece is TypePiece.PDF


@pytest.mark.parametrize("donnees", [
    b"MZ\x90\x00" + b"\x00" * 300_000,
    b"",
    b"<!DOCTYPE html><title>facture.pdf</title>",
    b"PK\x03\x04 not a real zip" + b"\x00" * 100,
], ids=["exe", "vide", "html", "faux-zip"])
async def test_stockage_reception_refusee_ne_laisse_rien(cas: Cas, donnees: bytes) -> None:
    with pytest.raises(TypeRefuse) as refus:
        await recevoir_piece(cas.stockage, en_flux(donnees))
    if not donnees:
        assert isinstance(refus.value, FichierVide)
    await cas.rien_ne_reste()


async def test_stockage_collecte_des_orphelins(cas: Cas) -> None:
    reference, orphelin = nouvelle_cle(), nouvelle_cle()
    await cas.stockage.ecrire(reference, genere(100))
    await cas.stockage.ecrire(orphelin, genere(100))
    await asyncio.sleep(3.0)  # S3 modification times have a one-second resolution
    recent = nouvelle_cle()  # an upload whose row is not committed yet
    await cas.stockage.ecrire(recent, genere(100))
    if cas.racine is not None:  # a .part a crashed writer left
        (cas.racine / ".tmp" / "crash.part").write_bytes(b"half")
        os.utime(cas.racine / ".tmp" / "crash.part", (time.time() - 10, time.time() - 10))
    demandes: list[list[str]] = []

    async def cles_referencees(cles: list[str]) -> set[str]:
        demandes.append(sorted(cles))
        return {reference} & set(cles)

    bilan = await collecter_orphelins(cas.stockage, cles_referencees=cles_referencees,
                                      plus_vieux_que=timedelta(seconds=1.5), lot=1)
    assert {o.cle async for o in cas.stockage.lister("pieces/")} == {reference, recent}
    assert (bilan.examines, bilan.recents, bilan.references, bilan.supprimes) == (3, 1, 1, 1)
    assert sorted(c for d in demandes for c in d) == sorted([reference, orphelin])  # recent: not asked
    if cas.racine is not None:
        assert bilan.temporaires == 1
        assert list((cas.racine / ".tmp").iterdir()) == []


async def test_stockage_ecrire_20_mio_sans_les_garder_en_memoire(cas: Cas) -> None:
    """Python allocations while 20 MiB go through the interface stay far below 20 MiB: files
    buffer 1 MiB, S3 holds one 5 MiB part (TAILLE_PARTIE x PARTIES_EN_VOL)."""
    await cas.stockage.ecrire(nouvelle_cle(), genere(MIB))  # warm clients and pools
    rss_avant = _rss()
    tracemalloc.start()
    try:
        piece = await recevoir_piece(cas.stockage, genere(20 * MIB), limite=20 * MIB)
        _, pic = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_apres = _rss()
    assert piece.taille == 20 * MIB
    assert pic < 8 * MIB, f"peak of traced Python allocations: {pic / MIB:.1f} MiB"
    assert rss_apres - rss_avant < 16 * MIB, f"RSS grew by {(rss_apres - rss_avant) / MIB:.1f} MiB"


def _rss() -> int:
    for ligne in Path("/proc/self/status").read_text().splitlines():
        if ligne.startswith("VmRSS:"):
            return int(ligne.split()[1]) * 1024
    raise AssertionError("no VmRSS")

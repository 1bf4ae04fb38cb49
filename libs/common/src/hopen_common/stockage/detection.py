"""What a piece is, from its bytes: never from its name or its Content-Type header.

Accepted: PDF, PNG, JPEG, DOCX/XLSX (OOXML) and ODT/ODS (OpenDocument). The first bytes
settle everything but zips; a zip is told apart by its entries (``mimetype`` for
OpenDocument, ``[Content_Types].xml`` for OOXML), read through its central directory at the
end of the file: :func:`type_du_zip` takes any seekable file, so it runs on the stored
object through range reads (:func:`detecter_type_objet`) and never needs the whole file in
memory. Entries are read with a small bound: a zip bomb inflates nothing.
"""

from __future__ import annotations

import asyncio
import io
import struct
import zipfile
from enum import StrEnum
from typing import BinaryIO, Final, Literal

from hopen_common.stockage.base import Stockage, lire_octets

OCTETS_ENTETE: Final = 64
ZIP: Final = "zip"
REPERTOIRE_MAX = 1024 * 1024  # a real office file's central directory is a few KiB
CONTENT_TYPES_MAX = 256 * 1024
LECTURE_DISTANTE_MAX = 8 * 1024 * 1024  # bytes a zip inspection may fetch in all


class TypePiece(StrEnum):
    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ODT = "application/vnd.oasis.opendocument.text"
    ODS = "application/vnd.oasis.opendocument.spreadsheet"

    @property
    def extension(self) -> str:
        return self.name.lower() if self is not TypePiece.JPEG else "jpg"


class TypeRefuse(Exception):
    """Not an accepted piece (HTTP 415); ``motif`` says why, in one word."""

    def __init__(self, motif: str, detail: str = "") -> None:
        super().__init__(f"{motif}: {detail}" if detail else motif)
        self.motif = motif
        self.detail = detail


class FichierVide(TypeRefuse):
    def __init__(self) -> None:
        super().__init__("vide", "empty file")


_EXECUTABLES: Final = (
    (b"MZ", "Windows/DOS executable"),
    (b"\x7fELF", "ELF executable"),
    (b"#!", "script"),
    (b"\xfe\xed\xfa\xce", "Mach-O"), (b"\xfe\xed\xfa\xcf", "Mach-O"),
    (b"\xce\xfa\xed\xfe", "Mach-O"), (b"\xcf\xfa\xed\xfe", "Mach-O"),
    (b"\xca\xfe\xba\xbe", "Mach-O universal / Java class"),
    (b"\x00asm", "WebAssembly"),
)
_SIGNATURES: Final = (
    (b"%PDF-", TypePiece.PDF),
    (b"\x89PNG\r\n\x1a\n", TypePiece.PNG),
    (b"\xff\xd8\xff", TypePiece.JPEG),
)
_ODF: Final = {
    b"application/vnd.oasis.opendocument.text": TypePiece.ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": TypePiece.ODS,
}
_OOXML: Final = (
    (b"wordprocessingml.document.main+xml", TypePiece.DOCX),
    (b"spreadsheetml.sheet.main+xml", TypePiece.XLSX),
)


def type_par_entete(entete: bytes) -> TypePiece | Literal["zip"]:
    """The type from the first bytes, or ``"zip"`` when the entries must be read."""
    if not entete:
        raise FichierVide()
    for magie, nom in _EXECUTABLES:
        if entete.startswith(magie):
            raise TypeRefuse("executable", nom)
    for magie, type_piece in _SIGNATURES:
        if entete.startswith(magie):
            return type_piece
    if entete.startswith(b"PK\x03\x04"):
        return ZIP
    raise TypeRefuse("inconnu", "not PDF, PNG, JPEG, OOXML or OpenDocument")


def _taille_repertoire(fichier: BinaryIO) -> int:
    """Size of the central directory, from the end record, before zipfile reads it whole."""
    fin = fichier.seek(0, io.SEEK_END)
    depart = max(0, fin - (22 + 65535))
    fichier.seek(depart)
    queue = fichier.read(fin - depart)
    position = queue.rfind(b"PK\x05\x06")
    if position < 0 or len(queue) - position < 22:
        raise TypeRefuse("conteneur", "no zip end record")
    taille: int = struct.unpack_from("<I", queue, position + 12)[0]
    return taille


def _lire_borne(archive: zipfile.ZipFile, nom: str, borne: int) -> bytes:
    with archive.open(nom) as entree:
        donnees = entree.read(borne + 1)
    if len(donnees) > borne:
        raise TypeRefuse("conteneur", f"{nom} larger than {borne} bytes")
    return donnees


def type_du_zip(fichier: BinaryIO) -> TypePiece:
    """DOCX/XLSX/ODT/ODS from a zip's entries; anything else (a plain zip, a jar, a macro
    document, an encrypted or broken archive) is refused."""
    try:
        if _taille_repertoire(fichier) > REPERTOIRE_MAX:
            raise TypeRefuse("conteneur", "central directory too large")
        fichier.seek(0)
        with zipfile.ZipFile(fichier) as archive:
            noms = set(archive.namelist())
            if any(n.lower().endswith("vbaproject.bin") for n in noms):
                raise TypeRefuse("macros", "document with VBA macros")
            if "mimetype" in noms:
                mimetype = _lire_borne(archive, "mimetype", 256).strip()
                if mimetype in _ODF:
                    return _ODF[mimetype]
                raise TypeRefuse("conteneur", "OpenDocument of another kind")
            if "[Content_Types].xml" in noms:
                types = _lire_borne(archive, "[Content_Types].xml", CONTENT_TYPES_MAX).lower()
                if b"macroenabled" in types or b"vbaproject" in types:
                    raise TypeRefuse("macros", "macro-enabled Office document")
                for marque, type_piece in _OOXML:
                    if marque in types:
                        return type_piece
                raise TypeRefuse("conteneur", "Office document of another kind")
    except TypeRefuse:
        raise
    except Exception as exc:
        # BadZipFile, RuntimeError (encrypted entry), zlib.error, EOFError, OSError: a broken
        # archive is a refusal, not a 500.
        raise TypeRefuse("conteneur", f"unreadable zip ({type(exc).__name__})") from None
    raise TypeRefuse("conteneur", "zip that is neither OOXML nor OpenDocument")


def detecter_type(premiers_octets: bytes, fichier: BinaryIO | None = None) -> TypePiece:
    """The type of a piece from its first bytes and, for a zip, the whole file as ``fichier``
    (seekable; only its directory and two small entries are read)."""
    resultat = type_par_entete(premiers_octets)
    if resultat != ZIP:
        return TypePiece(resultat)
    if fichier is None:
        raise ValueError("a zip needs the seekable file to be told apart")
    return type_du_zip(fichier)


class _LecteurDistant(io.RawIOBase):
    """A seekable read-only file over a stored object: each read is a range request run on
    the event loop that owns the store (this object lives in a worker thread)."""

    def __init__(self, stockage: Stockage, cle: str, taille: int, boucle: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._stockage, self._cle, self._taille, self._boucle = stockage, cle, taille, boucle
        self._position = 0
        self.octets_lus = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._taille}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, tampon: memoryview | bytearray) -> int:  # type: ignore[override]
        fin = min(self._taille, self._position + len(tampon))
        if fin <= self._position:
            return 0
        self.octets_lus += fin - self._position
        if self.octets_lus > LECTURE_DISTANTE_MAX:
            raise OSError("zip inspection read too much")
        futur = asyncio.run_coroutine_threadsafe(
            lire_octets(self._stockage, self._cle, debut=self._position, fin=fin), self._boucle
        )
        donnees = futur.result(timeout=60)
        n = len(donnees)
        tampon[:n] = donnees
        self._position += n
        return n


async def detecter_type_objet(
    stockage: Stockage, cle: str, *, entete: bytes | None = None, taille: int | None = None
) -> TypePiece:
    """:func:`detecter_type` on a stored object, through range reads."""
    if taille is None:
        taille = await stockage.taille(cle)
    if entete is None:
        entete = await lire_octets(stockage, cle, debut=0, fin=min(OCTETS_ENTETE, taille))
    resultat = type_par_entete(entete)
    if resultat != ZIP:
        return TypePiece(resultat)
    boucle = asyncio.get_running_loop()

    def inspecter() -> TypePiece:
        brut = _LecteurDistant(stockage, cle, taille, boucle)
        with io.BufferedReader(brut, buffer_size=64 * 1024) as lecteur:
            return type_du_zip(lecteur)

    return await asyncio.to_thread(inspecter)

"""Tiny real files of every accepted piece type (and a few refused ones), made here, for the tests,
the end-to-end walk-through and the benchmark: the server detects types from these bytes."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

CT_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CT_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def pdf(texte: str = "piece") -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n% " + texte.encode() + b"\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def pdf_de_taille(taille: int) -> bytes:
    """A PDF header followed by filler up to `taille` bytes (limits, ranges, benchmarks)."""
    entete = b"%PDF-1.7\n"
    motif = bytes(range(256))
    corps = (motif * (taille // 256 + 1))[: max(0, taille - len(entete))]
    return entete + corps


def png() -> bytes:
    def bloc(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + bloc(b"IHDR", ihdr) + bloc(b"IDAT", zlib.compress(b"\x00\x00"))
            + bloc(b"IEND", b""))


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def _ooxml(content_type: str, partie: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{partie}" ContentType="{content_type}"/></Types>'))
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr(partie, "<document/>")
    return buf.getvalue()


def docx() -> bytes:
    return _ooxml(CT_DOCX, "word/document.xml")


def xlsx() -> bytes:
    return _ooxml(CT_XLSX, "xl/workbook.xml")


def _odf(media_type: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        # OpenDocument: `mimetype` first and stored, as the specification asks.
        z.writestr(zipfile.ZipInfo("mimetype"), media_type, compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", "<office:document-content/>", compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", "<manifest:manifest/>", compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def odt() -> bytes:
    return _odf("application/vnd.oasis.opendocument.text")


def ods() -> bytes:
    return _odf("application/vnd.oasis.opendocument.spreadsheet")


def exe() -> bytes:
    """A Windows executable's first bytes (MZ header, PE signature): refused whatever its name."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"PE\x00\x00" * 8


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n"

"""Content sniffing and the upload stream wrapper, on small real samples made here."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator

import pytest

from hopen_common.stockage import (
    FichierVide,
    RecepteurLimite,
    TailleDepassee,
    TypePiece,
    TypeRefuse,
    detecter_type,
)
from hopen_common.stockage.detection import OCTETS_ENTETE
from hopen_common.testing.fichiers import jpeg, png

CT_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CT_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
CT_DOCM = "application/vnd.ms-word.document.macroEnabled.main+xml"


def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")






def ooxml(content_type: str, partie: str, *, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{partie}" ContentType="{content_type}"/></Types>'))
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr(partie, "<document/>")
        for nom, data in (extra or {}).items():
            z.writestr(nom, data)
    return buf.getvalue()


def odf(mimetype: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", "<office:document-content/>", compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", "<manifest/>")
    return buf.getvalue()


def zip_simple() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("lisezmoi.txt", "bonjour")
    return buf.getvalue()


def zip_bombe() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b" " * (50 * 1024 * 1024))  # inflates to 50 MiB
    return buf.getvalue()


ACCEPTES = [
    ("pdf", pdf(), TypePiece.PDF),
    ("png", png(), TypePiece.PNG),
    ("jpeg", jpeg(), TypePiece.JPEG),
    ("docx", ooxml(CT_DOCX, "word/document.xml"), TypePiece.DOCX),
    ("xlsx", ooxml(CT_XLSX, "xl/workbook.xml"), TypePiece.XLSX),
    ("odt", odf("application/vnd.oasis.opendocument.text"), TypePiece.ODT),
    ("ods", odf("application/vnd.oasis.opendocument.spreadsheet"), TypePiece.ODS),
]
REFUSES = [
    ("vide", b"", "vide"),
    ("exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"PE\x00\x00", "executable"),
    ("elf", b"\x7fELF\x02\x01\x01" + b"\x00" * 57, "executable"),
    ("script", b"#!/bin/sh\nrm -rf /\n", "executable"),
    ("html renomme .pdf", b"<!DOCTYPE html><html><body>facture.pdf</body></html>", "inconnu"),
    ("texte", b"just some text", "inconnu"),
    ("pdf sans tiret", b"%PDF1.4 not quite", "inconnu"),
    ("zip simple", zip_simple(), "conteneur"),
    ("pptx", ooxml(CT_PPTX, "ppt/presentation.xml"), "conteneur"),
    ("odp", odf("application/vnd.oasis.opendocument.presentation"), "conteneur"),
    ("docm", ooxml(CT_DOCM, "word/document.xml"), "macros"),
    ("docx avec vba", ooxml(CT_DOCX, "word/document.xml", extra={"word/vbaProject.bin": b"\x00"}), "macros"),
    ("zip tronque", ooxml(CT_DOCX, "word/document.xml")[:-30], "conteneur"),
    ("bombe", zip_bombe(), "conteneur"),
]


@pytest.mark.parametrize(("nom", "donnees", "attendu"), ACCEPTES, ids=[a[0] for a in ACCEPTES])
def test_stockage_detection_accepte(nom: str, donnees: bytes, attendu: TypePiece) -> None:
    assert detecter_type(donnees[:OCTETS_ENTETE], io.BytesIO(donnees)) is attendu


@pytest.mark.parametrize(("nom", "donnees", "motif"), REFUSES, ids=[r[0] for r in REFUSES])
def test_stockage_detection_refuse(nom: str, donnees: bytes, motif: str) -> None:
    with pytest.raises(TypeRefuse) as refus:
        detecter_type(donnees[:OCTETS_ENTETE], io.BytesIO(donnees))
    assert refus.value.motif == motif


def test_stockage_detection_zip_sans_fichier_est_une_erreur_de_programmation() -> None:
    with pytest.raises(ValueError, match="seekable"):
        detecter_type(zip_simple()[:OCTETS_ENTETE])


async def morceaux(donnees: bytes, taille: int = 7) -> AsyncIterator[bytes]:
    for i in range(0, len(donnees), taille):
        yield donnees[i:i + taille]


async def consommer(recepteur: RecepteurLimite) -> bytes:
    return b"".join([m async for m in recepteur])


async def test_stockage_recepteur_compte_et_hache() -> None:
    import hashlib

    donnees = pdf() * 3
    recepteur = RecepteurLimite(morceaux(donnees), limite=len(donnees))
    assert await consommer(recepteur) == donnees
    assert recepteur.taille == len(donnees)
    assert recepteur.sha256 == hashlib.sha256(donnees).hexdigest()
    assert recepteur.entete == donnees[:OCTETS_ENTETE]
    assert recepteur.termine


async def test_stockage_recepteur_limite_ne_transmet_pas_le_morceau_de_trop() -> None:
    donnees = pdf()
    recepteur = RecepteurLimite(morceaux(donnees), limite=len(donnees) - 1)
    recu = bytearray()

    async def lire() -> None:
        async for m in recepteur:
            recu.extend(m)

    with pytest.raises(TailleDepassee):
        await lire()
    assert len(recu) <= len(donnees) - 1
    assert not recepteur.termine


@pytest.mark.parametrize(
    ("donnees", "erreur"),
    [(b"", FichierVide), (b"MZ" + b"\x00" * 200, TypeRefuse), (b"<html>", TypeRefuse)],
    ids=["vide", "exe", "html-court"],
)
async def test_stockage_recepteur_refuse_tot(donnees: bytes, erreur: type[Exception]) -> None:
    recepteur = RecepteurLimite(morceaux(donnees, taille=64), limite=1000)
    with pytest.raises(erreur):
        await consommer(recepteur)
    # An executable stops at its first full header, never after the whole body.
    assert recepteur.taille <= max(OCTETS_ENTETE, len(donnees) if len(donnees) < OCTETS_ENTETE else 64)

"""Tests that deposit dossiers: give them what the deposit requires (issue 8 item 4).

A deposit is refused until every required piece is there and, for a phase-1 GHT support, until the
GHT criteria are met. Two helpers keep the tests that are not about pieces short:

- `criteres_ght_complets()`: a criteria block that passes the deposit (put it in the creation body of
  a phase-1 GHT candidature, or PUT it on `.../criteres-ght`);
- `deposer_avec_pieces(client, url, headers, fournir=...)`: tries the deposit; when it answers
  `pieces-manquantes`, supplies each listed piece through `fournir(type, finess_ej)` (the first
  accepted type of a "one of" requirement) and deposits again.

`fournir` is how a piece reaches the dossier: `televerser(client, url, headers)` uploads a small PDF
through the pieces endpoint (`POST {url}/pieces`, multipart `type`, `finess_ej`, `fichier`); the API
tests of candidature's exigences slice, which run without that endpoint, declare pieces in memory
(`PiecesEnMemoire`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.calendrier import aujourd_hui_paris

Fournir = Callable[[str, str | None], Awaitable[None]]

# The smallest file the pieces endpoint accepts as a PDF (its content is sniffed, not its name).
PDF_MINIMAL = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
               b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def criteres_ght_complets(*, aujourd_hui: date | None = None, preuve_capacite: str = "costrat",
                          referentiel_identite_unique: bool = True) -> dict[str, Any]:
    """GHT criteria of annex 4 that pass a deposit made today (SDSI dated a month ago)."""
    jour = aujourd_hui or aujourd_hui_paris()
    criteres: dict[str, Any] = {
        "dsi_ght": {"nom": "Mme Claire Martin", "valide": True}, "projet_medical_valide": True,
        "sdsi_date": (jour - timedelta(days=30)).isoformat(), "sdsi_en_cours_de_mise_a_jour": False,
        "convergence": "DPI et GAM communs à tous les établissements parties fin 2025",
        "referentiel_identite_unique": referentiel_identite_unique, "preuve_capacite": preuve_capacite,
    }
    if preuve_capacite == "engagement":
        criteres["a_regulariser_le"] = (jour + timedelta(days=60)).isoformat()
    return criteres


async def deposer_avec_pieces(client: httpx.AsyncClient, url_dossier: str, headers: Mapping[str, str], *,
                              fournir: Fournir) -> httpx.Response:
    """POST `{url_dossier}/depot`; on `pieces-manquantes`, supply every listed piece and try again once.
    Returns the last answer (the caller asserts on it)."""
    r = await client.post(f"{url_dossier}/depot", headers=dict(headers))
    if r.status_code != 422 or not r.json().get("type", "").endswith("/pieces-manquantes"):
        return r
    for piece in r.json()["pieces"]:
        await fournir(piece["types"][0], piece["finess_ej"])
    return await client.post(f"{url_dossier}/depot", headers=dict(headers))


def televerser(client: httpx.AsyncClient, url_dossier: str, headers: Mapping[str, str]) -> Fournir:
    """A `fournir` uploading a small PDF through the pieces endpoint of the dossier."""
    async def fournir(type_: str, finess_ej: str | None) -> None:
        donnees = {"type": type_} if finess_ej is None else {"type": type_, "finess_ej": finess_ej}
        r = await client.post(f"{url_dossier}/pieces", headers=dict(headers), data=donnees,
                              files={"fichier": (f"{type_}.pdf", PDF_MINIMAL, "application/pdf")})
        assert r.status_code == 201, r.text
    return fournir


def deposer_avec_pieces_sync(client: httpx.Client, url_dossier: str, headers: Mapping[str, str], *,
                             fournir: Callable[[str, str | None], None] | None = None) -> httpx.Response:
    """`deposer_avec_pieces` for the end-to-end tests' synchronous client; `fournir` defaults to an
    upload through the running stack's pieces endpoint."""
    def televerser_sync(type_: str, finess_ej: str | None) -> None:
        donnees = {"type": type_} if finess_ej is None else {"type": type_, "finess_ej": finess_ej}
        r = client.post(f"{url_dossier}/pieces", headers=dict(headers), data=donnees,
                        files={"fichier": (f"{type_}.pdf", PDF_MINIMAL, "application/pdf")})
        assert r.status_code == 201, r.text
    r = client.post(f"{url_dossier}/depot", headers=dict(headers))
    if r.status_code != 422 or not r.json().get("type", "").endswith("/pieces-manquantes"):
        return r
    for piece in r.json()["pieces"]:
        (fournir or televerser_sync)(piece["types"][0], piece["finess_ej"])
    return client.post(f"{url_dossier}/depot", headers=dict(headers))


class PiecesEnMemoire:
    """A source of deposited pieces for the deposit check (candidature's `SourcePieces`), filled by the
    test: stands for the `piece` table where the pieces endpoint does not exist."""

    def __init__(self) -> None:
        self.deposees: dict[tuple[str, str], set[tuple[str, str | None]]] = {}

    def declarer(self, dossier_type: str, dossier_id: str, type_: str, finess_ej: str | None = None) -> None:
        self.deposees.setdefault((dossier_type, dossier_id), set()).add((type_, finess_ej))

    def fournir(self, dossier_type: str, dossier_id: str) -> Fournir:
        async def fournir(type_: str, finess_ej: str | None) -> None:
            self.declarer(dossier_type, dossier_id, type_, finess_ej)
        return fournir

    async def __call__(self, _session: AsyncSession, dossier_type: str, dossier_id: str
                       ) -> set[tuple[str, str | None]]:
        return set(self.deposees.get((dossier_type, dossier_id), set()))

"""Receiving one piece: the first half of the crash protocol (ADR 0011).

``recevoir_piece`` stores the bytes under a fresh key and returns what the metadata row
needs; the caller then writes that row in its own transaction. Every failure before the
row (too large, refused type, broken stream, cancelled request) deletes the object; a crash
between the object and the row leaves an orphan, which no row points to, so it is never
served, and :func:`~hopen_common.stockage.orphelins.collecter_orphelins` removes it later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable
from dataclasses import dataclass

from hopen_common.stockage.base import Stockage, StockageErreur, nouvelle_cle
from hopen_common.stockage.detection import ZIP, TypePiece, detecter_type_objet, type_par_entete
from hopen_common.stockage.flux import TAILLE_MAX_DEFAUT, RecepteurLimite

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PieceRecue:
    cle: str
    taille: int
    sha256: str
    type_piece: TypePiece


async def recevoir_piece(
    stockage: Stockage,
    flux: AsyncIterable[bytes],
    *,
    limite: int = TAILLE_MAX_DEFAUT,
    prefixe: str = "pieces",
) -> PieceRecue:
    """Stream ``flux`` into the store; raises TailleDepassee (413), TypeRefuse (415)."""
    cle = nouvelle_cle(prefixe)
    recepteur = RecepteurLimite(flux, limite)
    # If ecrire raises, the backend has left nothing under the key.
    ecrit = await stockage.ecrire(cle, recepteur)
    try:
        if ecrit.sha256 != recepteur.sha256 or ecrit.taille != recepteur.taille:
            raise StockageErreur(f"store saw other bytes than received under {cle}")
        resultat = type_par_entete(recepteur.entete)
        type_piece = (
            await detecter_type_objet(stockage, cle, entete=recepteur.entete, taille=ecrit.taille)
            if resultat == ZIP else TypePiece(resultat)
        )
    except BaseException:
        # Shielded: a cancelled request still removes its object (else the collector will).
        with contextlib.suppress(Exception):
            await asyncio.shield(stockage.supprimer(cle))
        raise
    return PieceRecue(cle=cle, taille=ecrit.taille, sha256=ecrit.sha256, type_piece=type_piece)

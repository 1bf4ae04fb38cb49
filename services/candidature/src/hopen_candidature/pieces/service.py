"""Pieces of a dossier (issue 8): who may upload and read them, their versions, and the row written
after the bytes (ADR 0011), with its event and audit row in the caller's transaction; every list and
every read is audited in the reader's transaction."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.candidatures.service import SOURCE
from hopen_candidature.candidatures.service import charger_pour as charger_candidature
from hopen_candidature.corrections import rules as regles_corrections
from hopen_candidature.etats.service import corrections_de
from hopen_candidature.models import STATUTS_OUVERTS, Piece
from hopen_candidature.pieces import repository, rules
from hopen_candidature.projets.service import charger_pour as charger_projet
from hopen_common.auth import Principal
from hopen_common.auth.portee import exiger_acces, exiger_portee_etablissement
from hopen_common.contracts import PieceDeposee, Topics
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db import session_scope
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.problemes import DOSSIER_CLOS, PLAGE_NON_SATISFIABLE, introuvable
from hopen_common.stockage import (
    BilanCollecte,
    PieceRecue,
    Stockage,
    collecter_orphelins,
    stockage_depuis_reglages,
)

log = logging.getLogger(__name__)
PREFIXE = "pieces"


@dataclass(frozen=True)
class Dossier:
    """What the pieces need of a candidature or an AAP project."""

    dossier_type: TypeDossier
    id: str
    finess: str  # the owner: the applicant, a GHT's support, the project's lead
    region: str
    dispositif: str  # phase1 | hospiconnect | aap
    statut: str
    perimetre: list[dict[str, Any]] | None = None  # a GHT candidature's members
    participants: list[str] | None = None  # a project's FINESS PMSI


async def dossier_lisible(session: AsyncSession, principal: Principal, dossier_type: TypeDossier,
                          dossier_id: str, *, verrou: bool = False) -> Dossier:
    """The dossier if `principal` may read its pieces: its owner (a GHT's support for the GHT's
    dossier), the ARS of its region, the DNS. Anyone else: 404, as for a missing dossier."""
    if dossier_type == "candidature":
        c = await charger_candidature(session, principal, dossier_id, verrou=verrou)
        return Dossier("candidature", c.id, c.finess, c.region, c.dispositif, c.statut,
                       perimetre=c.perimetre)
    p = await charger_projet(session, principal, dossier_id, verrou=verrou)
    # A participant sees the project, not its lead's pieces: only the owner's establishment does.
    exiger_acces(principal, region=p.region, finess=p.finess, ressource="projet", identifiant=p.id)
    return Dossier("projet", p.id, p.finess, p.region, "aap", p.statut, participants=p.participants)


async def dossier_modifiable(session: AsyncSession, principal: Principal, dossier_type: TypeDossier,
                             dossier_id: str, *, verrou: bool = False) -> Dossier:
    """The dossier if `principal` may upload on it: its owner's establishment (403 for a reader who is
    not, as the other writes), while the dossier is open (a refused or withdrawn candidature: 409)."""
    dossier = await dossier_lisible(session, principal, dossier_type, dossier_id, verrou=verrou)
    exiger_portee_etablissement(principal, dossier.finess)
    if dossier.dossier_type == "candidature" and dossier.statut not in STATUTS_OUVERTS:
        raise DOSSIER_CLOS.erreur(f"la candidature {dossier.id} est {dossier.statut} : plus de pièce à"
                                  " y déposer", champ="statut")
    return dossier


def verifier_champs(dossier: Dossier, type_: str, finess_ej: str | None, *,
                    codes: Collection[str] | None = None) -> str | None:
    """The form's `type` and `finess_ej` for this dossier; returns the EJ the piece is about."""
    rules.verifier_type_de_piece(dossier.dispositif, type_, codes=codes)
    return rules.ej_de_la_piece(finess_ej, perimetre=dossier.perimetre, finess=dossier.finess,
                                participants=dossier.participants)


async def enregistrer_piece(session: AsyncSession, principal: Principal, dossier_type: TypeDossier,
                            dossier_id: str, recue: PieceRecue, *, type_: str, finess_ej: str | None,
                            nom: str, maintenant: datetime) -> Piece:
    """The row of a piece whose bytes are complete in the store (`recue`): the next version of its
    (type, EJ), PieceDeposee and the audit row. The dossier's row lock orders concurrent uploads, so
    each gets its own version; a dossier closed since the upload began refuses it (409)."""
    dossier = await dossier_modifiable(session, principal, dossier_type, dossier_id, verrou=True)
    ej = verifier_champs(dossier, type_, finess_ej)
    if dossier.statut == "correction_demandee":
        # Issue 9 (ADR 0013): while corrections are asked, only the pieces they name get a new version.
        ouvertes = await corrections_de(session, dossier_type, dossier_id, ouvertes=True)
        regles_corrections.verifier_piece_demandee(
            type_, ej, {(p["type"], p.get("finess_ej")) for d in ouvertes for p in d.pieces})
    version = await repository.prochaine_version(session, dossier_type, dossier_id, type_, ej)
    piece = Piece(id=str(uuid.uuid4()), dossier_type=dossier_type, dossier_id=dossier_id,
                  finess=dossier.finess, region=dossier.region, type=type_, finess_ej=ej, version=version,
                  nom=nom, media_type=str(recue.type_piece), taille=recue.taille, sha256=recue.sha256,
                  cle=recue.cle, depose_par=principal.subject, depose_le=maintenant)
    session.add(piece)
    evenement = nouvel_evenement(
        PieceDeposee(piece_id=piece.id, dossier_type=dossier_type, dossier_id=dossier_id,
                     finess=dossier.finess, region=dossier.region, type=type_, finess_ej=ej, nom=nom,
                     media_type=piece.media_type, taille=piece.taille, sha256=piece.sha256,
                     version=version, depose_par=principal.subject, depose_le=maintenant),
        source=SOURCE, subject=f"{dossier_type}/{dossier_id}")
    await publier(session, Topics.CANDIDATURE, dossier_id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="deposer_piece",
                             objet_type="piece", objet_id=piece.id, region=dossier.region,
                             details={"dossier_type": dossier_type, "dossier_id": dossier_id, "type": type_,
                                      "finess_ej": ej, "version": version, "sha256": piece.sha256,
                                      "taille": piece.taille, "event_id": evenement.id}))
    await session.flush()
    return piece


async def lister_pieces(session: AsyncSession, principal: Principal, dossier_type: TypeDossier,
                        dossier_id: str, *, limit: int, offset: int) -> tuple[list[tuple[Piece, bool]], int]:
    """Every version (see repository.pieces_du_dossier for the order); the list is a read: audited."""
    dossier = await dossier_lisible(session, principal, dossier_type, dossier_id)
    pieces, total = await repository.pieces_du_dossier(session, dossier_type, dossier_id, limit=limit,
                                                       offset=offset)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="lister_pieces",
                             objet_type=dossier_type, objet_id=dossier_id, region=dossier.region,
                             details={"pieces": [p.id for p, _ in pieces], "limit": limit, "offset": offset}))
    await session.flush()
    return pieces, total


@dataclass(frozen=True)
class Lecture:
    piece: Piece
    courante: bool
    plage: tuple[int, int] | None  # [debut, fin) asked by Range; None: the whole piece
    non_modifiee: bool  # If-None-Match named its ETag: 304, no bytes


async def lire_piece(session: AsyncSession, principal: Principal, dossier_type: TypeDossier,
                     dossier_id: str, piece_id: str, *, range_: str | None, if_none_match: str | None,
                     if_range: str | None) -> Lecture:
    """A piece to send, audited (who, when, which piece, which bytes) in this transaction, which
    commits before the first byte is sent. A range none of whose bytes exist: 416, nothing read."""
    dossier = await dossier_lisible(session, principal, dossier_type, dossier_id)
    trouvee = await repository.piece_du_dossier(session, dossier_type, dossier_id, piece_id)
    if trouvee is None:
        raise introuvable("pièce", piece_id)
    piece, courante = trouvee
    non_modifiee = rules.etag_correspond(if_none_match, piece.sha256)
    # If-Range with another validator: the client's partial copy is stale, send it all.
    demande = range_ if if_range is None or if_range.strip() == rules.etag(piece.sha256) else None
    try:
        plage = None if non_modifiee else rules.plage_demandee(demande, piece.taille)
    except rules.PlageNonSatisfiable as exc:
        raise PLAGE_NON_SATISFIABLE.erreur(f"pièce {piece.id} de {piece.taille} octets : {exc}",
                                           champ="Range", extra={"taille": piece.taille},
                                           entetes={"Content-Range": f"bytes */{piece.taille}"}) from None
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="lire_piece",
                             objet_type="piece", objet_id=piece.id, region=dossier.region,
                             details={"dossier_type": dossier_type, "dossier_id": dossier_id,
                                      "plage": None if plage is None else [plage[0], plage[1]],
                                      "non_modifiee": non_modifiee}))
    await session.flush()
    return Lecture(piece, courante, plage, non_modifiee)


async def collecter(session: AsyncSession, stockage: Stockage, *, grace: timedelta,
                    acteur: Principal | None = None) -> BilanCollecte:
    """Delete the store's objects no piece row points to, older than `grace` (ADR 0011, step 4)."""
    async def cles(lot: list[str]) -> set[str]:
        return await repository.cles_referencees(session, lot)

    bilan = await collecter_orphelins(stockage, cles_referencees=cles, plus_vieux_que=grace,
                                      prefixe=f"{PREFIXE}/")
    details: dict[str, Any] = {**dataclasses.asdict(bilan), "grace_heures": grace / timedelta(hours=1)}
    session.add(JournalAudit(acteur=acteur.subject if acteur else "candidature",
                             role=acteur.role if acteur else "service", action="collecter_orphelins",
                             objet_type="stockage", objet_id=f"{PREFIXE}/", details=details))
    await session.flush()
    return bilan


async def _collecte_periodique(app: FastAPI, intervalle: timedelta, grace: timedelta) -> None:
    """One collection every `intervalle`; with several processes, the one holding the lock collects."""
    while True:
        await asyncio.sleep(intervalle.total_seconds())
        try:
            async with session_scope(app.state.sessionmaker) as session:
                if await session.scalar(text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"),
                                        {"k": "candidature-collecte-orphelins"}):
                    await collecter(session, app.state.stockage, grace=grace)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("orphan collection failed; next attempt in %s", intervalle)


@asynccontextmanager
async def stockage_du_service(app: FastAPI) -> AsyncIterator[None]:
    """The pieces store for the process's life (app.state.stockage) and, where the workers run, the
    periodic orphan collection (CANDIDATURE_STOCKAGE_ORPHELINS_INTERVALLE_HEURES, 0: off)."""
    settings = app.state.settings
    app.state.stockage = stockage_depuis_reglages(settings)
    tache: asyncio.Task[None] | None = None
    intervalle = float(settings.stockage_orphelins_intervalle_heures)
    if settings.workers_in_process and intervalle > 0:
        tache = asyncio.create_task(_collecte_periodique(
            app, timedelta(hours=intervalle), timedelta(hours=settings.stockage_orphelins_grace_heures)),
            name="candidature-orphelins")
    try:
        yield
    finally:
        if tache is not None:
            tache.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tache
        await app.state.stockage.fermer()


def maintenant() -> datetime:
    return datetime.now(UTC)

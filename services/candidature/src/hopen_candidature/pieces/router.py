from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from hopen_candidature.models import Piece
from hopen_candidature.pieces import rules, service
from hopen_candidature.pieces.formulaire import FormulaireEnFlux, frontiere
from hopen_candidature.pieces.schemas import BilanOrphelins, PieceLue
from hopen_common.auth import CurrentPrincipal, Etablissement, Ops, Principal
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db import SessionDep, session_scope
from hopen_common.pagination import Page, PaginationDep
from hopen_common.problemes import PIECE_TROP_GRANDE, PIECE_TYPE_REFUSE, VALIDATION
from hopen_common.stockage import PieceRecue, Stockage, TailleDepassee, TypeRefuse, recevoir_piece

router = APIRouter(tags=["pièces"])
Operateur = Ops
CHAMPS_TEXTE = ("type", "finess_ej")
TEXTE_MAX = 100

_FORMULAIRE: dict[str, Any] = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["type", "fichier"], "properties": {
        "type": {"type": "string", "pattern": rules.MOTIF_TYPE.pattern, "examples": ["P1.P1"]},
        "fichier": {"type": "string", "format": "binary",
                    "description": "PDF, ODT/DOCX, ODS/XLSX, PNG or JPEG, checked from the content"},
        "finess_ej": {"type": "string", "description": "GHT dossier: the member EJ the piece is about"},
    }}}}}}


def _lue(p: Piece, courante: bool) -> PieceLue:
    return PieceLue(id=p.id, type=p.type, finess_ej=p.finess_ej, version=p.version, courante=courante,
                    nom=p.nom, media_type=p.media_type, taille=p.taille, sha256=p.sha256,
                    depose_par=p.depose_par, depose_le=p.depose_le)


async def _recevoir(stockage: Stockage, corps: AsyncIterator[bytes], limite: int) -> PieceRecue:
    try:
        return await recevoir_piece(stockage, corps, limite=limite, prefixe=service.PREFIXE)
    except TailleDepassee:
        raise PIECE_TROP_GRANDE.erreur(f"une pièce fait au plus {limite} octets", champ="fichier",
                                       extra={"limite": limite}) from None
    except TypeRefuse as exc:
        raise PIECE_TYPE_REFUSE.erreur(
            f"fichier refusé ({exc.motif}{' : ' + exc.detail if exc.detail else ''}) : PDF, ODT, DOCX,"
            " ODS, XLSX, PNG ou JPEG, reconnus à leur contenu", champ="fichier",
            extra={"motif": exc.motif}) from None


async def _deposer(request: Request, principal: Principal, dossier_type: TypeDossier,
                   dossier_id: str) -> JSONResponse:
    """The upload spans two short transactions of its own rather than the request's SessionDep, on
    purpose: no database connection is held while a client streams its file, and the row is written
    only once the object is complete in the store (ADR 0011's crash protocol)."""
    sessions = request.app.state.sessionmaker
    stockage: Stockage = request.app.state.stockage
    limite: int = request.app.state.settings.stockage_taille_max
    # Who and where before one byte of the body is read: another establishment's dossier, a closed
    # one or a wrong role never has its file received.
    async with session_scope(sessions) as session:
        dossier = await service.dossier_modifiable(session, principal, dossier_type, dossier_id)
    formulaire = FormulaireEnFlux(request.stream(), frontiere(request.headers.get("content-type")))
    champs: dict[str, str] = {}
    recue: PieceRecue | None = None
    nom_brut: str | None = None
    commit_demande = False
    try:
        async for partie in formulaire.parties():
            if partie.nom == "fichier":
                if partie.nom_fichier is None:
                    raise VALIDATION.erreur("fichier : une partie fichier (avec filename) est attendue",
                                            champ="fichier")
                if recue is not None:
                    raise VALIDATION.erreur("un seul fichier par pièce", champ="fichier")
                if "type" in champs:  # sent first (as curl -F does in order): refuse before storing
                    service.verifier_champs(dossier, champs["type"], champs.get("finess_ej") or None)
                nom_brut = partie.nom_fichier
                recue = await _recevoir(stockage, partie.corps, limite)
            elif partie.nom in CHAMPS_TEXTE:
                if partie.nom_fichier is not None:
                    raise VALIDATION.erreur(f"{partie.nom} : une valeur, pas un fichier", champ=partie.nom)
                if partie.nom in champs:
                    raise VALIDATION.erreur(f"{partie.nom} en double", champ=partie.nom)
                champs[partie.nom] = await partie.texte(maximum=TEXTE_MAX)
            else:
                raise VALIDATION.erreur(f"champ inconnu : {partie.nom} (attendu : type, fichier, finess_ej)",
                                        champ=partie.nom or "body")
        if not champs.get("type"):
            raise VALIDATION.erreur("type : le code de la pièce est requis (ex. P1.P1)", champ="type")
        if recue is None:
            raise VALIDATION.erreur("fichier : le fichier de la pièce est requis", champ="fichier")
        type_, finess_ej = champs["type"], champs.get("finess_ej") or None
        service.verifier_champs(dossier, type_, finess_ej)
        try:
            rules.verifier_format(type_, str(recue.type_piece))
        except rules.FormatNonAccepte as exc:
            raise PIECE_TYPE_REFUSE.erreur(str(exc), champ="fichier", extra={"motif": "format"}) from None
        nom = rules.nom_de_fichier(nom_brut, defaut=f"{type_}.{recue.type_piece.extension}")
        async with session_scope(sessions) as session:
            piece = await service.enregistrer_piece(session, principal, dossier_type, dossier_id, recue,
                                                    type_=type_, finess_ej=finess_ej, nom=nom,
                                                    maintenant=service.maintenant())
            commit_demande = True
    except BaseException:
        # Before the commit, the object is nobody's: delete it now (shielded, a cancelled request
        # still cleans up). Once the commit was asked, its outcome is unknown: a row may point to the
        # object, so it is left to the orphan collector, which checks.
        if recue is not None and not commit_demande:
            with contextlib.suppress(Exception):
                await asyncio.shield(stockage.supprimer(recue.cle))
        raise
    return JSONResponse(_lue(piece, True).model_dump(mode="json"), status_code=201, headers={
        "Location": f"{request.url.path}/{piece.id}/contenu"})


async def _lister(session: SessionDep, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                  pagination: PaginationDep) -> Page[PieceLue]:
    pieces, total = await service.lister_pieces(session, principal, dossier_type, dossier_id,
                                                limit=pagination.limit, offset=pagination.offset)
    return Page(items=[_lue(p, c) for p, c in pieces], total=total, limit=pagination.limit,
                offset=pagination.offset)


async def _contenu(request: Request, session: SessionDep, principal: Principal, dossier_type: TypeDossier,
                   dossier_id: str, piece_id: str) -> Response:
    lecture = await service.lire_piece(session, principal, dossier_type, dossier_id, piece_id,
                                       range_=request.headers.get("range"),
                                       if_none_match=request.headers.get("if-none-match"),
                                       if_range=request.headers.get("if-range"))
    p = lecture.piece
    entetes = {"ETag": rules.etag(p.sha256), "Accept-Ranges": "bytes",
               "Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff",
               "Content-Disposition": rules.content_disposition(p.nom)}
    if lecture.non_modifiee:
        return Response(status_code=304, headers=entetes)
    debut, fin = lecture.plage or (0, p.taille)
    # Opened before answering: a missing object fails now (a row without bytes is a bug, 500), and
    # the bytes then flow from the store to the client chunk by chunk.
    flux = await request.app.state.stockage.lire(p.cle, debut=debut, fin=fin)
    entetes["Content-Length"] = str(fin - debut)
    if lecture.plage is not None:
        entetes["Content-Range"] = f"bytes {debut}-{fin - 1}/{p.taille}"
    return StreamingResponse(flux, status_code=206 if lecture.plage is not None else 200,
                             media_type=p.media_type, headers=entetes)


def _routes(dossier_type: TypeDossier, prefixe: str, quoi: str) -> None:
    base = f"{prefixe}/{{dossier_id}}/pieces"

    @router.post(base, status_code=201, response_model=PieceLue, openapi_extra=_FORMULAIRE,
                 name=f"deposer_piece_{dossier_type}")
    async def deposer(dossier_id: str, request: Request, principal: Etablissement) -> JSONResponse:
        return await _deposer(request, principal, dossier_type, dossier_id)

    @router.get(base, response_model=Page[PieceLue], name=f"lister_pieces_{dossier_type}")
    async def lister(dossier_id: str, session: SessionDep, principal: CurrentPrincipal,
                     pagination: PaginationDep) -> Page[PieceLue]:
        return await _lister(session, principal, dossier_type, dossier_id, pagination)

    @router.get(f"{base}/{{piece_id}}/contenu", response_class=StreamingResponse,
                name=f"lire_piece_{dossier_type}",
                responses={200: {"content": {"application/octet-stream": {}}}, 206: {}, 304: {}, 416: {}})
    async def contenu(dossier_id: str, piece_id: str, request: Request, session: SessionDep,
                      principal: CurrentPrincipal) -> Response:
        return await _contenu(request, session, principal, dossier_type, dossier_id, piece_id)

    deposer.__doc__ = (
        f"Uploads a piece of {quoi} (multipart/form-data: `type`, the piece's code; `fichier`; optional"
        " `finess_ej`, the member EJ of a GHT dossier). Streamed: SHA-256 computed by the server, 413"
        " past CANDIDATURE_STOCKAGE_TAILLE_MAX (20 MiB), 415 unless the content is PDF, ODT, DOCX, ODS,"
        " XLSX, PNG or JPEG. A new upload of the same (type, finess_ej) is its next version; earlier"
        " ones stay readable. Publishes PieceDeposee. Role etablissement, the dossier's owner. Not"
        " idempotent by key: a retried upload is a new version.")
    lister.__doc__ = (f"Every version of every piece of {quoi}, grouped by type (code order, then EJ),"
                      " newest version first; `courante` marks the latest. The owner, the ARS of its"
                      " region, the DNS; anyone else gets 404. Audited.")
    contenu.__doc__ = ("The exact bytes (Content-Type detected at upload, ETag = SHA-256,"
                       " `Range: bytes=a-b` → 206, unsatisfiable → 416, If-None-Match → 304). Same"
                       " readers as the list. Every read is audited.")


_routes("candidature", "/v1/candidatures", "a candidature (phase 1, HospiConnect)")
_routes("projet", "/v1/projets", "an AAP project")


@router.post("/v1/operations/pieces/orphelins", response_model=BilanOrphelins, tags=["operations"])
async def collecter_orphelins(
    request: Request, session: SessionDep, principal: Operateur,
    grace_heures: Annotated[float | None, Query(gt=0, description="default: the setting (24 h)")] = None,
) -> BilanOrphelins:
    """Role ops. Deletes the stored objects no piece row points to, older than the grace period
    (ADR 0011: an upload interrupted between its bytes and its row). Progress is logged per batch of
    500 keys; the worker process also runs it every CANDIDATURE_STOCKAGE_ORPHELINS_INTERVALLE_HEURES.
    Audited."""
    settings = request.app.state.settings
    grace = timedelta(hours=grace_heures or settings.stockage_orphelins_grace_heures)
    bilan = await service.collecter(session, request.app.state.stockage, grace=grace, acteur=principal)
    return BilanOrphelins(examines=bilan.examines, recents=bilan.recents, references=bilan.references,
                          supprimes=bilan.supprimes, temporaires=bilan.temporaires)

"""`POST /v1/imports/...`: upload a ministry file; DNS and ops only. The answer is the import's
report; a file unreadable as a whole is a problem+json and nothing is written."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from hopen_common.auth import Principal, Role, exiger_roles
from hopen_common.db import SessionDep
from hopen_common.pagination import Page, PaginationDep
from hopen_common.problemes import FICHIER_FORMAT_INVALIDE, VALIDATION, ProblemError, introuvable, par_code
from hopen_referentiel.importations.schemas import RapportImportLu, SignalementLu
from hopen_referentiel.importations.service import Demande, Rapport, TypeImport, importer
from hopen_referentiel.imports import ErreurFichier, TypeDonnees
from hopen_referentiel.models import ImportFichier, SignalementImport

router = APIRouter(prefix="/v1/imports", tags=["imports"])
Importateur = Annotated[Principal, Depends(exiger_roles(Role.DNS, Role.OPS))]


def rapport_lu(rapport: Rapport) -> RapportImportLu:
    assert rapport.fin is not None
    return RapportImportLu(
        id=rapport.id, type=rapport.demande.type.value, nom_fichier=rapport.demande.nom_fichier,
        sha256=rapport.sha256, taille=rapport.taille, demande_par=rapport.demande.demande_par,
        debut=rapport.debut, fin=rapport.fin, identique_a=rapport.identique_a,
        compteurs=rapport.compteurs, rejets=sum(rapport.rejets.values()),
        avertissements=sum(rapport.avertissements.values()),
        signalements=[
            SignalementLu(nature="rejet" if s.__class__.__name__ == "Rejet" else "avertissement",
                          code=s.code.value, message=s.message, ligne=s.position.ligne,
                          feuille=s.position.feuille, chemin=s.position.chemin, finess=s.finess,
                          champ=s.champ, valeur=s.valeur)
            for s in rapport.signalements
        ],
    )


def probleme_fichier(exc: ErreurFichier) -> ProblemError:
    # Every CodeErreurFichier is declared in the catalogue (a new one must be declared there first).
    return par_code(f"fichier-{exc.code.value.replace('_', '-')}").erreur(
        str(exc), champ="fichier", extra={"position": str(exc.position)})


async def _importer(session: SessionDep, principal: Principal, fichier: UploadFile,
                    type_import: TypeImport, forcer: bool,
                    type_donnees: TypeDonnees | None = None) -> JSONResponse:
    demande = Demande(type=type_import, nom_fichier=fichier.filename or "televersement",
                      demande_par=principal.subject, role=principal.role.value, type_donnees=type_donnees,
                      forcer=forcer)

    # No Idempotency-Key here: the body is a file, and sending the same file again is already
    # harmless (identical to the last import: nothing is read, the report says so).
    try:
        rapport = await importer(session, demande, fichier.file)
    except ErreurFichier as exc:
        raise probleme_fichier(exc) from exc
    return JSONResponse(rapport_lu(rapport).model_dump(mode="json"), status_code=201)


@router.post("/finess", status_code=201, response_model=RapportImportLu)
async def importer_finess(
    session: SessionDep, principal: Importateur,
    fichier: Annotated[UploadFile, File(description="FINESS+ .json.gz/.json, or etalab .csv")],
    format: Annotated[Literal["auto", "finess_plus", "etalab"], Form()] = "auto",
    forcer: Annotated[bool, Form(description="read again a file identical to the last one")] = False,
) -> JSONResponse:
    """DNS, ops. The format is recognised from the content unless given (gzip or `{` is
    FINESS+, `finess;etalab;` is etalab)."""
    if format == "auto":
        debut = fichier.file.read(16)
        fichier.file.seek(0)
        if debut.startswith(b"\x1f\x8b") or debut.lstrip().startswith(b"{"):
            format = "finess_plus"
        elif debut.startswith(b"finess;etalab"):
            format = "etalab"
        else:
            raise FICHIER_FORMAT_INVALIDE.erreur("format de fichier inconnu : ni un flux FINESS+ (JSON, gzip)"
                                                 " ni une extraction etalab (finess;etalab;...)",
                                                 champ="fichier")
    type_import = TypeImport.FINESS_PLUS if format == "finess_plus" else TypeImport.FINESS_ETALAB
    return await _importer(session, principal, fichier, type_import, forcer)


@router.post("/sae", status_code=201, response_model=RapportImportLu)
async def importer_sae(
    session: SessionDep, principal: Importateur,
    fichier: Annotated[UploadFile, File(description="DREES SAE bordereau ID (ID_2023r.csv)")],
    forcer: Annotated[bool, Form()] = False,
) -> JSONResponse:
    """DNS, ops. Fills in establishments FINESS does not give; never overwrites FINESS data."""
    return await _importer(session, principal, fichier, TypeImport.SAE, forcer)


@router.post("/base-eligible", status_code=201, response_model=RapportImportLu)
async def importer_base_eligible(
    session: SessionDep, principal: Importateur,
    fichier: Annotated[UploadFile, File(description="one CSV of one kind, or an XLSX (a sheet per kind)")],
    type_donnees: Annotated[TypeDonnees | None, Form(description="CSV only: the kind of data")] = None,
    forcer: Annotated[bool, Form()] = False,
) -> JSONResponse:
    """DNS, ops. Activité combinée, SAE staff, GHT, AP-HP GHU, FINESS PMSI exceptions, SUN-ES
    domains (format: services/referentiel/src/hopen_referentiel/imports/README.md)."""
    nom = (fichier.filename or "").lower()
    if nom.endswith(".csv") and type_donnees is None:
        raise VALIDATION.erreur("type de données manquant : un CSV porte une seule sorte de données,"
                                " préciser type_donnees", champ="type_donnees")
    return await _importer(session, principal, fichier, TypeImport.BASE_ELIGIBLE, forcer,
                           type_donnees if not nom.endswith(".xlsx") else None)


def _import_lu(ligne: ImportFichier, signalements: list[SignalementLu]) -> RapportImportLu:
    compteurs = dict(ligne.compteurs)
    rejets = compteurs.get("rejets", {})
    avertissements = compteurs.get("avertissements", {})
    return RapportImportLu(
        id=ligne.id, type=ligne.type, nom_fichier=ligne.nom_fichier, sha256=ligne.sha256, taille=ligne.taille,
        demande_par=ligne.demande_par, debut=ligne.debut, fin=ligne.fin, identique_a=ligne.identique_a,
        compteurs=compteurs, rejets=sum(rejets.values()), avertissements=sum(avertissements.values()),
        signalements=signalements,
    )


@router.get("", response_model=Page[RapportImportLu])
async def lister(session: SessionDep, _: Importateur, pagination: PaginationDep) -> Page[RapportImportLu]:
    """DNS, ops: the import journal, latest first (who, when, which file, what it changed)."""
    total = await session.scalar(select(func.count()).select_from(ImportFichier)) or 0
    lignes = await session.scalars(select(ImportFichier).order_by(ImportFichier.debut.desc())
                                   .limit(pagination.limit).offset(pagination.offset))
    return Page(items=[_import_lu(ligne, []) for ligne in lignes], total=total,
                limit=pagination.limit, offset=pagination.offset)


@router.get("/{import_id}/signalements", response_model=Page[SignalementLu])
async def signalements(
    import_id: uuid.UUID, session: SessionDep, _: Importateur, pagination: PaginationDep,
    nature: Annotated[Literal["rejet", "avertissement"] | None, Query()] = None,
) -> Page[SignalementLu]:
    """DNS, ops: every rejection and warning of an import, in file order."""
    ligne = await session.get(ImportFichier, import_id)
    if ligne is None:
        raise introuvable("import", str(import_id))
    cible = ligne.identique_a or ligne.id  # an identical re-import reports the original's
    query = select(SignalementImport).where(SignalementImport.import_id == cible)
    if nature:
        query = query.where(SignalementImport.nature == nature)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(SignalementImport.id).limit(pagination.limit)
                                 .offset(pagination.offset))
    return Page(items=[SignalementLu.model_validate(r, from_attributes=True) for r in rows], total=total,
                limit=pagination.limit, offset=pagination.offset)

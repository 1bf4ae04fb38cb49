"""Targeted corrections (ADR 0013): POST/GET /v1/dossiers/{id}/corrections,
GET /v1/dossiers/{id}/corrections/{correction_id}/diff; the same under /v1/projets/{id}."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hopen_common.auth import Ars, ArsOuDns
from hopen_common.calendrier import aujourd_hui_paris
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep
from hopen_instruction.corrections import rules, service
from hopen_instruction.corrections.schemas import (
    CorrectionDemande,
    CorrectionLue,
    DiffChamp,
    DiffLu,
    DiffPiece,
    PieceDemandeeLue,
)
from hopen_instruction.etats.router import PREFIXES
from hopen_instruction.etats.rules import TypeDossier
from hopen_instruction.models import DemandeCorrection, ReponseCorrection

router = APIRouter(tags=["corrections"])
Lecteur = ArsOuDns
Instructeur = Ars


def correction_lue(d: DemandeCorrection, r: ReponseCorrection | None) -> CorrectionLue:
    return CorrectionLue(
        id=d.id, dossier_id=d.dossier_id, pieces=[PieceDemandeeLue(**p) for p in d.pieces], champs=d.champs,
        motivation=d.motivation, echeance=d.echeance, demandee_par=d.demandee_par, demandee_le=d.demandee_le,
        repondue_le=None if r is None else r.repondue_le,
        en_retard=rules.en_retard(d.echeance, repondue=r is not None, aujourd_hui=aujourd_hui_paris()))


def _routes(dossier_type: TypeDossier) -> None:
    prefixe = PREFIXES[dossier_type]

    @router.post(f"{prefixe}/{{dossier_id}}/corrections", status_code=201, response_model=CorrectionLue,
                 name=f"demander_correction_{dossier_type}")
    async def demander(dossier_id: str, demande: CorrectionDemande, session: SessionDep,
                       principal: Instructeur, request: Request) -> JSONResponse:
        """ARS of the region: asks for named pieces (`type`, per `finess_ej` on a GHT dossier or a
        project's participant) and/or named fields (`criteres_ght.*`, candidatures of a phase-1 GHT
        support only), with a motivation and a due date. The dossier goes correction_demandee
        (CorrectionDemandee; a project: CorrectionProjetDemandee); several requests may be open at once.
        409 `transition-interdite` on a decided or closed dossier. Accepts an Idempotency-Key."""
        async def executer() -> CorrectionLue:
            correction = await service.demander(session, principal, dossier_type, dossier_id, demande,
                                                aujourd_hui=aujourd_hui_paris(), maintenant=datetime.now(UTC))
            return correction_lue(correction, None)
        return await idempotent(session, request, principal, executer)

    @router.get(f"{prefixe}/{{dossier_id}}/corrections", response_model=Page[CorrectionLue],
                name=f"lister_corrections_{dossier_type}")
    async def lister(dossier_id: str, session: SessionDep, principal: Lecteur, pagination: PaginationDep
                     ) -> Page[CorrectionLue]:
        """Every request of the dossier, oldest first; `en_retard`: past its due date and unanswered."""
        lignes, total = await service.lister(session, principal, dossier_type, dossier_id, pagination.limit,
                                             pagination.offset)
        return Page(items=[correction_lue(d, r) for d, r in lignes], total=total, limit=pagination.limit,
                    offset=pagination.offset)

    @router.get(f"{prefixe}/{{dossier_id}}/corrections/{{correction_id}}/diff", response_model=DiffLu,
                name=f"diff_correction_{dossier_type}")
    async def diff(dossier_id: str, correction_id: str, session: SessionDep, principal: Lecteur) -> DiffLu:
        """What changed since the request: each named piece (the version current at the request -> the
        latest since, with sha256) and each named field (before -> after, once answered)."""
        correction, reponse = await service.charger(session, principal, dossier_type, dossier_id,
                                                    correction_id)
        pieces, champs = await service.diff(session, correction, reponse)
        return DiffLu(correction=correction_lue(correction, reponse),
                      pieces=[DiffPiece.model_validate(p) for p in pieces],
                      champs=[DiffChamp.model_validate(c) for c in champs])


_routes("candidature")
_routes("projet")

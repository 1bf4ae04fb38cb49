"""The checklist of required pieces, per candidature dossier and per AAP project (ARS of the region, DNS)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hopen_common.auth import ArsOuDns
from hopen_common.calendrier import aujourd_hui_paris
from hopen_common.db import SessionDep
from hopen_common.programme.criteres_ght import CritereInvalide
from hopen_common.programme.pieces import LigneChecklist, charger_programme_pieces
from hopen_instruction.dossiers import service as dossiers
from hopen_instruction.pieces import service
from hopen_instruction.pieces.schemas import CritereLu, PieceLue, PieceRequiseLue, PiecesRequisesLues
from hopen_instruction.projets import service as projets

router = APIRouter(tags=["pièces requises"])
Lecteur = ArsOuDns


def _ligne(ligne: LigneChecklist) -> PieceRequiseLue:
    p = ligne.piece
    return PieceRequiseLue(
        code=ligne.code, libelle=ligne.libelle, niveau=ligne.niveau, finess_ej=ligne.finess_ej,
        types=list(ligne.types), etat=ligne.etat, echeance=ligne.echeance, en_retard=ligne.en_retard,
        annee=ligne.annee,
        piece=None if p is None else PieceLue(piece_id=p.piece_id, type=p.type, version=p.version,
                                              sha256=p.sha256, nom=p.nom, depose_le=p.depose_le))


def _criteres(invalides: list[CritereInvalide]) -> list[CritereLu]:
    return [CritereLu(champ=i.champ, message=i.message) for i in invalides]


@router.get("/v1/dossiers/{dossier_id}/pieces-requises", response_model=PiecesRequisesLues)
async def pieces_requises_dossier(
    dossier_id: str, session: SessionDep, principal: Lecteur,
    annee: Annotated[int | None, Query(description="HospiConnect: add that year's evidence")] = None,
) -> PiecesRequisesLues:
    """Each piece the candidature requires (annex 1 prerequisites and their GHT variants, annex 4 proofs,
    HospiConnect administrative pieces; with `annee`, that year's evidence) and its state: `fournie`
    (latest version, hash, date), `manquante`, or `a_regulariser` (the GHT commitment letter, with its
    due date, `en_retard` past it); plus the GHT criteria. ARS of the region, DNS; 404 otherwise."""
    dossier = await dossiers.charger(session, principal, dossier_id)
    programme = charger_programme_pieces()
    lignes, invalides = await service.checklist_dossier(session, dossier, programme, annee=annee,
                                                        aujourd_hui=aujourd_hui_paris())
    return PiecesRequisesLues(
        dossier_type="candidature", dossier_id=dossier.id, dispositif=dossier.dispositif, annee=annee,
        version_programme=programme.version, complet=all(ligne.etat != "manquante" for ligne in lignes),
        pieces=[_ligne(ligne) for ligne in lignes], criteres_ght=dossier.criteres_ght,
        criteres_ght_invalides=_criteres(invalides))


@router.get("/v1/projets/{projet_id}/pieces-requises", response_model=PiecesRequisesLues)
async def pieces_requises_projet(projet_id: str, session: SessionDep, principal: Lecteur
                                 ) -> PiecesRequisesLues:
    """Each piece the AAP project requires (team and responsible, the partner letters it declares, the
    GHT validation of each public GHT participant) and its state. ARS of the region, DNS; 404 otherwise."""
    projet = await projets.charger(session, principal, projet_id)
    programme = charger_programme_pieces()
    lignes = await service.checklist_projet(session, projet, programme, aujourd_hui=aujourd_hui_paris())
    return PiecesRequisesLues(
        dossier_type="projet", dossier_id=projet.id, dispositif="aap", annee=None,
        version_programme=programme.version, complet=all(ligne.etat != "manquante" for ligne in lignes),
        pieces=[_ligne(ligne) for ligne in lignes], criteres_ght=None, criteres_ght_invalides=[])

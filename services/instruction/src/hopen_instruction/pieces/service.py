"""The ARS checklist of a dossier's required pieces (issue 8 item 4): the same programme data and pure
rules candidature's deposit check uses (hopen_common.programme.pieces), over the pieces received."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.calendrier import date_paris
from hopen_common.problemes import DISPOSITIF_DIFFERENT
from hopen_common.programme.criteres_ght import CritereInvalide, criteres_de, criteres_invalides
from hopen_common.programme.pieces import (
    DossierVu,
    LigneChecklist,
    PieceRecue,
    ProgrammePieces,
    checklist,
    exigences,
)
from hopen_instruction.models import Dossier, Projet
from hopen_instruction.models import PieceRecue as PieceRecueOrm


async def pieces_du_dossier(session: AsyncSession, dossier_type: str, dossier_id: str) -> list[PieceRecue]:
    lignes = await session.scalars(select(PieceRecueOrm).where(
        PieceRecueOrm.dossier_type == dossier_type, PieceRecueOrm.dossier_id == dossier_id))
    return [PieceRecue(p.type, p.finess_ej, p.piece_id, p.version, p.sha256, p.nom, p.depose_le)
            for p in lignes]


def _vu_dossier(dossier: Dossier) -> DossierVu:
    criteres = criteres_de(dossier.criteres_ght)
    return DossierVu(
        dispositif="phase1" if dossier.dispositif == "phase1" else "hospiconnect",
        membres_ght=None if dossier.perimetre is None else tuple(m["finess_ej"] for m in dossier.perimetre),
        referentiel_identite_unique=None if criteres is None else criteres.referentiel_identite_unique,
        preuve_capacite=None if criteres is None else criteres.preuve_capacite)


async def checklist_dossier(session: AsyncSession, dossier: Dossier, programme: ProgrammePieces, *,
                            annee: int | None, aujourd_hui: date
                            ) -> tuple[list[LigneChecklist], list[CritereInvalide]]:
    if annee is not None and dossier.dispositif != "hospiconnect":
        raise DISPOSITIF_DIFFERENT.erreur("les preuves annuelles sont celles d'HospiConnect : `annee` ne"
                                          f" s'applique pas à un dossier {dossier.dispositif}", champ="annee")
    criteres = criteres_de(dossier.criteres_ght)
    lignes = checklist(exigences(_vu_dossier(dossier), programme, annee=annee),
                       await pieces_du_dossier(session, "candidature", dossier.id),
                       a_regulariser_le=None if criteres is None else criteres.a_regulariser_le,
                       aujourd_hui=aujourd_hui)
    # The criteria as candidature judged them at the deposit (the SDSI's age is the deposit's).
    invalides = [] if dossier.dispositif != "phase1" or dossier.perimetre is None else criteres_invalides(
        criteres, depot_le=date_paris(dossier.deposee_le),
        sdsi_anciennete_max_mois=programme.sdsi_anciennete_max_mois)
    return lignes, invalides


async def checklist_projet(session: AsyncSession, projet: Projet, programme: ProgrammePieces, *,
                           aujourd_hui: date) -> list[LigneChecklist]:
    # A project deposited before issue 8 did not say which participants are public GHT members: none.
    vu = DossierVu(dispositif="aap", lettres_partenaires=bool(projet.lettres_partenaires),
                   participants_publics_ght=tuple(projet.participants_publics_ght or ()))
    return checklist(exigences(vu, programme), await pieces_du_dossier(session, "projet", projet.id),
                     a_regulariser_le=None, aujourd_hui=aujourd_hui)

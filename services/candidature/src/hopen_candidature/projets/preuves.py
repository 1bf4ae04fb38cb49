"""Evidence of attainment of a selected AAP project (issue 9 item 5): the lead deposits, objective by
objective, a piece of the project until the AAP evidence deadline (30 June 2027 in 2026.1, inclusive);
after it, 422 `echeance-depassee` naming the date, nothing written. PreuveAtteinteAapDeposee tells
instruction, which decides the attainment (AtteinteProjetAapDecidee)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.candidatures.service import SOURCE
from hopen_candidature.models import DecisionProjetConnue, Piece, PreuveAap
from hopen_candidature.projets.schemas import PreuveAapDepot
from hopen_candidature.projets.service import charger_pour
from hopen_common.auth import Principal
from hopen_common.auth.portee import exiger_portee_etablissement
from hopen_common.contracts import PreuveAtteinteAapDeposee, Topics
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.problemes import ECHEANCE_DEPASSEE, PROJET_NON_SELECTIONNE, REGLE_METIER
from hopen_common.programme.aap import ProgrammeAap


def verifier_delai(programme: ProgrammeAap, jour: date, *, ouvert: bool) -> None:
    fin = programme.calendrier.fin_depot_preuves_2027
    if not ouvert and jour > fin:
        raise ECHEANCE_DEPASSEE.erreur(
            f"le dépôt des preuves d'atteinte des projets AAP était possible jusqu'au {fin.isoformat()}"
            f" inclus ; nous sommes le {jour.isoformat()}", champ="date",
            extra={"date_limite": fin.isoformat()})


async def deposer_preuve(session: AsyncSession, principal: Principal, projet_id: str, depot: PreuveAapDepot,
                         programme: ProgrammeAap, *, jour: date, ouvert: bool,
                         maintenant: datetime) -> PreuveAap:
    projet = await charger_pour(session, principal, projet_id, verrou=True)
    exiger_portee_etablissement(principal, projet.finess)  # the lead only
    verifier_delai(programme, jour, ouvert=ouvert)
    # The current selection (the one no correction replaces): a project selected then corrected to
    # not retained takes no evidence.
    selections = list(await session.scalars(select(DecisionProjetConnue).where(
        DecisionProjetConnue.projet_id == projet.id, DecisionProjetConnue.objet == "selection")))
    remplacees = {d.remplace for d in selections if d.remplace}
    courantes = [d for d in selections if d.decision_id not in remplacees]
    if not any(d.decision == "selectionne" for d in courantes):
        raise PROJET_NON_SELECTIONNE.erreur(
            f"les preuves d'atteinte se déposent sur un projet sélectionné ; le projet {projet.id}"
            " ne l'est pas")
    if depot.objectif not in projet.objectifs:
        raise REGLE_METIER.erreur(
            f"objectif {depot.objectif!r} absent du projet ({', '.join(projet.objectifs)})", champ="objectif")
    piece = await session.scalar(select(Piece).where(
        Piece.id == depot.piece_id, Piece.dossier_type == "projet", Piece.dossier_id == projet.id))
    if piece is None:
        raise REGLE_METIER.erreur(f"pièce {depot.piece_id} inconnue sur ce projet (POST /v1/projets/"
                                  f"{projet.id}/pieces d'abord)", champ="piece_id")
    preuve = PreuveAap(id=str(uuid.uuid4()), projet_id=projet.id, objectif=depot.objectif, piece_id=piece.id,
                       commentaire=depot.commentaire, depose_par=principal.subject, depose_le=maintenant)
    session.add(preuve)
    evenement = nouvel_evenement(PreuveAtteinteAapDeposee(
        preuve_id=preuve.id, projet_id=projet.id, finess=projet.finess, region=projet.region,
        objectif=depot.objectif, piece_id=piece.id, piece_nom=piece.nom, piece_sha256=piece.sha256,
        commentaire=depot.commentaire, depose_par=principal.subject, depose_le=maintenant),
        source=SOURCE, subject=f"projet/{projet.id}")
    await publier(session, Topics.CANDIDATURE, projet.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="deposer_preuve_aap",
                             objet_type="projet_aap", objet_id=projet.id, region=projet.region,
                             details={"preuve_id": preuve.id, "event_id": evenement.id}))
    await session.flush()
    return preuve


async def preuves_de(session: AsyncSession, projet_id: str) -> list[PreuveAap]:
    return list(await session.scalars(select(PreuveAap).where(PreuveAap.projet_id == projet_id)
                                      .order_by(PreuveAap.depose_le, PreuveAap.id)))

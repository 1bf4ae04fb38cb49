"""What candidature learns from instruction (issue 9, ADR 0013): every transition of a dossier
(DossierPrisEnInstruction, CorrectionDemandee, DossierClasseSansSuite, DossierRouvert) and every ARS
decision, kept so that the establishment sees its state, each decision with its motivation and what is
asked of it. Instruction owns the state of a deposited dossier: candidature follows its events."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.candidatures.service import changer_statut
from hopen_candidature.models import (
    Candidature,
    DecisionConnue,
    DemandeCorrectionRecue,
    Piece,
    ProjetAap,
    TransitionConnue,
)
from hopen_common.contracts import (
    CorrectionDemandee,
    CorrectionProjetDemandee,
    DossierClasseSansSuite,
    DossierPrisEnInstruction,
    DossierRouvert,
    ProjetClasseSansSuite,
    ProjetPrisEnInstruction,
    ProjetRouvert,
)
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import Evenement
from hopen_common.inbox import EvenementRefuse

log = logging.getLogger(__name__)
Transition = (DossierPrisEnInstruction | CorrectionDemandee | CorrectionProjetDemandee
              | DossierClasseSansSuite | DossierRouvert | ProjetPrisEnInstruction | ProjetClasseSansSuite
              | ProjetRouvert)


def valeurs_des_champs(candidature: Candidature, champs: list[str]) -> dict[str, Any]:
    """The current value of each named field (`criteres_ght.<cle>`), JSON as stored."""
    criteres = candidature.criteres_ght or {}
    return {c: criteres.get(c.partition(".")[2]) for c in champs}


async def suivre_transition(session: AsyncSession, evenement: Evenement, e: Transition) -> None:
    """Keep the transition (once: its id) and follow the state. A candidature whose withdrawal is
    pending keeps `desistement_demande`: instruction's answer to it settles the state. A reopening
    whose applicant or EJ a newer candidature holds meanwhile is parked for an operator."""
    resultat = await session.execute(insert(TransitionConnue).values(
        transition_id=e.transition_id, dossier_type=e.dossier_type, dossier_id=e.dossier_id,
        de=e.statut_precedent, vers=e.statut, par=e.par, le=e.le, motivation=e.motivation,
    ).on_conflict_do_nothing(index_elements=["transition_id"]).returning(TransitionConnue.transition_id))
    if resultat.first() is None:
        return  # a redelivery
    if isinstance(e, CorrectionDemandee):  # a project's CorrectionProjetDemandee too
        valeurs: dict[str, Any] = {}
        if e.dossier_type == "candidature" and e.champs:
            tenue = await session.get(Candidature, e.dossier_id)
            valeurs = {} if tenue is None else valeurs_des_champs(tenue, list(e.champs))
        session.add(DemandeCorrectionRecue(
            correction_id=e.correction_id, dossier_type=e.dossier_type, dossier_id=e.dossier_id,
            pieces=[p.model_dump(mode="json") for p in e.pieces], champs=list(e.champs),
            valeurs_avant=valeurs, motivation=e.motivation or "", echeance=e.echeance, demandee_par=e.par,
            demandee_le=e.le))
    if e.dossier_type == "projet":
        projet = await session.get(ProjetAap, e.dossier_id, with_for_update=True)
        if projet is None:
            raise LookupError(f"projet {e.dossier_id} inconnu")  # instruction only knows deposited ones
        projet.statut = e.statut
        await session.flush()
        return
    candidature = await session.get(Candidature, e.dossier_id, with_for_update=True)
    if candidature is None:
        raise LookupError(f"candidature {e.dossier_id} inconnue")
    precedent = candidature.statut
    if precedent != "desistement_demande" and precedent != e.statut:
        try:
            async with session.begin_nested():
                await changer_statut(session, candidature, e.statut)
        except IntegrityError:
            raise EvenementRefuse(
                "reouverture-impossible",
                f"la candidature {candidature.id} rouverte par l'ARS ({e.statut}) : une autre candidature"
                " ouverte tient désormais son candidat ou une de ses entités juridiques ; clore l'autre puis"
                f" rejouer la clé {candidature.id}") from None
    session.add(JournalAudit(acteur=e.par, role="ars", action=f"transition_{e.statut}",
                             objet_type="candidature", objet_id=candidature.id, motivation=e.motivation,
                             region=candidature.region,
                             details={"transition_id": e.transition_id, "event_id": evenement.id,
                                      "statut_precedent": precedent}))
    await session.flush()


async def enregistrer_decision(session: AsyncSession, *, decision_id: str, candidature_id: str, objet: str,
                               finess_ej: str | None, decision: str, motivation: str, decide_par: str,
                               decide_le: Any, remplace: str | None) -> None:
    """One ARS decision as the establishment sees it (once: its id). A candidature unknown here
    (restored elsewhere, a test) has nothing to show."""
    if await session.get(Candidature, candidature_id) is None:
        log.warning("décision %s sur une candidature inconnue %s : non montrée", decision_id, candidature_id)
        return
    await session.execute(insert(DecisionConnue).values(
        decision_id=decision_id, candidature_id=candidature_id, objet=objet, finess_ej=finess_ej,
        decision=decision, motivation=motivation, decide_par=decide_par, decide_le=decide_le,
        remplace=remplace).on_conflict_do_nothing(index_elements=["decision_id"]))


async def decisions_de(session: AsyncSession, candidature_id: str) -> list[DecisionConnue]:
    return list(await session.scalars(select(DecisionConnue).where(
        DecisionConnue.candidature_id == candidature_id).order_by(DecisionConnue.decide_le,
                                                                  DecisionConnue.decision_id)))


async def transitions_de(session: AsyncSession, dossier_type: str, dossier_id: str) -> list[TransitionConnue]:
    return list(await session.scalars(select(TransitionConnue).where(
        TransitionConnue.dossier_type == dossier_type, TransitionConnue.dossier_id == dossier_id)
        .order_by(TransitionConnue.le, TransitionConnue.transition_id)))


async def corrections_de(session: AsyncSession, dossier_type: str, dossier_id: str, *,
                         ouvertes: bool = False) -> list[DemandeCorrectionRecue]:
    query = select(DemandeCorrectionRecue).where(DemandeCorrectionRecue.dossier_type == dossier_type,
                                                 DemandeCorrectionRecue.dossier_id == dossier_id)
    if ouvertes:
        query = query.where(DemandeCorrectionRecue.repondue_le.is_(None))
    return list(await session.scalars(query.order_by(DemandeCorrectionRecue.demandee_le,
                                                     DemandeCorrectionRecue.correction_id)))


async def pieces_depuis(session: AsyncSession, dossier_type: str, dossier_id: str,
                        demandes: list[DemandeCorrectionRecue]) -> list[Piece]:
    """The pieces of the named types uploaded since the earliest of these requests."""
    if not demandes:
        return []
    depuis = min(d.demandee_le for d in demandes)
    nommees = {(p["type"], p.get("finess_ej")) for d in demandes for p in d.pieces}
    rows = await session.scalars(select(Piece).where(
        Piece.dossier_type == dossier_type, Piece.dossier_id == dossier_id, Piece.depose_le > depuis)
        .order_by(Piece.depose_le, Piece.version))
    return [p for p in rows if (p.type, p.finess_ej) in nommees]

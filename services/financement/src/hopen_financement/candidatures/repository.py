"""Store and read the candidature decisions financement receives (any dispositif): the current one is
the decision no other replaces; a second first decision, or a correction of a decision already
corrected, is refused (parked) before anything is paid or taken back (ADR 0014)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import CandidatureRefusee, CandidatureValidee
from hopen_financement.forfaits.models import DecisionCandidatureRecue
from hopen_financement.notifications.succession import Courante, verifier_succession


async def decision_candidature_courante(session: AsyncSession, candidature_id: str
                                         ) -> DecisionCandidatureRecue | None:
    remplacees = select(DecisionCandidatureRecue.remplace).where(
        DecisionCandidatureRecue.remplace.is_not(None))
    decision: DecisionCandidatureRecue | None = await session.scalar(select(DecisionCandidatureRecue).where(
        DecisionCandidatureRecue.candidature_id == candidature_id,
        DecisionCandidatureRecue.decision_id.not_in(remplacees.scalar_subquery())))
    return decision


async def enregistrer_decision_candidature(session: AsyncSession, e: CandidatureValidee | CandidatureRefusee,
                                            *, validee: bool) -> None:
    """Store the candidature decision; a second first decision, or a correction of a decision already
    corrected, is refused (parked) before anything is paid or taken back."""
    courante = await decision_candidature_courante(session, e.candidature_id)
    ancienne = None if e.remplace is None else await session.get(DecisionCandidatureRecue, e.remplace)
    verifier_succession(
        objet=f"la candidature {e.candidature_id}", decision_id=e.decision_id,
        deja_recue=await session.get(DecisionCandidatureRecue, e.decision_id) is not None,
        remplace=e.remplace,
        courante=None if courante is None else Courante(courante.decision_id, courante.decision_id),
        remplacee_connue=ancienne is not None,
        meme_objet=ancienne is not None and ancienne.candidature_id == e.candidature_id,
        exigence_meme_objet="une correction porte sur la même candidature")
    session.add(DecisionCandidatureRecue(decision_id=e.decision_id, candidature_id=e.candidature_id,
                                         validee=validee, remplace=e.remplace, decide_par=e.decide_par,
                                         decide_le=e.decide_le))
    await session.flush()

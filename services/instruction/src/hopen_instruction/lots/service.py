"""Bulk decisions (ADR 0018). Every dossier is decided by the very function its own endpoint calls
(dossiers.service.decider_candidature, decider_objectif, projets.service.selectionner): the lot adds
no rule of its own, only the checks of the lot itself (scope, unknown ids, duplicates, size), made on
the whole list before anything is written.

The dry run takes each decision for real inside a savepoint of one transaction that is rolled back at
the end: its outcome is exactly the one the real run would give (the same checks, in the same order,
and the lot's earlier selections drawing on the envelope), and nothing is left behind. Its amounts are
financement's, asked in one HTTP call with the events the decisions published in the savepoints."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from hopen_common.auth import Principal, Role
from hopen_common.auth.portee import exiger_region
from hopen_common.calendrier import aujourd_hui_paris
from hopen_common.db.messaging import JournalAudit, OutboxMessage
from hopen_common.events import Evenement
from hopen_common.problemes import INTROUVABLE, QUATRE_YEUX, VALIDATION, introuvable
from hopen_common.programme.aap import charger_programme_aap
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_common.simulations import ProblemeSimule, probleme_de, simuler_evenements
from hopen_instruction.dossiers import service as dossiers
from hopen_instruction.dossiers.schemas import DecisionCandidatureDemande, DecisionObjectifDemande
from hopen_instruction.enveloppes import service as enveloppes
from hopen_instruction.lots.schemas import (
    DecisionCandidatureLot,
    DecisionLot,
    DecisionObjectifLot,
    DecisionSelectionLot,
    ImpactEnveloppe,
    IssueSimulee,
    LotDemande,
    SimulationLot,
)
from hopen_instruction.models import Dossier, Lot, LotDossier, Projet
from hopen_instruction.projets import service as projets
from hopen_instruction.projets.schemas import SelectionDemande

ZERO = Decimal("0.00")


async def verifier_lot(session: AsyncSession, principal: Principal, demande: LotDemande) -> None:
    """The lot as a whole, before anything is written: the caller decides (an ARS), each id once,
    each id a dossier (or project) of its region; another region's answers like an unknown one."""
    dossiers.verifier_instructeur(principal)
    premiers: dict[str, int] = {}
    for i, d in enumerate(demande.dossiers):
        if d in premiers:
            raise VALIDATION.erreur(f"{d} figure deux fois dans le lot (déjà en position {premiers[d]})",
                                    champ=f"dossiers.{i}")
        premiers[d] = i
    decision = demande.decision
    modele: type[Dossier] | type[Projet] = Projet if isinstance(decision, DecisionSelectionLot) else Dossier
    ressource = "projet" if modele is Projet else "dossier"
    regions: dict[str, str] = dict((await session.execute(
        select(modele.id, modele.region).where(modele.id.in_(demande.dossiers)))).all())
    for i, d in enumerate(demande.dossiers):
        if regions.get(d) != principal.region:
            raise INTROUVABLE.erreur(introuvable(ressource, d).detail, champ=f"dossiers.{i}")
    if isinstance(decision, DecisionSelectionLot):
        montants = decision.montants_accordes
        champ = "decision.montants_accordes"
        if decision.decision == "non_retenu":
            if montants is not None:
                raise VALIDATION.erreur("un projet non retenu ne reçoit pas de montant", champ=champ)
            return
        montants = montants or {}
        for d in demande.dossiers:
            if d not in montants:
                raise VALIDATION.erreur(f"montant accordé au projet {d} manquant", champ=f"{champ}.{d}")
        for d in montants:
            if d not in premiers:
                raise VALIDATION.erreur(f"le projet {d} n'est pas dans le lot", champ=f"{champ}.{d}")


async def decider(session: AsyncSession, principal: Principal, decision: DecisionLot, dossier_id: str,
                  *, ouvert: bool, maintenant: datetime, proposee_par: str | None = None) -> str:
    """One dossier of a lot, through its endpoint's own use case; the id of the decision taken."""
    if isinstance(decision, DecisionCandidatureLot):
        prise = await dossiers.decider_candidature(
            session, principal, dossier_id,
            DecisionCandidatureDemande(decision=decision.decision, motivation=decision.motivation),
            charger_programme_phase1(), aujourd_hui_paris(), ouvert, maintenant,
            charger_programme_hospiconnect(), proposee_par=proposee_par)
        return prise.id
    if isinstance(decision, DecisionObjectifLot):
        objectif, _, _ = await dossiers.decider_objectif(
            session, principal, dossier_id, decision.objectif,
            DecisionObjectifDemande(decision=decision.decision, motivation=decision.motivation),
            charger_programme_phase1(), maintenant, proposee_par=proposee_par)
        return objectif.id
    montant = None if decision.montants_accordes is None else decision.montants_accordes[dossier_id]
    selection = await projets.selectionner(
        session, principal, dossier_id,
        SelectionDemande(decision=decision.decision, montant_accorde=montant, motivation=decision.motivation),
        charger_programme_aap(), aujourd_hui_paris(), ouvert, maintenant, proposee_par=proposee_par)
    return selection.id


def principal_du_lot(lot: Lot) -> Principal:
    """Each dossier is decided in the confirmer's name (the proposer is recorded with it, ADR 0023).
    A lot nobody confirmed is never run: a lot queued before the two-person rule (instruction 0012:
    `confirmee_par` NULL) would otherwise be decided by its requester alone. Raised inside the
    worker's try, its pending dossiers are refused `quatre-yeux`: the instructeur proposes them again."""
    if lot.confirmee_par is None:
        raise QUATRE_YEUX.erreur(f"lot {lot.id} jamais confirmé (créé avant la règle des quatre yeux) :"
                                 " à proposer de nouveau, puis confirmer par un valideur")
    return Principal(subject=lot.confirmee_par, role=Role(lot.role), region=lot.region)


def proposeur_du_lot(lot: Lot) -> str:
    return lot.demande_par


async def creer(session: AsyncSession, principal: Principal, demande: LotDemande,
                maintenant: datetime, *, proposee_par: str) -> Lot:
    """`principal` confirms the lot `proposee_par` proposed (ADR 0023): the lot is in the proposer's
    name, confirmed by `principal`; there is no lot without a confirmer."""
    await verifier_lot(session, principal, demande)
    assert principal.region is not None  # an ARS (verifier_lot)
    lot = Lot(id=str(uuid.uuid4()), region=principal.region, type=demande.decision.type,
              decision=demande.decision.model_dump(mode="json"),
              demande_par=proposee_par, confirmee_par=principal.subject,
              role=principal.role.value, cree_le=maintenant, total=len(demande.dossiers))
    session.add(lot)
    await session.flush()
    # One multi-row INSERT: a lot of 5 000 is queued in one statement.
    await session.execute(insert(LotDossier), [
        {"lot_id": lot.id, "rang": i, "dossier_id": d, "cree_le": maintenant, "statut": "en_attente"}
        for i, d in enumerate(demande.dossiers)])
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action=f"lot_{lot.type}",
                             objet_type="lot", objet_id=lot.id, motivation=demande.decision.motivation,
                             region=lot.region, details={"decision": lot.decision, "total": lot.total}))
    await session.flush()
    return lot


@contextmanager
def suivre_publications(session: AsyncSession) -> Iterator[list[OutboxMessage]]:
    """The outbox rows the session writes while the block runs (no query: the ORM tells us)."""
    ecrits: list[OutboxMessage] = []

    def _noter(_: Session, objet: object) -> None:
        if isinstance(objet, OutboxMessage):
            ecrits.append(objet)

    event.listen(session.sync_session, "pending_to_persistent", _noter)
    try:
        yield ecrits
    finally:
        event.remove(session.sync_session, "pending_to_persistent", _noter)


async def pour_selection(session: AsyncSession, region: str) -> Decimal | None:
    situation = await enveloppes.situation(session, region)
    return None if situation is None else situation[1].pour_selection


async def simuler(session: AsyncSession, principal: Principal, demande: LotDemande, *, ouvert: bool,
                  financement: httpx.AsyncClient, autorisation: str) -> SimulationLot:
    """Per dossier, the outcome the lot would give it and the amounts financement would compute;
    writes nothing (everything happens in a savepoint rolled back before returning)."""
    await verifier_lot(session, principal, demande)
    assert principal.region is not None
    decision = demande.decision
    selection = isinstance(decision, DecisionSelectionLot) and decision.decision == "selectionne"
    maintenant = datetime.now(UTC)
    issues: list[IssueSimulee] = []
    publies: list[tuple[int, Evenement]] = []
    debut = fin = None
    lot = await session.begin_nested()
    try:
        if selection:
            debut = fin = await pour_selection(session, principal.region)
        for rang, d in enumerate(demande.dossiers):
            try:
                with suivre_publications(session) as ecrits:
                    async with session.begin_nested():
                        await decider(session, principal, decision, d, ouvert=ouvert, maintenant=maintenant)
                evenements = [Evenement.model_validate(o.envelope) for o in ecrits]
            except Exception as exc:
                probleme = probleme_de(exc)
                if probleme is None:
                    raise
                issues.append(IssueSimulee(rang=rang, dossier_id=d, statut="refuse", probleme=probleme))
                continue
            issue = IssueSimulee(rang=rang, dossier_id=d, statut="ok")
            if selection:
                apres = await pour_selection(session, principal.region)
                if fin is not None and apres is not None:
                    issue.enveloppe = ImpactEnveloppe(avant=fin, apres=apres)
                fin = apres
            issues.append(issue)
            publies.extend((rang, e) for e in evenements)
    finally:
        await lot.rollback()
    disponibles, detail = await _montants(issues, publies, financement, autorisation)
    ok = [i for i in issues if i.statut == "ok"]
    return SimulationLot(
        type=decision.type, total=len(issues), ok=len(ok), refuses=len(issues) - len(ok),
        montants_disponibles=disponibles, detail_montants=detail,
        total_montants=sum((i.total or ZERO for i in ok), ZERO) if disponibles else None,
        enveloppe=None if debut is None or fin is None else ImpactEnveloppe(avant=debut, apres=fin),
        dossiers=issues)


async def _montants(issues: list[IssueSimulee], publies: list[tuple[int, Evenement]],
                    financement: httpx.AsyncClient, autorisation: str) -> tuple[bool, str | None]:
    """Fill each accepted dossier's amounts from financement (one call for the lot). Financement down
    does not fail the dry run: the outcomes are instruction's and stay exact; the amounts are missing."""
    try:
        resultats = await simuler_evenements(financement, autorisation, [e for _, e in publies])
    except (httpx.HTTPError, ValueError) as exc:
        return False, f"financement n'a pas répondu : {exc}"
    par_rang: dict[int, list[Any]] = {}
    for (rang, _), r in zip(publies, resultats, strict=True):
        par_rang.setdefault(rang, []).append(r)
    for issue in issues:
        if issue.statut != "ok":
            continue
        issue.montants, issue.total = [], ZERO
        for r in par_rang.get(issue.rang, []):
            issue.montants.extend(r.montants)
            issue.total += r.total
            issue.note = issue.note or r.note
            if r.probleme is not None:
                issue.probleme_montants = ProblemeSimule.model_validate(r.probleme.model_dump())
    return True, None


async def lire(session: AsyncSession, principal: Principal, lot_id: str, *, statut: str | None,
               limit: int, offset: int) -> tuple[Lot, dict[str, int], datetime | None, list[LotDossier], int]:
    lot = await session.get(Lot, lot_id)
    if lot is None:
        raise introuvable("lot", lot_id)
    exiger_region(principal, lot.region, ressource="lot", identifiant=lot_id)
    comptes: dict[str, int] = dict((await session.execute(
        select(LotDossier.statut, func.count()).where(LotDossier.lot_id == lot.id)
        .group_by(LotDossier.statut))).all())
    termine_le = await session.scalar(select(func.max(LotDossier.traite_le))
                                      .where(LotDossier.lot_id == lot.id))
    query = select(LotDossier).where(LotDossier.lot_id == lot.id)
    if statut is not None:
        query = query.where(LotDossier.statut == statut)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(await session.scalars(query.order_by(LotDossier.rang).limit(limit).offset(offset)))
    return lot, comptes, termine_le, rows, total

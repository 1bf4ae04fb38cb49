"""The two-person rule in instruction (issue 10, ADR 0023).

An ARS instructeur's decision that moves money is a proposal: its endpoint runs the very use case it
ran before inside a savepoint rolled back at once (the lots' dry run, ADR 0018), so every refusal of
the decision itself is answered at proposal time, and financement computes the amounts of the events
it would publish. A valideur of the region who is not the proposer confirms it: the same use case
runs for real, in the confirmer's name, recording the proposer. A confirmation that the target's
state no longer allows (another decision was confirmed since) fails with the use case's own 409 and
leaves the proposal waiting: only a person rejects it, with a motivation."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal
from hopen_common.auth.portee import exiger_region, restreindre
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import Evenement
from hopen_common.problemes import (
    MONTANTS_NON_VERIFIABLES,
    PROPOSITION_EN_ATTENTE,
    PROPOSITION_PERIMEE,
    introuvable,
)
from hopen_common.propositions import StatutProposition, exiger_confirmateur, exiger_proposeur
from hopen_common.simulations import ProblemeSimule, simuler_evenements
from hopen_instruction.lots import service as lots
from hopen_instruction.lots.schemas import ImpactEnveloppe, LotCree, LotDemande
from hopen_instruction.models import Proposition
from hopen_instruction.propositions.schemas import MontantsProposition, PropositionLue

ZERO = Decimal("0.00")
# (session, principal, path ids, request, settings, now, proposee_par) -> (target key, answer)
Executer = Callable[[AsyncSession, Principal, dict[str, Any], Any, Any, datetime, str | None],
                    Awaitable[tuple[str, BaseModel]]]


@dataclass(frozen=True)
class Action:
    demande: type[BaseModel]
    executer: Executer


# Filled by the decision routers at import: type -> the endpoint's use case.
ACTIONS: dict[str, Action] = {}


def action(type_: str, demande: type[BaseModel]) -> Callable[[Executer], Executer]:
    def enregistrer(f: Executer) -> Executer:
        ACTIONS[type_] = Action(demande, f)
        return f
    return enregistrer


def lue(p: Proposition) -> PropositionLue:
    return PropositionLue(
        proposition_id=p.id, type=p.type, region=p.region, cible=p.cible, parametres=p.parametres,
        demande=p.demande, statut=p.statut, proposee_par=p.proposee_par, proposee_le=p.proposee_le,
        montants=MontantsProposition.model_validate(p.montants), traitee_par=p.traitee_par,
        traitee_le=p.traitee_le, motivation_traitement=p.motivation_traitement, decision_id=p.decision_id)


async def _montants(evenements: list[Evenement], financement: httpx.AsyncClient, autorisation: str
                    ) -> MontantsProposition:
    try:
        resultats = await simuler_evenements(financement, autorisation, evenements)
    except (httpx.HTTPError, ValueError) as exc:
        return MontantsProposition(disponibles=False, detail=f"financement n'a pas répondu : {exc}")
    m = MontantsProposition(disponibles=True, total=ZERO)
    for r in resultats:
        m.lignes.extend(r.montants)
        m.total = (m.total or ZERO) + r.total
        m.note = m.note or r.note
        if r.probleme is not None:
            m.probleme = ProblemeSimule.model_validate(r.probleme.model_dump())
    return m


async def _enregistrer(session: AsyncSession, principal: Principal, *, type_: str, cible: str,
                       parametres: dict[str, Any], demande: BaseModel, montants: MontantsProposition,
                       maintenant: datetime, motivation: str | None, id_: str | None = None) -> Proposition:
    attente = await session.scalar(select(Proposition.id).where(
        Proposition.cible == cible, Proposition.statut == StatutProposition.EN_ATTENTE.value))
    if attente is not None:
        raise PROPOSITION_EN_ATTENTE.erreur(f"la proposition {attente} attend déjà sa confirmation",
                                            extra={"proposition_id": attente})
    assert principal.region is not None  # an ARS instructeur (exiger_proposeur, the routers' roles)
    p = Proposition(
        id=id_ or str(uuid.uuid4()), region=principal.region, type=type_, cible=cible, parametres=parametres,
        demande=demande.model_dump(mode="json"), montants=montants.model_dump(mode="json"),
        statut=StatutProposition.EN_ATTENTE.value, proposee_par=principal.subject,
        emetteur_proposeur=principal.emetteur, proposee_le=maintenant)
    try:
        async with session.begin_nested():
            session.add(p)
            await session.flush()
    except IntegrityError:
        # Another proposal on the same target committed between our check and our insert.
        raise PROPOSITION_EN_ATTENTE.erreur("une proposition attend déjà sa confirmation") from None
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="proposition_deposee",
                             objet_type="proposition", objet_id=p.id, motivation=motivation,
                             region=p.region,
                             details={"type": type_, "cible": cible, "parametres": parametres,
                                      "total": None if montants.total is None else str(montants.total)}))
    await session.flush()
    return p


async def proposer(session: AsyncSession, principal: Principal, type_: str, parametres: dict[str, Any],
                   demande: BaseModel, *, reglages: Any, financement: httpx.AsyncClient,
                   autorisation: str) -> PropositionLue:
    """202: the decision `type_` would take, checked and priced, waiting for a valideur."""
    exiger_proposeur(principal)
    maintenant = datetime.now(UTC)
    executer = ACTIONS[type_].executer
    selection = type_ == "selection" and getattr(demande, "decision", None) == "selectionne"
    essai = await session.begin_nested()
    try:
        avant = await lots.pour_selection(session, principal.region or "") if selection else None
        with lots.suivre_publications(session) as ecrits:
            cible, _ = await executer(session, principal, parametres, demande, reglages, maintenant,
                                      principal.subject)
        evenements = [Evenement.model_validate(o.envelope) for o in ecrits]
        apres = await lots.pour_selection(session, principal.region or "") if selection else None
    finally:
        await essai.rollback()
    montants = await _montants(evenements, financement, autorisation)
    if avant is not None and apres is not None:
        montants.enveloppe = ImpactEnveloppe(avant=avant, apres=apres)
    p = await _enregistrer(session, principal, type_=type_, cible=cible, parametres=parametres,
                           demande=demande, montants=montants, maintenant=maintenant,
                           motivation=getattr(demande, "motivation", None))
    return lue(p)


async def proposer_lot(session: AsyncSession, principal: Principal, demande: LotDemande, *, ouvert: bool,
                       financement: httpx.AsyncClient, autorisation: str) -> PropositionLue:
    """A lot is proposed as one: its dry run (ADR 0018) is the proposal's amounts."""
    exiger_proposeur(principal)
    simulation = await lots.simuler(session, principal, demande, ouvert=ouvert, financement=financement,
                                    autorisation=autorisation)
    montants = MontantsProposition(disponibles=simulation.montants_disponibles,
                                   detail=simulation.detail_montants, total=simulation.total_montants,
                                   enveloppe=simulation.enveloppe, lot=simulation)
    id_ = str(uuid.uuid4())
    p = await _enregistrer(session, principal, type_="lot", cible=f"lot/{id_}", parametres={},
                           demande=demande, montants=montants, maintenant=datetime.now(UTC),
                           motivation=demande.decision.motivation, id_=id_)
    return lue(p)


async def charger(session: AsyncSession, principal: Principal, proposition_id: str, *,
                  verrou: bool = False) -> Proposition:
    query = select(Proposition).where(Proposition.id == proposition_id)
    if verrou:
        # populate_existing: the route may already hold this proposal in the session (read before the
        # lock); without it the locked read would hand back that stale copy, still en_attente, while a
        # concurrent confirmation or rejection has committed.
        query = query.with_for_update().execution_options(populate_existing=True)
    p = await session.scalar(query)
    if p is None:
        raise introuvable("proposition", proposition_id)
    # Another region's proposal answers 404 like a missing one (the scope helpers' rule).
    exiger_region(principal, p.region, ressource="proposition", identifiant=proposition_id)
    return p


def _verifier(principal: Principal, p: Proposition) -> None:
    exiger_confirmateur(principal, proposee_par=p.proposee_par, emetteur_proposeur=p.emetteur_proposeur,
                        region=p.region, statut=StatutProposition(p.statut))


def _paye(m: MontantsProposition) -> Any:
    """What a decision pays, as the valideur was shown it: the lines and total (a lot: per dossier, its
    outcome and lines) and whether financement would park it. Not the regional envelope's before/after
    of a selection: another project's selection moves it without changing what this one pays."""
    if m.lot is not None:
        return (m.lot.total_montants, [
            (i.dossier_id, i.statut, i.montants, i.total,
             None if i.probleme_montants is None else i.probleme_montants.type) for i in m.lot.dossiers])
    return (m.lignes, m.total, None if m.probleme is None else m.probleme.type)


def _exiger_memes_montants(p: Proposition, maintenant: MontantsProposition) -> None:
    """The amounts the decision produces now are those its proposal showed, or nothing is decided.
    The proposal stays `en_attente` (a failed confirmation writes nothing, ADR 0023 §4): a valideur
    rejects it with a motivation, and the instructeur proposes again at today's amounts. Marking it
    stale automatically would be a write by nobody, and the change may be undone (a referentiel
    correction reverted) before a valideur looks. A proposal priced without financement
    (`disponibles` false) showed no amounts: its valideur confirms knowingly, as before."""
    montrees = MontantsProposition.model_validate(p.montants)
    if not montrees.disponibles:
        return
    if not maintenant.disponibles:
        raise MONTANTS_NON_VERIFIABLES.erreur(
            f"financement ne peut pas recalculer les montants de la proposition {p.id}"
            f" ({maintenant.detail}) : rien n'est décidé, réessayer plus tard")
    if _paye(montrees) != _paye(maintenant):
        raise PROPOSITION_PERIMEE.erreur(
            f"la décision produirait aujourd'hui d'autres montants (total {maintenant.total}) que ceux de"
            f" la proposition {p.id} (total {montrees.total}) : rien n'est décidé ; la rejeter, puis"
            " proposer de nouveau",
            extra={"proposition_id": p.id, "montants_actuels": maintenant.model_dump(mode="json")})


async def confirmer(session: AsyncSession, principal: Principal, proposition_id: str,
                    motivation: str | None, *, reglages: Any, financement: httpx.AsyncClient,
                    autorisation: str) -> tuple[PropositionLue, dict[str, Any]]:
    """The decision, taken now by `principal` exactly as its endpoint took it before the rule, if it
    still pays what the proposal showed (`_exiger_memes_montants`: else 409 proposition-perimee)."""
    p = await charger(session, principal, proposition_id, verrou=True)
    _verifier(principal, p)
    maintenant = datetime.now(UTC)
    reponse: BaseModel
    if p.type == "lot":
        demande = LotDemande.model_validate(p.demande)
        # The lot's dossiers are decided later by the worker; its dry run now is what the valideur
        # confirms (the worker's own outcome may still differ if something is decided in between).
        simulation = await lots.simuler(session, principal, demande, ouvert=reglages.calendrier_ouvert,
                                        financement=financement, autorisation=autorisation)
        _exiger_memes_montants(p, MontantsProposition(
            disponibles=simulation.montants_disponibles, detail=simulation.detail_montants,
            total=simulation.total_montants, enveloppe=simulation.enveloppe, lot=simulation))
        lot = await lots.creer(session, principal, demande, maintenant, proposee_par=p.proposee_par)
        reponse, decision_id = LotCree(id=lot.id, total=lot.total, lien=f"/v1/lots/{lot.id}"), lot.id
    else:
        a = ACTIONS[p.type]
        with lots.suivre_publications(session) as ecrits:
            _, reponse = await a.executer(session, principal, p.parametres,
                                          a.demande.model_validate(p.demande), reglages, maintenant,
                                          p.proposee_par)
        # Priced exactly as at proposal time, on the events just written (not yet committed): a
        # mismatch raises, and the request's rollback takes the decision and its events with it.
        _exiger_memes_montants(p, await _montants([Evenement.model_validate(o.envelope) for o in ecrits],
                                                  financement, autorisation))
        decision_id = str(getattr(reponse, "id"))  # noqa: B009 (every decision answer has an id)
    p.statut, p.traitee_par, p.traitee_le = StatutProposition.CONFIRMEE.value, principal.subject, maintenant
    p.motivation_traitement, p.decision_id = motivation, decision_id
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="proposition_confirmee",
                             objet_type="proposition", objet_id=p.id, motivation=motivation,
                             region=p.region,
                             details={"type": p.type, "cible": p.cible, "decision_id": decision_id,
                                      "proposee_par": p.proposee_par}))
    await session.flush()
    return lue(p), reponse.model_dump(mode="json")


async def rejeter(session: AsyncSession, principal: Principal, proposition_id: str, motivation: str
                  ) -> PropositionLue:
    p = await charger(session, principal, proposition_id, verrou=True)
    _verifier(principal, p)
    p.statut, p.traitee_par = StatutProposition.REJETEE.value, principal.subject
    p.traitee_le = datetime.now(UTC)
    p.motivation_traitement = motivation
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="proposition_rejetee",
                             objet_type="proposition", objet_id=p.id, motivation=motivation,
                             region=p.region,
                             details={"type": p.type, "cible": p.cible, "proposee_par": p.proposee_par}))
    await session.flush()
    return lue(p)


async def lister(session: AsyncSession, principal: Principal, *, statut: str | None, limit: int,
                 offset: int) -> tuple[list[Proposition], int]:
    query = restreindre(select(Proposition), principal, region=Proposition.region)
    if statut is not None:
        query = query.where(Proposition.statut == statut)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Proposition.proposee_le, Proposition.id)
                                 .limit(limit).offset(offset))
    return list(rows), total

"""DNS transfers by two persons (issue 10, ADR 0025): one DNS person proposes, another confirms (the
transfer is then written exactly as a single person's was) or rejects it with a motivation.

Every check of the transfer runs at the proposal and again at the confirmation: the proposal reserves
nothing, so the money may have gone (engaged, transferred) in between, and the confirmation is then
the transfer's own refusal, the proposal still waiting. The proposal row is locked for its treatment:
of two concurrent confirmations one transfers, the other finds it treated (409)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal
from hopen_common.contracts import Topics, TransfertPropose, TransfertRejete
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.pagination import Pagination
from hopen_common.problemes import PROPOSITION_EN_ATTENTE, introuvable
from hopen_common.propositions import StatutProposition, exiger_confirmateur, exiger_proposeur
from hopen_financement.enveloppes.models import EcritureEnveloppe, PropositionTransfert
from hopen_financement.enveloppes.service import (
    SOURCE,
    Compte,
    disponibles_du_transfert,
    situation_de,
    transferer,
    verifier_transfert,
)


def _comptes(p: PropositionTransfert) -> tuple[Compte, Compte]:
    return (p.source_dispositif, p.source_region), (p.destination_dispositif, p.destination_region)


def _texte(disponibles: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, str]]:
    return {cote: {k: str(v) for k, v in figures.items()} for cote, figures in disponibles.items()}


def _audit(p: PropositionTransfert, principal: Principal, action: str, *, motivation: str | None,
           **details: Any) -> JournalAudit:
    # A transfer between two regions is national (DNS only); within one region, that region's.
    region = p.source_region if p.source_region == p.destination_region else None
    return JournalAudit(acteur=principal.subject, role=principal.role, action=action,
                        objet_type="proposition_transfert", objet_id=p.proposition_id, motivation=motivation,
                        region=region, details={"source": f"{p.source_dispositif}/{p.source_region}",
                                 "destination": f"{p.destination_dispositif}/{p.destination_region}",
                                 "montant": str(p.montant), "proposee_par": p.proposee_par, **details})


def _contenu(p: PropositionTransfert) -> dict[str, Any]:
    return {"proposition_id": p.proposition_id, "source_dispositif": p.source_dispositif,
            "source_region": p.source_region, "destination_dispositif": p.destination_dispositif,
            "destination_region": p.destination_region, "montant": p.montant, "motif": p.motif,
            "propose_par": p.proposee_par, "propose_le": p.proposee_le}


async def proposer(session: AsyncSession, principal: Principal, *, source: Compte, destination: Compte,
                   montant: Decimal, motif: str) -> PropositionTransfert:
    """202: the transfer checked as it would be written (nothing moves), waiting for another DNS person.
    One waiting proposal per move (source, destination): a second is 409 proposition-en-attente."""
    exiger_proposeur(principal)
    montant = verifier_transfert(source=source, destination=destination, montant=montant, motif=motif)
    disponibles = await disponibles_du_transfert(session, source=source, destination=destination,
                                                 montant=montant)
    attente = await session.scalar(select(PropositionTransfert.proposition_id).where(
        PropositionTransfert.statut == StatutProposition.EN_ATTENTE.value,
        PropositionTransfert.source_dispositif == source[0], PropositionTransfert.source_region == source[1],
        PropositionTransfert.destination_dispositif == destination[0],
        PropositionTransfert.destination_region == destination[1]))
    if attente is not None:
        raise PROPOSITION_EN_ATTENTE.erreur(f"la proposition {attente} de ce transfert attend déjà sa"
                                            " confirmation", extra={"proposition_id": attente})
    p = PropositionTransfert(
        proposition_id=str(uuid.uuid4()), source_dispositif=source[0], source_region=source[1],
        destination_dispositif=destination[0], destination_region=destination[1], montant=montant,
        motif=motif, statut=StatutProposition.EN_ATTENTE.value, proposee_par=principal.subject,
        emetteur_proposeur=principal.emetteur, proposee_le=datetime.now(UTC), disponibles=_texte(disponibles))
    try:
        async with session.begin_nested():
            session.add(p)
            await session.flush()
    except IntegrityError:
        # Another proposal of the same move committed between our check and our insert.
        raise PROPOSITION_EN_ATTENTE.erreur("une proposition de ce transfert attend déjà sa confirmation"
                                            ) from None
    session.add(_audit(p, principal, "transfert_propose", motivation=motif, disponibles=p.disponibles))
    await publier(session, Topics.ENVELOPPE, p.source_region, nouvel_evenement(TransfertPropose(
        **_contenu(p), source_disponible=disponibles["source"]["disponible_avant"],
        destination_disponible=disponibles["destination"]["disponible_avant"]),
        source=SOURCE, subject=f"proposition-transfert/{p.proposition_id}"))
    await session.flush()
    return p


async def _a_traiter(session: AsyncSession, principal: Principal,
                     proposition_id: str) -> PropositionTransfert:
    """The proposal, locked until the end of the transaction, after the two-person checks: a DNS person
    (the router's role), not the proposer, and a proposal still waiting."""
    p: PropositionTransfert | None = await session.scalar(
        select(PropositionTransfert).where(PropositionTransfert.proposition_id == proposition_id)
        .with_for_update().execution_options(populate_existing=True))
    if p is None:
        raise introuvable("Proposition", proposition_id)
    exiger_confirmateur(principal, proposee_par=p.proposee_par, emetteur_proposeur=p.emetteur_proposeur,
                        region=None, statut=StatutProposition(p.statut))
    return p


def _traitee(p: PropositionTransfert, principal: Principal) -> None:
    p.traitee_par, p.emetteur_traitant = principal.subject, principal.emetteur
    p.traitee_le = datetime.now(UTC)


async def confirmer(session: AsyncSession, principal: Principal, proposition_id: str
                    ) -> tuple[PropositionTransfert, EcritureEnveloppe, EcritureEnveloppe]:
    """The transfer, written as it always was (two entries, two events, the entries' audit rows), now
    carrying both persons; refused as the transfer itself would be, the proposal still waiting."""
    p = await _a_traiter(session, principal, proposition_id)
    source, destination = _comptes(p)
    sortie, entree = await transferer(session, source=source, destination=destination, montant=p.montant,
                                      motif=p.motif, decide_par=principal.subject, propose_par=p.proposee_par,
                                      proposition_id=p.proposition_id)
    avant = p.disponibles
    # The figures the confirmation found and left (the entries' events carry the same).
    disponibles: dict[str, dict[str, Decimal]] = {}
    for cote, ecriture, montant in (("source", sortie, p.montant), ("destination", entree, -p.montant)):
        maintenant = (await situation_de(session, ecriture.dispositif, ecriture.region)).disponible
        disponibles[cote] = {"disponible_avant": maintenant + montant, "disponible_apres": maintenant}
    p.statut = StatutProposition.CONFIRMEE.value
    _traitee(p, principal)
    p.transfert_id = sortie.transfert_id
    p.disponibles = _texte(disponibles)
    session.add(_audit(p, principal, "transfert_confirme", motivation=None, transfert_id=p.transfert_id,
                       disponibles_a_la_proposition=avant, disponibles=p.disponibles))
    await session.flush()
    return p, sortie, entree


async def rejeter(session: AsyncSession, principal: Principal, proposition_id: str, *,
                  motivation: str) -> PropositionTransfert:
    p = await _a_traiter(session, principal, proposition_id)
    p.statut = StatutProposition.REJETEE.value
    _traitee(p, principal)
    p.motivation = motivation
    session.add(_audit(p, principal, "transfert_rejete", motivation=motivation))
    await publier(session, Topics.ENVELOPPE, p.source_region, nouvel_evenement(TransfertRejete(
        **_contenu(p), rejete_par=principal.subject, rejete_le=p.traitee_le, motivation=motivation),
        source=SOURCE, subject=f"proposition-transfert/{p.proposition_id}"))
    await session.flush()
    return p


async def disponibles_actuels(session: AsyncSession,
                              p: PropositionTransfert) -> dict[str, dict[str, Decimal]]:
    """A waiting proposal's envelopes as they are now: what a confirmation would find. A negative
    source figure after it says the confirmation would be refused (the money has gone since)."""
    resultat: dict[str, dict[str, Decimal]] = {}
    for cote, cle, signe in (("source", _comptes(p)[0], -1), ("destination", _comptes(p)[1], 1)):
        avant = (await situation_de(session, *cle)).disponible
        resultat[cote] = {"disponible_avant": avant, "disponible_apres": avant + signe * p.montant}
    return resultat


async def lire(session: AsyncSession, proposition_id: str) -> PropositionTransfert:
    p = await session.get(PropositionTransfert, proposition_id)
    if p is None:
        raise introuvable("Proposition", proposition_id)
    return p


async def lister(session: AsyncSession, statut: StatutProposition | None, *, pagination: Pagination
                 ) -> tuple[Sequence[PropositionTransfert], int]:
    """One page of the proposals, oldest first: (proposals, total)."""
    query = select(PropositionTransfert)
    if statut is not None:
        query = query.where(PropositionTransfert.statut == statut.value)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    return (await session.scalars(query.order_by(PropositionTransfert.proposee_le,
                                                 PropositionTransfert.proposition_id)
                                  .offset(pagination.offset).limit(pagination.limit))).all(), total


async def ecritures_du_transfert(session: AsyncSession, transfert_id: str
                                 ) -> tuple[EcritureEnveloppe, EcritureEnveloppe] | None:
    rows = (await session.scalars(select(EcritureEnveloppe).where(
        EcritureEnveloppe.transfert_id == transfert_id))).all()
    sortie = next((e for e in rows if e.nature == "transfert_sortant"), None)
    entree = next((e for e in rows if e.nature == "transfert_entrant"), None)
    return None if sortie is None or entree is None else (sortie, entree)

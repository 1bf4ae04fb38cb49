"""ARS selection and attainment of AAP projects: immutable decisions with who/when/why, published in
the same transaction (ProjetAapSelectionne | ProjetAapNonRetenu, AtteinteProjetAapDecidee)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal
from hopen_common.auth.portee import exiger_region, restreindre
from hopen_common.contracts import (
    AtteinteProjetAapDecidee,
    ParticipantAap,
    ProjetAapNonRetenu,
    ProjetAapSelectionne,
    Topics,
)
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.problemes import DEJA_DECIDEE, PROJET_NON_SELECTIONNE, introuvable
from hopen_common.programme.aap import ProgrammeAap, charger_programme_aap, maximum_theorique
from hopen_instruction.dossiers.service import SOURCE, filtre_affectation, verifier_instructeur
from hopen_instruction.enveloppes import service as enveloppes
from hopen_instruction.models import DecisionProjet, DepensePrevueProjet, EtablissementConnu, Projet
from hopen_instruction.projets import rules
from hopen_instruction.projets.schemas import AtteinteDemande, SelectionDemande


async def lister(session: AsyncSession, principal: Principal, limit: int, offset: int, *,
                 affectation: str | None = None) -> tuple[list[Projet], int]:
    query = restreindre(select(Projet), principal, region=Projet.region)
    if (par_agent := filtre_affectation(Projet.affecte_a, principal, affectation)) is not None:
        query = query.where(par_agent)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Projet.deposee_le, Projet.id).limit(limit).offset(offset))
    return list(rows), total


async def charger(session: AsyncSession, principal: Principal, projet_id: str, *, verrou: bool = False
                  ) -> Projet:
    query = select(Projet).where(Projet.id == projet_id)
    if verrou:
        query = query.with_for_update()
    projet = await session.scalar(query)
    if projet is None:
        raise introuvable("projet", projet_id)
    # Another region's project answers 404 exactly like a missing one.
    exiger_region(principal, projet.region, ressource="projet", identifiant=projet_id)
    return projet


async def decisions_de(session: AsyncSession, projet_id: str) -> list[DecisionProjet]:
    return list(await session.scalars(select(DecisionProjet).where(DecisionProjet.projet_id == projet_id)
                                      .order_by(DecisionProjet.decide_le, DecisionProjet.id)))


async def depenses_de(session: AsyncSession, projet_id: str) -> dict[int, Decimal]:
    lignes = await session.scalars(select(DepensePrevueProjet).where(
        DepensePrevueProjet.projet_id == projet_id).order_by(DepensePrevueProjet.annee))
    return {d.annee: d.montant for d in lignes}


async def activites_2024(session: AsyncSession, projet: Projet) -> dict[str, Decimal | None]:
    """Each participant's AC 2024 as the referentiel copy knows it (None: not published)."""
    return {e.finess: e.activite_combinee_2024 for e in await session.scalars(
        select(EtablissementConnu).where(EtablissementConnu.finess.in_(projet.participants)))}


async def maximum_du_projet(session: AsyncSession, projet: Projet) -> Decimal | None:
    """The theoretical maximum of a project, None while a participant's AC 2024 is unknown."""
    activites = await activites_2024(session, projet)
    if any(activites.get(p) is None for p in projet.participants):
        return None
    # The same function and programme file financement checks the selected amount against.
    return maximum_theorique(sum((activites[p] or Decimal(0) for p in projet.participants), Decimal(0)),
                             len(projet.objectifs), charger_programme_aap()).maximum


async def _deja(session: AsyncSession, projet_id: str, objet: str) -> DecisionProjet | None:
    return await session.scalar(select(DecisionProjet).where(
        DecisionProjet.projet_id == projet_id, DecisionProjet.objet == objet,
        DecisionProjet.remplace.is_(None)))


async def selectionner(session: AsyncSession, principal: Principal, projet_id: str,
                       demande: SelectionDemande, programme: ProgrammeAap, jour: date, ouvert: bool,
                       maintenant: datetime) -> DecisionProjet:
    verifier_instructeur(principal)
    projet = await charger(session, principal, projet_id, verrou=True)
    deja = await _deja(session, projet.id, "selection")
    if deja is not None:
        raise DEJA_DECIDEE.erreur(f"sélection déjà décidée : projet {projet.id}, {deja.decision} le"
                                  f" {deja.decide_le.isoformat()}")
    rules.verifier_fenetre_selection(programme, jour, ouvert)
    place = None
    if demande.decision == "selectionne":
        # Locks the region's envelope copy: concurrent selections see each other's amounts in flight.
        situation = await enveloppes.situation(session, projet.region, verrou=True)
        place = None if situation is None else situation[1]
    participants: list[tuple[str, Decimal]] = []
    maximum = None
    if demande.decision == "selectionne":
        participants = rules.activites_participants(projet.participants, await activites_2024(session,
                                                                                              projet))
        maximum = maximum_theorique(sum((ac for _, ac in participants), Decimal(0)), len(projet.objectifs),
                                    programme).maximum
    montant = rules.verifier_selection(demande.decision, demande.montant_accorde, projet.depenses_prevues,
                                       place, maximum)
    elements: dict[str, object] = {"depenses_prevues": str(projet.depenses_prevues)}
    if montant is not None:
        assert place is not None
        elements.update({
            "maximum_theorique": str(maximum), "parametres_maximum": programme.version,
            "participants": [{"finess": f, "activite_combinee_2024": str(ac)} for f, ac in participants],
            "enveloppe": {"disponible": str(place.disponible), "en_attente": str(place.en_attente),
                          "disponible_pour_selection": str(place.pour_selection)}})
    decision = DecisionProjet(
        id=str(uuid.uuid4()), projet_id=projet.id, objet="selection", decision=demande.decision,
        montant_accorde=montant, motivation=demande.motivation, decide_par=principal.subject,
        decide_le=maintenant, elements=elements)
    session.add(decision)
    projet.statut = demande.decision
    if montant is not None:
        payload: ProjetAapSelectionne | ProjetAapNonRetenu = ProjetAapSelectionne(
            decision_id=decision.id, projet_id=projet.id, finess=projet.finess, region=projet.region,
            theme=projet.theme, objectifs=projet.objectifs,
            participants=[ParticipantAap(finess=f, activite_combinee=ac) for f, ac in participants],
            perimetre=projet.perimetre, depenses_prevues=projet.depenses_prevues, montant_accorde=montant,
            decide_par=principal.subject, decide_le=maintenant, motivation=demande.motivation)
    else:
        payload = ProjetAapNonRetenu(
            decision_id=decision.id, projet_id=projet.id, finess=projet.finess, region=projet.region,
            decide_par=principal.subject, decide_le=maintenant, motivation=demande.motivation)
    evenement = nouvel_evenement(payload, source=SOURCE, subject=f"projet/{projet.id}")
    await publier(session, Topics.PROJET, projet.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role,
                             action=f"projet_{demande.decision}",
                             objet_type="projet_aap", objet_id=projet.id, motivation=demande.motivation,
                             details={"decision_id": decision.id, "event_id": evenement.id,
                                      "montant_accorde": None if montant is None else str(montant)}))
    await session.flush()
    return decision


async def decider_atteinte(session: AsyncSession, principal: Principal, projet_id: str,
                           demande: AtteinteDemande, maintenant: datetime) -> DecisionProjet:
    verifier_instructeur(principal)
    projet = await charger(session, principal, projet_id, verrou=True)
    if projet.statut not in ("selectionne", "atteint", "non_atteint"):
        raise PROJET_NON_SELECTIONNE.erreur(f"l'atteinte se décide sur un projet sélectionné ; celui-ci est"
                                            f" {projet.statut}")
    deja = await _deja(session, projet.id, "atteinte")
    if deja is not None:
        raise DEJA_DECIDEE.erreur(f"atteinte déjà décidée : projet {projet.id}, {deja.decision} le"
                                  f" {deja.decide_le.isoformat()}")
    verdict = "atteint" if demande.atteint else "non_atteint"
    decision = DecisionProjet(
        id=str(uuid.uuid4()), projet_id=projet.id, objet="atteinte", decision=verdict, montant_accorde=None,
        motivation=demande.motivation, decide_par=principal.subject, decide_le=maintenant,
        elements={"objectifs": projet.objectifs})
    session.add(decision)
    projet.statut = verdict
    evenement = nouvel_evenement(
        AtteinteProjetAapDecidee(
            decision_id=decision.id, projet_id=projet.id, finess=projet.finess, region=projet.region,
            atteint=demande.atteint, decide_par=principal.subject, decide_le=maintenant,
            motivation=demande.motivation),
        source=SOURCE, subject=f"projet/{projet.id}")
    await publier(session, Topics.PROJET, projet.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action=f"projet_{verdict}",
                             objet_type="projet_aap", objet_id=projet.id, motivation=demande.motivation,
                             details={"decision_id": decision.id, "event_id": evenement.id}))
    await session.flush()
    return decision

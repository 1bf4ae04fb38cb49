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
from hopen_common.problemes import PROJET_NON_SELECTIONNE, introuvable
from hopen_common.programme.aap import ProgrammeAap, charger_programme_aap, maximum_theorique
from hopen_common.programme.erreurs import RegleMetierError
from hopen_instruction.dossiers.service import SOURCE, filtre_affectation, personnes, verifier_instructeur
from hopen_instruction.enveloppes import service as enveloppes
from hopen_instruction.etats import rules as etats
from hopen_instruction.etats.repository import enregistrer_transition
from hopen_instruction.models import DecisionProjet, DepensePrevueProjet, EtablissementConnu, Projet
from hopen_instruction.projets import rules
from hopen_instruction.projets.schemas import AtteinteDemande, SelectionDemande
from hopen_instruction.remplacement import rules as remplacement


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


async def _courante(session: AsyncSession, projet_id: str, objet: str) -> DecisionProjet | None:
    """The project's current decision of `objet` (selection | atteinte): the one no other replaces."""
    return remplacement.courante(await session.scalars(select(DecisionProjet).where(
        DecisionProjet.projet_id == projet_id, DecisionProjet.objet == objet)
        .order_by(DecisionProjet.decide_le, DecisionProjet.id)))


async def selectionner(session: AsyncSession, principal: Principal, projet_id: str,
                       demande: SelectionDemande, programme: ProgrammeAap, jour: date, ouvert: bool,
                       maintenant: datetime, *, remplace: str | None = None,
                       proposee_par: str | None = None) -> DecisionProjet:
    """A first selection, or (`remplace`) the correction of the current one: another amount, or not
    retained any more (financement computes the complement or the reprise, ADR 0014)."""
    verifier_instructeur(principal)
    remplace = remplace or demande.remplace
    projet = await charger(session, principal, projet_id, verrou=True)
    de = projet.statut
    courante = await _courante(session, projet.id, "selection")
    remplacement.verifier_remplace(None if courante is None else courante.id, remplace,
                                   quoi=f"la sélection du projet {projet.id}")
    if courante is None:
        # From depose or en_instruction only (a closed project, or one waiting for a correction: 409).
        etats.verifier_transition("projet", projet.id, de, "decider", decision=demande.decision)
        rules.verifier_fenetre_selection(programme, jour, ouvert)
    elif await _courante(session, projet.id, "atteinte") is not None:
        raise RegleMetierError(f"l'atteinte du projet {projet.id} est décidée : sa sélection ne se corrige"
                               " plus (corriger l'atteinte)", "remplace")
    # A correction frees the amount it replaces (engaged, or still in flight): room for the new total.
    ancien = (courante.montant_accorde if courante is not None and courante.decision == "selectionne"
              and courante.montant_accorde is not None else Decimal("0.00"))
    place = None
    if demande.decision == "selectionne":
        # Locks the region's envelope copy: concurrent selections see each other's amounts in flight.
        situation = await enveloppes.situation(session, projet.region, verrou=True)
        place = None if situation is None else situation[1]
        if place is not None and ancien:
            place = rules.Disponibilite(place.disponible, place.en_attente, place.pour_selection + ancien)
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
        decide_le=maintenant, elements=elements, remplace=remplace, **personnes(principal, proposee_par))
    session.add(decision)
    projet.statut = demande.decision
    await enregistrer_transition(session, "projet", projet.id, de=de, vers=demande.decision,
                                 par=principal.subject, le=maintenant, motivation=demande.motivation,
                                 identifiant=decision.id)
    if montant is not None:
        payload: ProjetAapSelectionne | ProjetAapNonRetenu = ProjetAapSelectionne(
            decision_id=decision.id, projet_id=projet.id, finess=projet.finess, region=projet.region,
            theme=projet.theme, objectifs=projet.objectifs,
            participants=[ParticipantAap(finess=f, activite_combinee=ac) for f, ac in participants],
            perimetre=projet.perimetre, depenses_prevues=projet.depenses_prevues, montant_accorde=montant,
            decide_par=principal.subject, decide_le=maintenant, motivation=demande.motivation,
            remplace=remplace, **personnes(principal, proposee_par))
    else:
        payload = ProjetAapNonRetenu(
            decision_id=decision.id, projet_id=projet.id, finess=projet.finess, region=projet.region,
            decide_par=principal.subject, decide_le=maintenant, motivation=demande.motivation,
            remplace=remplace, **personnes(principal, proposee_par))
    evenement = nouvel_evenement(payload, source=SOURCE, subject=f"projet/{projet.id}")
    await publier(session, Topics.PROJET, projet.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role,
                             action=f"projet_{demande.decision}",
                             objet_type="projet_aap", objet_id=projet.id, motivation=demande.motivation,
                             region=projet.region,
                             details={"decision_id": decision.id, "event_id": evenement.id,
                                      "montant_accorde": None if montant is None else str(montant),
                                      "remplace": remplace}))
    await session.flush()
    return decision


async def decider_atteinte(session: AsyncSession, principal: Principal, projet_id: str,
                           demande: AtteinteDemande, maintenant: datetime, *, remplace: str | None = None,
                           proposee_par: str | None = None
                           ) -> DecisionProjet:
    verifier_instructeur(principal)
    remplace = remplace or demande.remplace
    projet = await charger(session, principal, projet_id, verrou=True)
    if projet.statut not in ("selectionne", "atteint", "non_atteint"):
        raise PROJET_NON_SELECTIONNE.erreur(f"l'atteinte se décide sur un projet sélectionné ; celui-ci est"
                                            f" {projet.statut}")
    courante = await _courante(session, projet.id, "atteinte")
    remplacement.verifier_remplace(None if courante is None else courante.id, remplace,
                                  quoi=f"l'atteinte du projet {projet.id}")
    verdict = "atteint" if demande.atteint else "non_atteint"
    decision = DecisionProjet(
        id=str(uuid.uuid4()), projet_id=projet.id, objet="atteinte", decision=verdict, montant_accorde=None,
        motivation=demande.motivation, decide_par=principal.subject, decide_le=maintenant,
        elements={"objectifs": projet.objectifs}, remplace=remplace,
        **personnes(principal, proposee_par))
    session.add(decision)
    projet.statut = verdict
    evenement = nouvel_evenement(
        AtteinteProjetAapDecidee(
            decision_id=decision.id, projet_id=projet.id, finess=projet.finess, region=projet.region,
            atteint=demande.atteint, decide_par=principal.subject, decide_le=maintenant,
            motivation=demande.motivation, remplace=remplace, **personnes(principal, proposee_par)),
        source=SOURCE, subject=f"projet/{projet.id}")
    await publier(session, Topics.PROJET, projet.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action=f"projet_{verdict}",
                             objet_type="projet_aap", objet_id=projet.id, motivation=demande.motivation,
                             region=projet.region,
                             details={"decision_id": decision.id, "event_id": evenement.id,
                                      "remplace": remplace}))
    await session.flush()
    return decision

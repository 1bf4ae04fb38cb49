"""AAP projects of a lead ES: a checked draft, then the deposit that publishes ProjetAapDepose to the
ARS of the region, state + event + audit in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.candidatures import rules as regles_candidature
from hopen_candidature.candidatures.service import SOURCE
from hopen_candidature.exigences import rules as regles_exigences
from hopen_candidature.exigences.repository import SourcePieces
from hopen_candidature.models import (
    DecisionProjetConnue,
    DepensePrevue,
    EtablissementConnu,
    HospiconnectValide,
    Piece,
    ProjetAap,
)
from hopen_candidature.projets import rules
from hopen_candidature.projets.schemas import LettrePartenaireDemande, ProjetCreation
from hopen_common.auth import Principal
from hopen_common.auth.portee import exiger_acces, exiger_portee_etablissement, restreindre
from hopen_common.contracts import (
    DepensePrevueAap,
    LettrePartenaire,
    MembreEquipeAap,
    ProjetAapDepose,
    Topics,
)
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.problemes import DEJA_DEPOSEE, introuvable
from hopen_common.programme.aap import ProgrammeAap
from hopen_common.programme.pieces import ProgrammePieces, charger_programme_pieces


def _es(e: EtablissementConnu | None) -> rules.EsAap | None:
    if e is None:
        return None
    return rules.EsAap(e.finess, e.finess_ej, e.niveau, e.eligible_aap, e.maille_aap, e.finess_pmsi_phase2,
                       e.ferme)


async def _connus(session: AsyncSession, finess: list[str]) -> dict[str, rules.EsAap | None]:
    lignes = await session.scalars(select(EtablissementConnu).where(EtablissementConnu.finess.in_(finess)))
    trouves = {e.finess: _es(e) for e in lignes}
    return {f: trouves.get(f) for f in finess}


async def _ej_valides(session: AsyncSession, finess: list[str]) -> set[str]:
    return set(await session.scalars(select(HospiconnectValide.finess_ej).where(
        HospiconnectValide.finess_ej.in_(finess))))


async def _participations(session: AsyncSession, participants: list[str], sauf: str | None) -> dict[str, int]:
    deja: dict[str, int] = {}
    for p in participants:
        query = select(func.count()).select_from(ProjetAap).where(
            ProjetAap.statut == "depose", ProjetAap.participants.contains([p]))
        if sauf is not None:
            query = query.where(ProjetAap.id != sauf)
        deja[p] = int(await session.scalar(query) or 0)
    return deja


async def _verifier(session: AsyncSession, programme: ProgrammeAap, *, finess: str, theme: str,
                    participants: list[str], perimetre: list[str], sans_versement_usage: bool | None,
                    projet_id: str | None) -> EtablissementConnu:
    """Every rule a project must meet, at creation and again at deposit (the referentiel, the
    HospiConnect validations and the other projects may have changed in between)."""
    theme_aap = rules.verifier_theme(theme, programme)
    connus = await _connus(session, participants)
    es = [rules.verifier_participant(connus[p], p, "finess" if i == 0 else f"participants.{i - 1}")
          for i, p in enumerate(participants)]
    egs = await _connus(session, perimetre)
    rules.verifier_perimetre(perimetre, egs, participants)
    ej = sorted({f for e in es for f in (e.finess, e.finess_ej)})
    rules.verifier_condition_theme(theme_aap, sans_versement_usage, es, await _ej_valides(session, ej))
    rules.verifier_participations(participants, await _participations(session, participants, projet_id),
                                  programme.participations_max)
    lead = await session.get(EtablissementConnu, finess)
    assert lead is not None  # checked by verifier_participant
    return lead


def _verifier_fenetre_depot(programme: ProgrammeAap, aujourd_hui: date, calendrier_ouvert: bool) -> None:
    fin = programme.calendrier.fin_depot_dossiers
    regles_candidature.verifier_fenetre(regles_candidature.Fenetre(None, fin),
                                        aujourd_hui, ouvert=calendrier_ouvert,
                                        quoi="le dépôt de projets à l'appel à projets est")


async def creer_projet(session: AsyncSession, principal: Principal, demande: ProjetCreation,
                       programme: ProgrammeAap, aujourd_hui: date, calendrier_ouvert: bool,
                       maintenant: datetime) -> tuple[ProjetAap, dict[int, Decimal]]:
    exiger_portee_etablissement(principal, demande.finess)
    _verifier_fenetre_depot(programme, aujourd_hui, calendrier_ouvert)
    objectifs = rules.verifier_objectifs(demande.objectifs)
    rules.verifier_equipe([m.responsable for m in demande.equipe])
    depenses = rules.verifier_depenses([(d.annee, d.montant) for d in demande.depenses_prevues], programme)
    participants = rules.verifier_participants(demande.finess, demande.participants)
    lead = await _verifier(session, programme, finess=demande.finess, theme=demande.theme,
                           participants=participants, perimetre=demande.perimetre,
                           sans_versement_usage=demande.sans_versement_usage, projet_id=None)
    projet = ProjetAap(
        id=str(uuid.uuid4()), finess=lead.finess, region=lead.region, statut="brouillon", theme=demande.theme,
        titre=demande.titre, description=demande.description, objectifs=objectifs, participants=participants,
        perimetre=list(demande.perimetre), equipe=[m.model_dump() for m in demande.equipe],
        lettres_partenaires=[],
        sans_versement_usage=demande.sans_versement_usage, cree_par=principal.subject, cree_le=maintenant)
    session.add(projet)
    await session.flush()
    session.add_all([DepensePrevue(projet_id=projet.id, annee=a, montant=m) for a, m in depenses.items()])
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="creer",
                             objet_type="projet_aap", objet_id=projet.id, region=projet.region,
                             details={"theme": demande.theme, "participants": participants}))
    await session.flush()
    return projet, depenses


async def depenses_de(session: AsyncSession, projet_id: str) -> dict[int, Decimal]:
    lignes = await session.scalars(select(DepensePrevue).where(DepensePrevue.projet_id == projet_id)
                                   .order_by(DepensePrevue.annee))
    return {d.annee: d.montant for d in lignes}


async def decisions_ars(session: AsyncSession, projet_id: str) -> list[DecisionProjetConnue]:
    return list(await session.scalars(select(DecisionProjetConnue).where(
        DecisionProjetConnue.projet_id == projet_id).order_by(DecisionProjetConnue.decide_le)))


async def charger_pour(session: AsyncSession, principal: Principal, projet_id: str,
                       *, verrou: bool = False) -> ProjetAap:
    query = select(ProjetAap).where(ProjetAap.id == projet_id)
    if verrou:
        query = query.with_for_update()
    projet = await session.scalar(query)
    if projet is None:
        raise introuvable("projet", projet_id)
    # Another establishment's or region's project answers 404, like a missing one.
    exiger_acces(principal, region=projet.region, finess=projet.participants, ressource="projet",
                 identifiant=projet_id)
    return projet


async def lister(session: AsyncSession, principal: Principal, limit: int, offset: int
                 ) -> tuple[list[ProjetAap], int]:
    """An establishment: the projects it leads or takes part in; an ARS: its region; the DNS: all."""
    query = restreindre(select(ProjetAap), principal, region=ProjetAap.region,
                        finess=lambda finess: or_(*[ProjetAap.participants.contains([f]) for f in finess]))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(ProjetAap.cree_le, ProjetAap.id).limit(limit).offset(offset))
    return list(rows), total


async def participants_publics_ght(session: AsyncSession, participants: list[str]) -> list[str]:
    """The participants that are public members of a GHT (the referentiel's local copy): each owes the
    GHT-level validation of the project (DNS/2025/180 §3.1)."""
    lignes = await session.scalars(select(EtablissementConnu.finess).where(
        EtablissementConnu.finess.in_(participants), EtablissementConnu.secteur == "public",
        EtablissementConnu.ght_code.is_not(None)))
    return sorted(lignes)


async def deposer(session: AsyncSession, principal: Principal, projet_id: str, programme: ProgrammeAap,
                  aujourd_hui: date, calendrier_ouvert: bool, maintenant: datetime, *,
                  source_pieces: SourcePieces | None = None,
                  programme_pieces: ProgrammePieces | None = None) -> ProjetAap:
    projet = await charger_pour(session, principal, projet_id, verrou=True)
    # Only the lead deposits; a participant sees the project but does not act on it.
    exiger_portee_etablissement(principal, projet.finess)
    if projet.statut != "brouillon":
        raise DEJA_DEPOSEE.erreur(f"projet déjà déposé : le projet {projet.id} est {projet.statut}")
    _verifier_fenetre_depot(programme, aujourd_hui, calendrier_ouvert)
    # Two projects deposited at once must not both take a FINESS PMSI's last place: one transaction
    # at a time per participant (sorted: no deadlock), then count.
    for p in sorted(projet.participants):
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                              {"k": f"aap-participation:{p}"})
    lead = await _verifier(session, programme, finess=projet.finess, theme=projet.theme,
                           participants=projet.participants, perimetre=projet.perimetre,
                           sans_versement_usage=projet.sans_versement_usage, projet_id=projet.id)
    publics_ght = await participants_publics_ght(session, projet.participants)
    deposees = None if source_pieces is None else await source_pieces(session, "projet", projet.id)
    refus = regles_exigences.refus_du_depot(
        regles_exigences.dossier_projet(lettres_partenaires=bool(projet.lettres_partenaires),
                                        participants_publics_ght=publics_ght),
        programme_pieces or charger_programme_pieces(), deposees=deposees, criteres=None,
        avec_criteres=False, depot_le=aujourd_hui)
    if refus is not None:
        raise refus
    depenses = await depenses_de(session, projet.id)
    projet.statut = "depose"
    projet.deposee_par = principal.subject
    projet.deposee_le = maintenant
    evenement = nouvel_evenement(
        ProjetAapDepose(
            projet_id=projet.id, finess=projet.finess, raison_sociale=lead.raison_sociale,
            region=projet.region, theme=projet.theme, titre=projet.titre, description=projet.description,
            objectifs=projet.objectifs,
            participants=projet.participants, perimetre=projet.perimetre,
            equipe=[MembreEquipeAap.model_validate(m) for m in projet.equipe],
            depenses_prevues=[DepensePrevueAap(annee=a, montant=m) for a, m in depenses.items()],
            lettres_partenaires=[LettrePartenaire.model_validate(lettre)
                                 for lettre in projet.lettres_partenaires],
            sans_versement_usage=projet.sans_versement_usage, deposee_par=principal.subject,
            deposee_le=maintenant, participants_publics_ght=publics_ght),
        source=SOURCE, subject=f"projet/{projet.id}")
    await publier(session, Topics.CANDIDATURE, projet.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="deposer",
                             objet_type="projet_aap", objet_id=projet.id, region=projet.region,
                             details={"event_id": evenement.id}))
    await session.flush()
    return projet


async def ajouter_lettre(session: AsyncSession, principal: Principal, projet_id: str,
                         demande: LettrePartenaireDemande) -> ProjetAap:
    """Joins a partner letter to a draft: an AAP.LETTRE piece uploaded on the project (its file name
    and hash are the server's); the deposit then carries it in ProjetAapDepose."""
    projet = await charger_pour(session, principal, projet_id, verrou=True)
    exiger_portee_etablissement(principal, projet.finess)
    if projet.statut != "brouillon":
        raise DEJA_DEPOSEE.erreur(f"projet déjà déposé : le projet {projet.id} est {projet.statut}",
                                  champ="statut")
    piece = await session.scalar(select(Piece).where(
        Piece.id == demande.piece_id, Piece.dossier_type == "projet", Piece.dossier_id == projet.id))
    rules.verifier_lettre(None if piece is None else piece.type, demande.piece_id,
                          [str(lettre.get("piece_id")) for lettre in projet.lettres_partenaires])
    assert piece is not None  # checked by verifier_lettre
    lettre = LettrePartenaire(partenaire=demande.partenaire, nom=piece.nom, sha256=piece.sha256,
                              piece_id=piece.id)
    projet.lettres_partenaires = [*projet.lettres_partenaires, lettre.model_dump()]
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="joindre_lettre",
                             objet_type="projet_aap", objet_id=projet.id, region=projet.region,
                             details={"partenaire": demande.partenaire, "piece_id": piece.id,
                                      "sha256": piece.sha256}))
    await session.flush()
    return projet

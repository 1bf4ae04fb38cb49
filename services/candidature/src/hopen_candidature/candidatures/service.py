"""Use cases of candidatures: check the rules, write state + event + audit in one transaction."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.candidatures import rules
from hopen_candidature.candidatures.schemas import (
    CandidatureCreation,
    CriteresGhtDemande,
    DesistementDemande,
    IndicateurDepot,
)
from hopen_candidature.exigences import rules as regles_exigences
from hopen_candidature.exigences.repository import SourcePieces
from hopen_candidature.models import (
    STATUTS_OUVERTS,
    Candidature,
    CandidatureEj,
    EtablissementConnu,
    IndicateurDeclare,
)
from hopen_common.auth import Principal, Role
from hopen_common.auth.portee import exiger_acces, exiger_portee_etablissement, restreindre
from hopen_common.contracts import (
    CandidatureDeposee,
    CandidatureDesistee,
    CriteresGht,
    DesistementEnregistre,
    DesistementRefuse,
    IndicateurDepose,
    PerimetreEj,
    Topics,
)
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.inbox import EvenementRefuse
from hopen_common.outbox import publier
from hopen_common.problemes import (
    CANDIDATURE_NON_DEPOSEE,
    DEJA_CANDIDAT,
    DEJA_DEPOSEE,
    DESISTEMENT_IMPOSSIBLE,
    DISPOSITIF_DIFFERENT,
    EJ_DEJA_COUVERTE,
    ProblemError,
    introuvable,
)
from hopen_common.programme.criteres_ght import criteres_de, verifier_saisie
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import ProgrammeHospiconnect
from hopen_common.programme.perimetre import ej_couvertes, ej_visee
from hopen_common.programme.phase1 import ProgrammePhase1
from hopen_common.programme.pieces import ProgrammePieces, charger_programme_pieces

SOURCE = "/hopen/candidature"
log = logging.getLogger(__name__)


def _fenetre_candidature(programme: ProgrammePhase1) -> rules.Fenetre:
    cal = programme.calendrier
    return rules.Fenetre(cal.candidature_debut, cal.candidature_fin)


def _fenetre_mesure(programme: ProgrammePhase1) -> rules.Fenetre:
    cal = programme.calendrier
    return rules.Fenetre(cal.candidature_debut, cal.fin_mesure_indicateurs)


def _fenetre_hospiconnect(programme: ProgrammeHospiconnect) -> rules.Fenetre:
    return rules.Fenetre(None, programme.calendrier.fin_candidatures)


def _vu(etab: EtablissementConnu) -> rules.EtablissementVu:
    return rules.EtablissementVu(etab.finess, etab.eligible_phase1, etab.maille_phase1, etab.ferme,
                                 etab.ght_code, etab.ght_role, etab.eligible_hospiconnect,
                                 etab.maille_hospiconnect)


async def creer_candidature(
    session: AsyncSession, principal: Principal, demande: CandidatureCreation,
    programme: ProgrammePhase1, aujourd_hui: date, calendrier_ouvert: bool, maintenant: datetime,
    programme_hc: ProgrammeHospiconnect | None = None,
) -> Candidature:
    exiger_portee_etablissement(principal, demande.finess)
    rules.verifier_dispositif(demande.dispositif)
    if demande.dispositif == "hospiconnect":
        assert programme_hc is not None
        return await _creer_hospiconnect(session, principal, demande, programme_hc, aujourd_hui,
                                         calendrier_ouvert, maintenant)
    rules.verifier_fenetre(_fenetre_candidature(programme), aujourd_hui, ouvert=calendrier_ouvert,
                           quoi="la candidature à la phase 1 est")
    objectifs = demande.objectifs or []
    rules.verifier_objectifs(objectifs, set(programme.objectifs))
    etab = await session.get(EtablissementConnu, demande.finess)
    if etab is None:
        raise rules.finess_inconnu(demande.finess, "finess")
    vu = _vu(etab)
    rules.verifier_eligibilite_et_maille(vu)
    membres = await _membres_du_ght(session, etab.ght_code)
    perimetre = rules.perimetre_ght(
        vu, membres,
        None if demande.perimetre is None else [(m.finess_ej, m.objectifs) for m in demande.perimetre],
        objectifs,
    )
    criteres = None
    if demande.criteres_ght is not None:
        criteres = _criteres_saisis(demande.criteres_ght, ght=perimetre is not None, aujourd_hui=aujourd_hui)
    candidature = Candidature(
        id=str(uuid.uuid4()), dispositif=demande.dispositif, finess=etab.finess, region=etab.region,
        statut="brouillon", objectifs=list(objectifs), cree_par=principal.subject,
        cree_le=maintenant,
        perimetre=None if perimetre is None else [_membre_stocke(m) for m in perimetre],
        criteres_ght=criteres,
    )
    await _enregistrer(session, candidature, demande=None if demande.perimetre is None else [
        m.finess_ej for m in demande.perimetre])
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="creer",
                             objet_type="candidature", objet_id=candidature.id, region=candidature.region,
                             details={"objectifs": objectifs}))
    await session.flush()
    return candidature


async def _creer_hospiconnect(
    session: AsyncSession, principal: Principal, demande: CandidatureCreation,
    programme: ProgrammeHospiconnect, aujourd_hui: date, calendrier_ouvert: bool, maintenant: datetime,
) -> Candidature:
    """HospiConnect (domain.md 4): one candidature per applicant for the whole dispositif; a GHT
    support applies for every EJ of its GHT (the perimeter)."""
    rules.verifier_fenetre(_fenetre_hospiconnect(programme), aujourd_hui, ouvert=calendrier_ouvert,
                           quoi="la candidature à HospiConnect est")
    objectifs = rules.objectifs_hospiconnect(demande.objectifs, list(programme.objectifs))
    if demande.criteres_ght is not None:
        raise RegleMetierError("les critères GHT de l'annexe 4 sont ceux de la phase 1, pas d'HospiConnect",
                               "criteres_ght")
    if demande.perimetre is not None:
        raise RegleMetierError("HospiConnect : le support d'un GHT candidate pour toutes les entités"
                               " juridiques éligibles du GHT, le périmètre n'est pas à donner", "perimetre")
    etab = await session.get(EtablissementConnu, demande.finess)
    if etab is None:
        raise rules.finess_inconnu(demande.finess, "finess")
    vu = _vu(etab)
    rules.verifier_eligibilite_et_maille_hospiconnect(vu)
    portees = await session.scalars(select(EtablissementConnu).where(
        EtablissementConnu.maille_hospiconnect == etab.finess, EtablissementConnu.niveau == "EJ"))
    perimetre = rules.perimetre_hospiconnect(vu, [
        rules.EjHospiconnect(e.finess, e.raison_sociale, e.eligible_hospiconnect, e.ferme,
                             e.activite_combinee_2024) for e in portees])
    candidature = Candidature(
        id=str(uuid.uuid4()), dispositif="hospiconnect", finess=etab.finess, region=etab.region,
        statut="brouillon", objectifs=objectifs, cree_par=principal.subject, cree_le=maintenant,
        perimetre=None if perimetre is None else [
            PerimetreEj(finess_ej=m.finess_ej, raison_sociale=m.raison_sociale,
                        activite_combinee=m.activite_combinee_2024, objectifs=objectifs,
                        ).model_dump(mode="json") for m in perimetre],
    )
    await _enregistrer(session, candidature, demande=None)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="creer",
                             objet_type="candidature", objet_id=candidature.id, region=candidature.region,
                             details={"dispositif": "hospiconnect", "perimetre": [
                                 m["finess_ej"] for m in candidature.perimetre or []]}))
    await session.flush()
    return candidature


def _criteres_saisis(demande: CriteresGhtDemande, *, ght: bool, aujourd_hui: date) -> dict[str, object]:
    """The criteria block to store: only a phase-1 GHT support gives one, checked for what is wrong
    now (a draft may still be incomplete: the deposit checks the rest)."""
    if not ght:
        raise RegleMetierError("les critères GHT (annexe 4) sont ceux de l'établissement support d'un GHT",
                               "criteres_ght")
    stocke = demande.model_dump(mode="json")
    criteres = criteres_de(stocke)
    assert criteres is not None
    verifier_saisie(criteres, aujourd_hui=aujourd_hui)
    return stocke


async def definir_criteres_ght(session: AsyncSession, principal: Principal, candidature_id: str,
                               demande: CriteresGhtDemande, *, aujourd_hui: date) -> Candidature:
    """Replaces the whole criteria block of a draft phase-1 GHT candidature (PUT semantics)."""
    candidature = await charger_pour(session, principal, candidature_id, verrou=True)
    exiger_portee_etablissement(principal, candidature.finess)
    if candidature.statut != "brouillon":
        raise DEJA_DEPOSEE.erreur(f"la candidature {candidature.id} est {candidature.statut} : les critères"
                                  " GHT se modifient tant qu'elle est en brouillon")
    ght = regles_exigences.ght_phase1(candidature.dispositif, candidature.perimetre)
    candidature.criteres_ght = _criteres_saisis(demande, ght=ght, aujourd_hui=aujourd_hui)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="criteres_ght",
                             objet_type="candidature", objet_id=candidature.id, region=candidature.region,
                             details={"criteres_ght": candidature.criteres_ght}))
    await session.flush()
    return candidature


def _deja_candidat(deja: Candidature) -> ProblemError:
    return DEJA_CANDIDAT.erreur(f"{deja.finess} a déjà une candidature {deja.dispositif} ouverte :"
                                f" candidature {deja.id} ({deja.statut}) ; une nouvelle candidature n'est"
                                " possible que si elle est refusée ou après désistement", champ="finess",
                                extra={"candidature_id": deja.id})


async def _verifier_libre(session: AsyncSession, candidature: Candidature, ej: Sequence[str],
                          demande: Sequence[str] | None) -> None:
    """The readable refusals of issue 7: the applicant has an open candidature of this dispositif, or
    an EJ it would count is already counted by an open one. The partial unique indexes enforce the
    same; this names what blocks."""
    deja = await session.scalar(select(Candidature).where(
        Candidature.finess == candidature.finess, Candidature.dispositif == candidature.dispositif,
        Candidature.statut.in_(STATUTS_OUVERTS)))
    if deja is not None:
        raise _deja_candidat(deja)
    couverte = await session.scalar(select(CandidatureEj).where(
        CandidatureEj.dispositif == candidature.dispositif, CandidatureEj.finess_ej.in_(ej),
        CandidatureEj.statut.in_(STATUTS_OUVERTS)).order_by(CandidatureEj.finess_ej).limit(1))
    if couverte is not None:
        couvrante = await session.get(Candidature, couverte.candidature_id)
        if couvrante is not None and couvrante.finess == candidature.finess:
            # The applicant's own candidature, committed between the two statements above.
            raise _deja_candidat(couvrante)
        raise EJ_DEJA_COUVERTE.erreur(f"l'entité juridique {couverte.finess_ej} est déjà couverte par la"
                                      f" candidature {couverte.candidature_id} ({couverte.statut}) : une EJ"
                                      " n'est comptée qu'une fois par dispositif",
                                      champ=rules.champ_de_l_ej(couverte.finess_ej, demande),
                                      extra={"candidature_id": couverte.candidature_id,
                                             "finess_ej": couverte.finess_ej})


async def _enregistrer(session: AsyncSession, candidature: Candidature, *,
                       demande: Sequence[str] | None) -> None:
    """Insert a new candidature and the EJ it counts, unless an open one holds its applicant or an
    EJ. `demande`: the perimeter's FINESS as the applicant listed them (to name the field)."""
    # Sorted: concurrent inserts of overlapping sets take the index's locks in one order (no deadlock).
    ej = sorted(set(ej_couvertes(candidature.perimetre, candidature.finess)))
    await _verifier_libre(session, candidature, ej, demande)
    try:
        # A savepoint: a concurrent request that committed first makes the indexes refuse this
        # insert; the transaction stays usable to find and name what it created.
        async with session.begin_nested():
            session.add(candidature)
            await session.flush()
            await session.execute(insert(CandidatureEj).values([
                {"candidature_id": candidature.id, "finess_ej": f, "dispositif": candidature.dispositif,
                 "statut": candidature.statut} for f in ej]))
    except IntegrityError:
        # PostgreSQL raises a unique violation only once the other transaction committed: a new
        # statement sees its rows.
        await _verifier_libre(session, candidature, ej, demande)
        raise DEJA_CANDIDAT.erreur("une candidature concurrente couvrant ce candidat ou ses entités"
                                   " juridiques vient d'être enregistrée ; réessayez",
                                   champ="finess") from None


async def changer_statut(session: AsyncSession, candidature: Candidature, statut: str) -> None:
    """The one place a candidature's status changes: its EJ rows follow in the same transaction, so
    the partial index frees them exactly when the candidature closes (refused, withdrawn)."""
    candidature.statut = statut
    await session.execute(update(CandidatureEj).where(CandidatureEj.candidature_id == candidature.id)
                          .values(statut=statut))
    await session.flush()


async def desister(session: AsyncSession, principal: Principal, candidature_id: str,
                   demande: DesistementDemande, maintenant: datetime) -> Candidature:
    """The applicant withdraws a draft (closed at once: instruction never saw it) or a deposited
    candidature: that one becomes `desistement_demande`, still holding its applicant and EJ, and tells
    instruction (CandidatureDesistee), whose answer closes it or leaves the ARS decision (ADR 0010)."""
    candidature = await charger_pour(session, principal, candidature_id, verrou=True)
    exiger_portee_etablissement(principal, candidature.finess)
    if candidature.statut == "desistement_demande":
        raise DESISTEMENT_IMPOSSIBLE.erreur(f"le désistement de la candidature {candidature.id} est déjà"
                                            " demandé : l'instruction n'a pas encore répondu",
                                            champ="statut")
    if candidature.statut not in rules.STATUTS_DESISTABLES:
        raise DESISTEMENT_IMPOSSIBLE.erreur(f"la candidature {candidature.id} est {candidature.statut} : on"
                                            " se désiste d'une candidature en brouillon ou déposée",
                                            champ="statut")
    precedent = candidature.statut
    details: dict[str, object] = {"statut_precedent": precedent}
    if precedent == "brouillon":
        await changer_statut(session, candidature, "desistee")
    else:
        # Not freed yet: the ARS may have validated it before instruction reads the withdrawal, and
        # a new candidature taking the slot meanwhile could then never be paid (issue 7).
        await changer_statut(session, candidature, "desistement_demande")
        evenement = nouvel_evenement(
            CandidatureDesistee(
                candidature_id=candidature.id, dispositif=candidature.dispositif, finess=candidature.finess,
                region=candidature.region, motivation=demande.motivation, desistee_le=maintenant,
                desistee_par=principal.subject),
            source=SOURCE, subject=f"candidature/{candidature.id}")
        await publier(session, Topics.CANDIDATURE, candidature.id, evenement)
        details["event_id"] = evenement.id
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="desister",
                             objet_type="candidature", objet_id=candidature.id, region=candidature.region,
                             motivation=demande.motivation, details=details))
    await session.flush()
    return candidature


# Park motive (EvenementRefuse.motif) of a decision on a candidature withdrawn before the two-phase
# withdrawal, whose slot a new candidature took meanwhile.
DESISTEMENT_CROISE = "desistement-croise"


async def appliquer_decision(session: AsyncSession, candidature_id: str, statut: str, *,
                             decide_par: str, decision_id: str) -> None:
    """The ARS decision (CandidatureValidee | CandidatureRefusee) becomes the candidature's status.
    The decision wins over a withdrawal it crossed (instruction decided before it learnt of it, and
    money may follow): a `desistement_demande` one held its applicant and EJ, so this cannot
    conflict. A `desistee` one from before the two-phase withdrawal may have lost them to a new
    candidature: that decision is refused (parked `desistement-croise`) naming both."""
    candidature = await session.get(Candidature, candidature_id, with_for_update=True)
    if candidature is None:
        # Instruction decides only on candidatures deposited here: nothing to follow (a dossier
        # restored elsewhere, a test); the event's other effects still apply.
        log.warning("décision %s sur une candidature inconnue %s : statut non suivi", decision_id,
                    candidature_id)
        return
    if candidature.statut == statut:
        return
    precedent = candidature.statut
    try:
        # A savepoint: the refusal must name the holder, which needs a usable transaction.
        async with session.begin_nested():
            await changer_statut(session, candidature, statut)
    except IntegrityError:
        raise await _desistement_croise(session, candidature, decision_id=decision_id,
                                        statut=statut) from None
    session.add(JournalAudit(acteur=decide_par, role=Role.ARS, action=f"candidature_{statut}",
                             objet_type="candidature", objet_id=candidature.id, region=candidature.region,
                             details={"decision_id": decision_id, "statut_precedent": precedent}))
    await session.flush()


async def _desistement_croise(session: AsyncSession, candidature: Candidature, *, decision_id: str,
                              statut: str) -> EvenementRefuse:
    """What an operator reads for a decision that would reopen a withdrawn candidature whose applicant
    or EJ a newer open candidature holds."""
    await session.refresh(candidature)  # the savepoint rolled the in-memory status change back
    ej = sorted(set(ej_couvertes(candidature.perimetre, candidature.finess)))
    tenante = await session.scalar(select(Candidature).where(
        Candidature.finess == candidature.finess, Candidature.dispositif == candidature.dispositif,
        Candidature.statut.in_(STATUTS_OUVERTS), Candidature.id != candidature.id))
    quoi = f"le candidat {candidature.finess}"
    if tenante is None:
        couverte = await session.scalar(select(CandidatureEj).where(
            CandidatureEj.dispositif == candidature.dispositif, CandidatureEj.finess_ej.in_(ej),
            CandidatureEj.statut.in_(STATUTS_OUVERTS), CandidatureEj.candidature_id != candidature.id)
            .order_by(CandidatureEj.finess_ej).limit(1))
        if couverte is not None:
            tenante = await session.get(Candidature, couverte.candidature_id)
            quoi = f"l'entité juridique {couverte.finess_ej}"
    nom = "une autre candidature" if tenante is None else f"la candidature {tenante.id} ({tenante.statut})"
    return EvenementRefuse(
        DESISTEMENT_CROISE,
        f"décision {decision_id} ({statut}) sur la candidature {candidature.id}, désistée ici"
        " (désistement immédiat, d'avant le désistement en deux temps) avant que l'instruction ne"
        f" l'apprenne ; {nom} tient désormais {quoi} : convenir avec l'ARS et l'établissement de la"
        " candidature retenue ; pour retenir"
        f" {candidature.id}, clore l'autre (désistement ou refus) puis rejouer la clé {candidature.id}"
        f" (POST /v1/operations/cles/{candidature.id}/rejeu) ; sinon l'ARS corrige sa décision et la"
        " lettre est abandonnée")


async def suivre_desistement_enregistre(session: AsyncSession, e: DesistementEnregistre) -> None:
    """Instruction withdrew the dossier before any decision: the candidature closes and frees its
    applicant and EJ."""
    candidature = await session.get(Candidature, e.candidature_id, with_for_update=True)
    if candidature is None:
        log.warning("désistement enregistré pour une candidature inconnue %s : rien à suivre",
                    e.candidature_id)
        return
    if candidature.statut == "desistee":
        return  # a withdrawal from before the two-phase one: already closed here
    if candidature.statut != "desistement_demande":
        # Instruction records a withdrawal only before any decision, and only of a deposited
        # candidature this service asked about: anything else is a bug for an operator to see.
        raise EvenementRefuse("desistement-incoherent",
                              f"désistement enregistré par l'instruction pour la candidature"
                              f" {candidature.id}, qui est {candidature.statut} ici (attendu :"
                              " desistement_demande)")
    await changer_statut(session, candidature, "desistee")
    session.add(JournalAudit(acteur="instruction", role="systeme", action="desistement_enregistre",
                             objet_type="candidature", objet_id=candidature.id, region=candidature.region,
                             details={"desistement_event_id": e.desistement_event_id,
                                      "statut_precedent": "desistement_demande"}))
    await session.flush()


async def suivre_desistement_refuse(session: AsyncSession, e: DesistementRefuse) -> None:
    """The ARS had decided before instruction read the withdrawal: the decision stands. Its event
    precedes this one on the same key, so the status is normally the decision's already."""
    candidature = await session.get(Candidature, e.candidature_id, with_for_update=True)
    if candidature is None:
        log.warning("désistement refusé pour une candidature inconnue %s : rien à suivre", e.candidature_id)
        return
    precedent = candidature.statut
    if precedent == "desistement_demande":
        # The slot stayed held: the decision's status cannot conflict with a newer candidature.
        await changer_statut(session, candidature, e.statut)
    session.add(JournalAudit(
        acteur="instruction", role="systeme", action="desistement_refuse", objet_type="candidature",
        objet_id=candidature.id, region=candidature.region,
        motivation="désistement refusé : l'ARS avait déjà décidé de la candidature",
        details={"desistement_event_id": e.desistement_event_id, "decision_id": e.decision_id,
                 "statut": e.statut, "statut_precedent": precedent}))
    await session.flush()


async def _membres_du_ght(session: AsyncSession, ght_code: str | None) -> list[rules.MembreGht]:
    if ght_code is None:
        return []
    rows = await session.scalars(select(EtablissementConnu).where(
        EtablissementConnu.ght_code == ght_code, EtablissementConnu.niveau == "EJ"))
    return [rules.MembreGht(e.finess, e.raison_sociale, e.eligible_phase1, e.ferme, e.activite_combinee,
                            tuple(e.domaines_sun_es)) for e in rows]


def _membre_stocke(retenu: rules.MembreRetenu) -> dict[str, object]:
    m = retenu.membre
    return PerimetreEj(finess_ej=m.finess_ej, raison_sociale=m.raison_sociale,
                       activite_combinee=m.activite_combinee, objectifs=list(retenu.objectifs),
                       domaines_sun_es=list(m.domaines_sun_es)).model_dump(mode="json")


async def lister(session: AsyncSession, principal: Principal, limit: int, offset: int
                 ) -> tuple[list[Candidature], int]:
    query = restreindre(select(Candidature), principal, region=Candidature.region,
                        finess=Candidature.finess.in_)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Candidature.cree_le, Candidature.id)
                                 .limit(limit).offset(offset))
    return list(rows), total


async def charger_pour(session: AsyncSession, principal: Principal, candidature_id: str,
                       *, verrou: bool = False) -> Candidature:
    query = select(Candidature).where(Candidature.id == candidature_id)
    if verrou:
        query = query.with_for_update()
    candidature = await session.scalar(query)
    if candidature is None:
        raise introuvable("candidature", candidature_id)
    # Another establishment's or region's file answers 404, like a missing one: no existence leak.
    exiger_acces(principal, region=candidature.region, finess=candidature.finess, ressource="candidature",
                 identifiant=candidature_id)
    return candidature


async def deposer(
    session: AsyncSession, principal: Principal, candidature_id: str, programme: ProgrammePhase1,
    aujourd_hui: date, calendrier_ouvert: bool, maintenant: datetime,
    programme_hc: ProgrammeHospiconnect | None = None, *,
    source_pieces: SourcePieces | None = None, programme_pieces: ProgrammePieces | None = None,
) -> Candidature:
    candidature = await charger_pour(session, principal, candidature_id, verrou=True)
    exiger_portee_etablissement(principal, candidature.finess)
    if candidature.statut != "brouillon":
        raise DEJA_DEPOSEE.erreur(f"la candidature {candidature.id} est {candidature.statut}")
    if candidature.dispositif == "hospiconnect":
        assert programme_hc is not None
        rules.verifier_fenetre(_fenetre_hospiconnect(programme_hc), aujourd_hui, ouvert=calendrier_ouvert,
                               quoi="le dépôt de candidature à HospiConnect est")
    else:
        rules.verifier_fenetre(_fenetre_candidature(programme), aujourd_hui, ouvert=calendrier_ouvert,
                               quoi="le dépôt de candidature à la phase 1 est")
    ght = regles_exigences.ght_phase1(candidature.dispositif, candidature.perimetre)
    criteres = criteres_de(candidature.criteres_ght)
    # Read under the candidature's row lock: every deposit check of this dossier is serialised.
    deposees = None if source_pieces is None else await source_pieces(session, "candidature", candidature.id)
    refus = regles_exigences.refus_du_depot(
        regles_exigences.dossier_candidature(candidature.dispositif, candidature.perimetre, criteres),
        programme_pieces or charger_programme_pieces(), deposees=deposees, criteres=criteres,
        avec_criteres=ght, depot_le=aujourd_hui)
    if refus is not None:
        raise refus
    etab = await session.get(EtablissementConnu, candidature.finess)
    assert etab is not None  # checked at creation; the local copy is never deleted
    await changer_statut(session, candidature, "deposee")
    candidature.deposee_par = principal.subject
    candidature.deposee_le = maintenant
    evenement = nouvel_evenement(
        CandidatureDeposee(
            candidature_id=candidature.id, dispositif=candidature.dispositif,
            finess=candidature.finess, raison_sociale=etab.raison_sociale,
            region=candidature.region, objectifs=candidature.objectifs,
            domaines_sun_es=list(etab.domaines_sun_es), deposee_le=maintenant,
            deposee_par=principal.subject,
            perimetre=None if candidature.perimetre is None else [
                PerimetreEj.model_validate(m) for m in candidature.perimetre],
            criteres_ght=CriteresGht.model_validate(candidature.criteres_ght) if ght else None,
        ),
        source=SOURCE, subject=f"candidature/{candidature.id}",
    )
    await publier(session, Topics.CANDIDATURE, candidature.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="deposer",
                             objet_type="candidature", objet_id=candidature.id, region=candidature.region,
                             details={"event_id": evenement.id}))
    await session.flush()
    return candidature


async def deposer_indicateur(
    session: AsyncSession, principal: Principal, candidature_id: str, depot: IndicateurDepot,
    programme: ProgrammePhase1, aujourd_hui: date, calendrier_ouvert: bool, maintenant: datetime,
) -> IndicateurDeclare:
    candidature = await charger_pour(session, principal, candidature_id)
    exiger_portee_etablissement(principal, candidature.finess)
    if candidature.dispositif != "phase1":
        raise DISPOSITIF_DIFFERENT.erreur(f"indicateurs de la phase 1 seulement : candidature"
                                          f" {candidature.dispositif}, ses preuves se déposent sur"
                                          f" /v1/candidatures/{candidature.id}/preuves")
    if candidature.statut not in rules.STATUTS_DE_PREUVE:
        raise CANDIDATURE_NON_DEPOSEE.erreur("les indicateurs se déposent sur une candidature déposée ou"
                                             f" validée ; celle-ci est {candidature.statut}")
    rules.verifier_fenetre(_fenetre_mesure(programme), aujourd_hui, ouvert=calendrier_ouvert,
                           quoi="le dépôt d'indicateurs de la phase 1 est")
    objectif = programme.objectifs.get(depot.objectif)
    if objectif is None:
        raise RegleMetierError(f"objectif inconnu : {depot.objectif}", "objectif")
    indicateur = rules.indicateur_vise(depot.objectif, depot.indicateur,
                                       [i.id for i in objectif.indicateurs], candidature.objectifs)
    finess_ej = ej_visee(depot.finess_ej, candidature.perimetre, candidature.finess,
                         objectif=depot.objectif)
    rules.verifier_mesure(depot.numerateur, depot.denominateur)
    declare = IndicateurDeclare(
        candidature_id=candidature.id, finess_ej=finess_ej, objectif=depot.objectif, indicateur=indicateur,
        numerateur=depot.numerateur, denominateur=depot.denominateur,
        depose_par=principal.subject, depose_le=maintenant,
    )
    session.add(declare)
    evenement = nouvel_evenement(
        IndicateurDepose(
            candidature_id=candidature.id, finess=candidature.finess, region=candidature.region,
            objectif=depot.objectif, indicateur=indicateur, numerateur=depot.numerateur,
            denominateur=depot.denominateur, depose_le=maintenant, depose_par=principal.subject,
            finess_ej=finess_ej if candidature.perimetre is not None else None,
        ),
        source=SOURCE, subject=f"candidature/{candidature.id}",
    )
    await publier(session, Topics.CANDIDATURE, candidature.id, evenement)
    await session.flush()
    return declare

"""Use cases of candidatures: check the rules, write state + event + audit in one transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.candidatures import rules
from hopen_candidature.candidatures.schemas import CandidatureCreation, IndicateurDepot
from hopen_candidature.models import Candidature, EtablissementConnu, IndicateurDeclare
from hopen_common.auth import Principal, Role
from hopen_common.contracts import CandidatureDeposee, IndicateurDepose, PerimetreEj, Topics
from hopen_common.db.messaging import JournalAudit
from hopen_common.errors import ProblemError, introuvable
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import ProgrammeHospiconnect
from hopen_common.programme.perimetre import membre_vise
from hopen_common.programme.phase1 import ProgrammePhase1

SOURCE = "/hopen/candidature"


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


def verifier_portee(principal: Principal, finess: str) -> None:
    if principal.role is not Role.ETABLISSEMENT or not principal.voit_finess(finess):
        raise ProblemError(403, "hors-perimetre", "Hors de votre périmètre",
                           f"votre jeton ne couvre pas le FINESS {finess}", champ="finess")


async def creer_candidature(
    session: AsyncSession, principal: Principal, demande: CandidatureCreation,
    programme: ProgrammePhase1, aujourd_hui: date, calendrier_ouvert: bool, maintenant: datetime,
    programme_hc: ProgrammeHospiconnect | None = None,
) -> Candidature:
    verifier_portee(principal, demande.finess)
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
    candidature = Candidature(
        id=str(uuid.uuid4()), dispositif=demande.dispositif, finess=etab.finess, region=etab.region,
        statut="brouillon", objectifs=list(objectifs), cree_par=principal.subject,
        cree_le=maintenant,
        perimetre=None if perimetre is None else [_membre_stocke(m) for m in perimetre],
    )
    session.add(candidature)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="creer",
                             objet_type="candidature", objet_id=candidature.id,
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
    if demande.perimetre is not None:
        raise RegleMetierError("HospiConnect : le support d'un GHT candidate pour toutes les entités"
                               " juridiques éligibles du GHT, le périmètre n'est pas à donner", "perimetre")
    etab = await session.get(EtablissementConnu, demande.finess)
    if etab is None:
        raise rules.finess_inconnu(demande.finess, "finess")
    vu = _vu(etab)
    rules.verifier_eligibilite_et_maille_hospiconnect(vu)
    # Serialises two concurrent first applications of the same FINESS (the unique index is the
    # final guard); the answer names the existing file.
    await session.execute(select(EtablissementConnu.finess).where(
        EtablissementConnu.finess == etab.finess).with_for_update())
    deja = await session.scalar(select(Candidature).where(
        Candidature.finess == etab.finess, Candidature.dispositif == "hospiconnect"))
    if deja is not None:
        raise ProblemError(409, "deja-candidat", "Candidature HospiConnect déjà créée",
                           f"{etab.finess} candidate une seule fois à HospiConnect (2026-2028) :"
                           f" candidature {deja.id} ({deja.statut})", champ="finess",
                           extra={"candidature_id": deja.id})
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
    session.add(candidature)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="creer",
                             objet_type="candidature", objet_id=candidature.id,
                             details={"dispositif": "hospiconnect", "perimetre": [
                                 m["finess_ej"] for m in candidature.perimetre or []]}))
    await session.flush()
    return candidature


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
    query = select(Candidature)
    if principal.role is Role.ETABLISSEMENT:
        query = query.where(Candidature.finess.in_(principal.finess))
    elif principal.role is Role.ARS:
        query = query.where(Candidature.region == principal.region)
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
    # Another establishment's file answers 404, like a missing one: no existence leak.
    if candidature is None or not (
        principal.voit_finess(candidature.finess) or principal.voit_region(candidature.region)
    ):
        raise introuvable("candidature", candidature_id)
    return candidature


async def deposer(
    session: AsyncSession, principal: Principal, candidature_id: str, programme: ProgrammePhase1,
    aujourd_hui: date, calendrier_ouvert: bool, maintenant: datetime,
    programme_hc: ProgrammeHospiconnect | None = None,
) -> Candidature:
    candidature = await charger_pour(session, principal, candidature_id, verrou=True)
    verifier_portee(principal, candidature.finess)
    if candidature.statut != "brouillon":
        raise ProblemError(409, "deja-deposee", "Candidature déjà déposée",
                           f"la candidature {candidature.id} est {candidature.statut}")
    if candidature.dispositif == "hospiconnect":
        assert programme_hc is not None
        rules.verifier_fenetre(_fenetre_hospiconnect(programme_hc), aujourd_hui, ouvert=calendrier_ouvert,
                               quoi="le dépôt de candidature à HospiConnect est")
    else:
        rules.verifier_fenetre(_fenetre_candidature(programme), aujourd_hui, ouvert=calendrier_ouvert,
                               quoi="le dépôt de candidature à la phase 1 est")
    etab = await session.get(EtablissementConnu, candidature.finess)
    assert etab is not None  # checked at creation; the local copy is never deleted
    candidature.statut = "deposee"
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
        ),
        source=SOURCE, subject=f"candidature/{candidature.id}",
    )
    await publier(session, Topics.CANDIDATURE, candidature.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="deposer",
                             objet_type="candidature", objet_id=candidature.id,
                             details={"event_id": evenement.id}))
    await session.flush()
    return candidature


async def deposer_indicateur(
    session: AsyncSession, principal: Principal, candidature_id: str, depot: IndicateurDepot,
    programme: ProgrammePhase1, aujourd_hui: date, calendrier_ouvert: bool, maintenant: datetime,
) -> IndicateurDeclare:
    candidature = await charger_pour(session, principal, candidature_id)
    verifier_portee(principal, candidature.finess)
    if candidature.dispositif != "phase1":
        raise ProblemError(409, "dispositif-different", "Indicateurs de la phase 1 seulement",
                           f"candidature {candidature.dispositif} : ses preuves se déposent sur"
                           f" /v1/candidatures/{candidature.id}/preuves")
    if candidature.statut != "deposee":
        raise ProblemError(409, "candidature-non-deposee", "Candidature non déposée",
                           "les indicateurs se déposent sur une candidature déposée")
    rules.verifier_fenetre(_fenetre_mesure(programme), aujourd_hui, ouvert=calendrier_ouvert,
                           quoi="le dépôt d'indicateurs de la phase 1 est")
    objectif = programme.objectifs.get(depot.objectif)
    if objectif is None:
        raise RegleMetierError(f"objectif inconnu : {depot.objectif}", "objectif")
    indicateur = rules.indicateur_vise(depot.objectif, depot.indicateur,
                                       [i.id for i in objectif.indicateurs], candidature.objectifs)
    finess_ej = membre_vise(depot.finess_ej, depot.objectif, candidature.perimetre, candidature.finess)
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

"""HospiConnect yearly decisions of the ARS, per EJ (GHU) and year: immutable rows, a correction names
the decision it replaces; state + HospiconnectAnneeDecidee + audit in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal
from hopen_common.contracts import HospiconnectAnneeDecidee, Topics
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.problemes import CANDIDATURE_NON_VALIDEE, DISPOSITIF_DIFFERENT
from hopen_common.programme.hospiconnect import ProgrammeHospiconnect
from hopen_common.programme.perimetre import ej_couvertes, ej_visee
from hopen_instruction.dossiers.service import SOURCE, charger, personnes, verifier_instructeur
from hopen_instruction.hospiconnect import rules
from hopen_instruction.hospiconnect.schemas import DecisionAnnuelleDemande
from hopen_instruction.models import Decision, Dossier, EtablissementConnu, PreuveHospiconnectRecue
from hopen_instruction.remplacement import rules as remplacement


def verifier_hospiconnect(dossier: Dossier) -> None:
    if dossier.dispositif != "hospiconnect":
        raise DISPOSITIF_DIFFERENT.erreur(f"dossier HospiConnect attendu : le dossier {dossier.id} relève du"
                                          f" dispositif {dossier.dispositif}")


async def preuves_de(session: AsyncSession, dossier_id: str, annee: int | None = None
                     ) -> list[PreuveHospiconnectRecue]:
    query = select(PreuveHospiconnectRecue).where(PreuveHospiconnectRecue.dossier_id == dossier_id)
    if annee is not None:
        query = query.where(PreuveHospiconnectRecue.annee == annee)
    return list(await session.scalars(query.order_by(PreuveHospiconnectRecue.depose_le,
                                                     PreuveHospiconnectRecue.id)))


async def evaluer(session: AsyncSession, dossier: Dossier, annee: int, programme: ProgrammeHospiconnect
                  ) -> dict[str, list[rules.EvaluationObjectifHc]]:
    """Per EJ of the file: each objective with a target that year and the evidence received."""
    par_ej: dict[str, list[rules.PreuveVue]] = {}
    for p in await preuves_de(session, dossier.id, annee):
        par_ej.setdefault(p.finess_ej, []).append(rules.PreuveVue(p.objectif, p.nature, p.document,
                                                                  p.numerateur, p.denominateur, p.depose_le))
    return {ej: rules.evaluer_annee(programme, annee, par_ej.get(ej, []))
            for ej in ej_couvertes(dossier.perimetre, dossier.finess)}


async def decisions_annee(session: AsyncSession, dossier_id: str, annee: int) -> list[Decision]:
    return list(await session.scalars(select(Decision).where(
        Decision.dossier_id == dossier_id, Decision.objet == rules.objet_annee(annee)
    ).order_by(Decision.decide_le, Decision.id)))


def courantes(decisions: list[Decision]) -> dict[str, Decision]:
    """The current decision of each EJ: the one no other decision replaces."""
    remplacees = {d.remplace for d in decisions if d.remplace}
    return {d.finess_ej or "": d for d in decisions if d.id not in remplacees}


async def decider_annee(
    session: AsyncSession, principal: Principal, dossier_id: str, annee: int,
    demande: DecisionAnnuelleDemande, programme: ProgrammeHospiconnect, jour: date, ouvert: bool,
    maintenant: datetime, *, proposee_par: str | None = None,
) -> tuple[Decision, list[rules.EvaluationObjectifHc]]:
    verifier_instructeur(principal)
    dossier = await charger(session, principal, dossier_id, verrou=True)
    verifier_hospiconnect(dossier)
    if dossier.statut != "validee":
        raise CANDIDATURE_NON_VALIDEE.erreur("l'atteinte des objectifs HospiConnect se décide sur une"
                                             " candidature validée")
    rules.verifier_fenetre_instruction(programme, annee, jour, ouvert)
    finess_ej = ej_visee(demande.finess_ej, dossier.perimetre, dossier.finess)
    evaluation = (await evaluer(session, dossier, annee, programme))[finess_ej]
    atteints = rules.verifier_objectifs_atteints(demande.objectifs_atteints, annee, programme, evaluation)
    courante = courantes(await decisions_annee(session, dossier.id, annee)).get(finess_ej)
    remplacement.verifier_remplace(None if courante is None else courante.id, demande.remplace,
                                  quoi=f"l'année {annee} de {finess_ej}")
    decision = Decision(
        id=str(uuid.uuid4()), dossier_id=dossier.id, objet=rules.objet_annee(annee), finess_ej=finess_ej,
        decision="annee_decidee", motivation=demande.motivation, decide_par=principal.subject,
        decide_le=maintenant, remplace=demande.remplace, **personnes(principal, proposee_par),
        elements={"annee": annee, "objectifs_atteints": atteints,
                  "objectifs_de_l_annee": list(programme.objectifs_de(annee)),
                  "programme_version": programme.version,
                  "preuves": [{"objectif": e.objectif, "documents": e.documents, "numerateur": e.numerateur,
                               "denominateur": e.denominateur,
                               "taux": None if e.taux is None else str(e.taux),
                               "cible_taux": None if e.cible_taux is None else str(e.cible_taux),
                               "cible_atteinte": e.cible_atteinte} for e in evaluation]},
    )
    session.add(decision)
    etab = await session.get(EtablissementConnu, finess_ej)
    evenement = nouvel_evenement(
        HospiconnectAnneeDecidee(
            decision_id=decision.id, candidature_id=dossier.id, finess=dossier.finess, finess_ej=finess_ej,
            region=dossier.region, annee=annee, objectifs_atteints=atteints, decide_par=principal.subject,
            decide_le=maintenant, motivation=demande.motivation, remplace=demande.remplace,
            **personnes(principal, proposee_par),
            effectifs=None if etab is None else etab.effectifs),
        source=SOURCE, subject=f"candidature/{dossier.id}")
    await publier(session, Topics.DOSSIER, dossier.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role,
                             action="hospiconnect_annee_decidee",
                             objet_type="hospiconnect_annee", objet_id=f"{dossier.id}/{finess_ej}/{annee}",
                             motivation=demande.motivation, region=dossier.region,
                             details={"decision_id": decision.id, "event_id": evenement.id,
                                      "objectifs_atteints": atteints, "remplace": demande.remplace}))
    await session.flush()
    return decision, evaluation

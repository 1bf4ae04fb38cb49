"""ARS instruction use cases: decisions are immutable, carry who/when/why, and publish an event."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal, Role
from hopen_common.auth.portee import exiger_region, restreindre
from hopen_common.contracts import (
    CandidatureRefusee,
    CandidatureValidee,
    ObjectifAtteint,
    ObjectifNonAtteint,
    PerimetreEj,
    Topics,
)
from hopen_common.contracts.etats import STATUTS_EN_ATTENTE_DE_DECISION_CANDIDATURE
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.problemes import (
    CANDIDATURE_DESISTEE,
    CANDIDATURE_NON_VALIDEE,
    DEJA_CANDIDAT,
    DISPOSITIF_DIFFERENT,
    ROLE_INTERDIT,
    introuvable,
)
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import ProgrammeHospiconnect
from hopen_common.programme.perimetre import ej_visee
from hopen_common.programme.phase1 import ProgrammePhase1
from hopen_instruction.dossiers.schemas import DecisionCandidatureDemande, DecisionObjectifDemande
from hopen_instruction.etats import rules as etats
from hopen_instruction.etats.repository import enregistrer_transition
from hopen_instruction.models import Decision, Dossier, IndicateurRecu
from hopen_instruction.objectifs.rules import EvaluationObjectif, Mesure, evaluer_objectif
from hopen_instruction.remplacement import rules as remplacement

SOURCE = "/hopen/instruction"


def filtre_affectation(colonne: Any, principal: Principal, affectation: str | None
                       ) -> ColumnElement[bool] | None:
    """`?affectation=`: `moi` (the caller's subject), `aucune` (unassigned), or an agent's subject."""
    if affectation is None:
        return None
    if affectation == "aucune":
        return colonne.is_(None)  # type: ignore[no-any-return]
    return colonne == (principal.subject if affectation == "moi" else affectation)  # type: ignore[no-any-return]


async def lister(session: AsyncSession, principal: Principal, limit: int, offset: int, *,
                 affectation: str | None = None, filtre: ColumnElement[bool] | None = None
                 ) -> tuple[list[Dossier], int]:
    query = restreindre(select(Dossier), principal, region=Dossier.region)
    if (par_agent := filtre_affectation(Dossier.affecte_a, principal, affectation)) is not None:
        query = query.where(par_agent)
    if filtre is not None:
        query = query.where(filtre)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Dossier.deposee_le, Dossier.id).limit(limit).offset(offset))
    return list(rows), total


async def charger(session: AsyncSession, principal: Principal, dossier_id: str,
                  *, verrou: bool = False) -> Dossier:
    query = select(Dossier).where(Dossier.id == dossier_id)
    if verrou:
        query = query.with_for_update()
    dossier = await session.scalar(query)
    if dossier is None:
        raise introuvable("dossier", dossier_id)
    # Another region's file answers 404 exactly like a missing one.
    exiger_region(principal, dossier.region, ressource="dossier", identifiant=dossier_id)
    return dossier


async def decisions_de(session: AsyncSession, dossier_id: str) -> list[Decision]:
    rows = await session.scalars(
        select(Decision).where(Decision.dossier_id == dossier_id).order_by(Decision.decide_le)
    )
    return list(rows)


def cibles(dossier: Dossier) -> list[tuple[str, str, set[str]]]:
    """(EJ measured, objective, SUN-ES domains of that EJ) for every target of the file: per
    member EJ for a GHT (annex 4), the candidature's FINESS otherwise."""
    if dossier.perimetre is None:
        return [(dossier.finess, o, set(dossier.domaines_sun_es)) for o in dossier.objectifs]
    return [(m["finess_ej"], o, set(m.get("domaines_sun_es") or ()))
            for m in dossier.perimetre for o in m["objectifs"]]


async def evaluer(session: AsyncSession, dossier: Dossier, programme: ProgrammePhase1
                  ) -> list[tuple[str, EvaluationObjectif]]:
    if dossier.dispositif != "phase1":
        return []  # HospiConnect is evaluated per year: GET /v1/dossiers/{id}/hospiconnect/{annee}
    rows = await session.scalars(
        select(IndicateurRecu).where(IndicateurRecu.dossier_id == dossier.id)
        .order_by(IndicateurRecu.depose_le, IndicateurRecu.id)
    )
    mesures: dict[tuple[str, str], dict[str, Mesure]] = {}
    for r in rows:  # the latest deposit of an indicator is the one instructed
        mesures.setdefault((r.finess_ej, r.objectif), {})[r.indicateur] = Mesure(r.numerateur, r.denominateur)
    return [
        (finess_ej, evaluer_objectif(programme.objectifs[o], mesures.get((finess_ej, o), {}),
                                     domaines_sun_es_atteints=domaines))
        for finess_ej, o, domaines in cibles(dossier)
    ]


def _verifier_fenetre_instruction(programme: ProgrammePhase1, jour: date, ouvert: bool,
                                  dispositif: str = "phase1",
                                  programme_hc: ProgrammeHospiconnect | None = None) -> None:
    if dispositif == "hospiconnect" and programme_hc is not None:
        # [reading] A HospiConnect candidature is validated at the latest when the first year's
        # instruction closes (15 September 2026): the yearly decisions need a validated file.
        fin = programme_hc.calendrier.annees[programme_hc.annees[0]].fin_instruction
        if not ouvert and jour > fin:
            raise RegleMetierError(f"l'instruction des candidatures HospiConnect est close depuis le"
                                   f" {fin.isoformat()}", "date")
        return
    fin = programme.calendrier.fin_instruction
    if not ouvert and jour > fin:
        raise RegleMetierError(f"l'instruction des candidatures de la phase 1 est close depuis le"
                               f" {fin.isoformat()}", "date")


def personnes(principal: Principal, proposee_par: str | None) -> dict[str, str | None]:
    """Both persons of a decision taken under the two-person rule (ADR 0023): the proposer, and the
    confirmer who takes it (`principal`, also `decide_par`); None for both outside the rule."""
    confirmee_par = None if proposee_par is None else principal.subject
    return {"proposee_par": proposee_par, "confirmee_par": confirmee_par}


def verifier_instructeur(principal: Principal) -> None:
    if principal.role is not Role.ARS:
        raise ROLE_INTERDIT.erreur("seule l'ARS décide")


async def decisions_sur(session: AsyncSession, dossier_id: str, objet: str, finess_ej: str | None = None
                        ) -> list[Decision]:
    """Every decision on one thing of a file (the candidature, an objective of one EJ), oldest first."""
    return list(await session.scalars(select(Decision).where(
        Decision.dossier_id == dossier_id, Decision.objet == objet,
        Decision.finess_ej.is_(None) if finess_ej is None else Decision.finess_ej == finess_ej,
    ).order_by(Decision.decide_le, Decision.id)))


async def _exiger_place_libre(session: AsyncSession, dossier: Dossier) -> None:
    """A refusal frees the applicant (ADR 0010): another candidature of the same applicant and
    dispositif may have been deposited since. Correcting the refusal back to a validation then would
    validate two candidatures of one applicant: refused, naming the one that holds the place."""
    autre = await session.scalar(select(Dossier).where(
        Dossier.finess == dossier.finess, Dossier.dispositif == dossier.dispositif, Dossier.id != dossier.id,
        Dossier.statut.in_((*STATUTS_EN_ATTENTE_DE_DECISION_CANDIDATURE, "validee"))).limit(1))
    if autre is not None:
        raise DEJA_CANDIDAT.erreur(
            f"le refus de la candidature {dossier.id} ne se corrige plus en validation : {dossier.finess}"
            f" a déposé depuis la candidature {autre.id} ({autre.statut}) pour le même dispositif",
            champ="remplace", extra={"candidature_id": autre.id})


async def decider_candidature(
    session: AsyncSession, principal: Principal, dossier_id: str, demande: DecisionCandidatureDemande,
    programme: ProgrammePhase1, jour: date, ouvert: bool, maintenant: datetime,
    programme_hc: ProgrammeHospiconnect | None = None, *, remplace: str | None = None,
    proposee_par: str | None = None,
) -> Decision:
    """A first decision, or (`remplace`, or `demande.remplace`) the correction of the current one."""
    verifier_instructeur(principal)
    remplace = remplace or demande.remplace
    dossier = await charger(session, principal, dossier_id, verrou=True)
    if dossier.statut == "desistee":
        raise CANDIDATURE_DESISTEE.erreur(f"l'établissement s'est désisté de la candidature {dossier.id} :"
                                          " elle n'est plus instruite")
    de = dossier.statut
    courante = remplacement.courante(await decisions_sur(session, dossier.id, "candidature"))
    remplacement.verifier_remplace(None if courante is None else courante.id, remplace,
                                   quoi=f"la candidature {dossier.id}")
    if courante is not None and courante.decision == "refusee" and demande.decision == "validee":
        await _exiger_place_libre(session, dossier)
    if courante is None:
        # A first decision: from deposee or en_instruction only (waiting for a correction or
        # closed: 409 transition-interdite).
        etats.verifier_transition("candidature", dossier.id, de, "decider", decision=demande.decision)
        # [reading] A correction may come after the instruction window: an error found late is fixed.
        _verifier_fenetre_instruction(programme, jour, ouvert, dossier.dispositif, programme_hc)
    decision = Decision(
        id=str(uuid.uuid4()), dossier_id=dossier.id, objet="candidature", decision=demande.decision,
        motivation=demande.motivation, decide_par=principal.subject, decide_le=maintenant,
        elements={"objectifs": dossier.objectifs, "perimetre": dossier.perimetre}, remplace=remplace,
        **personnes(principal, proposee_par),
    )
    session.add(decision)
    dossier.statut = demande.decision
    await enregistrer_transition(session, "candidature", dossier.id, de=de, vers=demande.decision,
                                 par=principal.subject, le=maintenant, motivation=demande.motivation,
                                 identifiant=decision.id)
    commun = {
        "decision_id": decision.id, "candidature_id": dossier.id, "finess": dossier.finess,
        "region": dossier.region, "decide_par": principal.subject, "decide_le": maintenant,
        "motivation": demande.motivation, "dispositif": dossier.dispositif, "remplace": remplace,
        **personnes(principal, proposee_par),
    }
    perimetre = (None if dossier.perimetre is None
                 else [PerimetreEj.model_validate(m) for m in dossier.perimetre])
    payload = (CandidatureValidee(objectifs=dossier.objectifs, perimetre=perimetre, **commun)
               if demande.decision == "validee" else CandidatureRefusee(**commun))
    evenement = nouvel_evenement(payload, source=SOURCE, subject=f"candidature/{dossier.id}")
    await publier(session, Topics.DOSSIER, dossier.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role,
                             action=f"candidature_{demande.decision}", objet_type="candidature",
                             objet_id=dossier.id, motivation=demande.motivation, region=dossier.region,
                             details={"decision_id": decision.id, "event_id": evenement.id,
                                      "remplace": remplace}))
    await session.flush()
    return decision


async def decider_objectif(
    session: AsyncSession, principal: Principal, dossier_id: str, objectif: str,
    demande: DecisionObjectifDemande, programme: ProgrammePhase1, maintenant: datetime,
    *, remplace: str | None = None, proposee_par: str | None = None,
) -> tuple[Decision, str, EvaluationObjectif]:
    """A first decision on an objective (of one EJ), or the correction of its current one."""
    verifier_instructeur(principal)
    remplace = remplace or demande.remplace
    dossier = await charger(session, principal, dossier_id, verrou=True)
    if dossier.dispositif != "phase1":
        raise DISPOSITIF_DIFFERENT.erreur(f"objectifs de la phase 1 seulement : dossier {dossier.dispositif},"
                                          " l'atteinte se décide par année sur"
                                          f" /v1/dossiers/{dossier.id}/hospiconnect/{{annee}}/decision")
    if objectif not in dossier.objectifs:
        raise RegleMetierError(f"l'objectif {objectif} ne fait pas partie de la candidature", "objectif")
    if dossier.statut != "validee":
        raise CANDIDATURE_NON_VALIDEE.erreur("l'atteinte des objectifs se décide sur une candidature validée")
    finess_ej = ej_visee(demande.finess_ej, dossier.perimetre, dossier.finess, objectif=objectif)
    membre = finess_ej if dossier.perimetre is not None else None
    courante = remplacement.courante(await decisions_sur(session, dossier.id, objectif, membre))
    remplacement.verifier_remplace(None if courante is None else courante.id, remplace,
                                  quoi=f"l'objectif {objectif} ({finess_ej})")
    evaluation = next(e for ej, e in await evaluer(session, dossier, programme)
                      if e.objectif == objectif and ej == finess_ej)
    if demande.decision == "atteint" and not evaluation.atteint:
        manquants = [i.indicateur for i in evaluation.indicateurs if not i.atteint]
        raise RegleMetierError(
            f"{objectif} ne peut être déclaré atteint : indicateur(s) absent(s) ou sous la cible :"
            f" {', '.join(manquants)}", "decision")
    decision = Decision(
        id=str(uuid.uuid4()), dossier_id=dossier.id, objet=objectif, finess_ej=membre,
        decision=demande.decision,
        motivation=demande.motivation, decide_par=principal.subject, decide_le=maintenant,
        # The target and its reading (SUN-ES or not, programme version) are kept with the decision:
        # a later programme version must not change what the ARS decided against.
        elements={"programme_version": programme.version, "indicateurs": [
            {"indicateur": i.indicateur, "numerateur": i.numerateur, "denominateur": i.denominateur,
             "taux": str(i.taux) if i.taux is not None else None, "cible": str(i.cible),
             "cible_sun_es": i.cible_sun_es, "atteint": i.atteint} for i in evaluation.indicateurs]},
        remplace=remplace, **personnes(principal, proposee_par),
    )
    session.add(decision)
    commun = {
        "decision_id": decision.id, "candidature_id": dossier.id, "finess": dossier.finess,
        "region": dossier.region, "decide_par": principal.subject, "decide_le": maintenant,
        "motivation": demande.motivation, "objectif": objectif, "objectifs_candidature": dossier.objectifs,
        "finess_ej": membre, "remplace": remplace, **personnes(principal, proposee_par),
    }
    payload = ObjectifAtteint(**commun) if demande.decision == "atteint" else ObjectifNonAtteint(**commun)
    evenement = nouvel_evenement(payload, source=SOURCE, subject=f"candidature/{dossier.id}")
    await publier(session, Topics.DOSSIER, dossier.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role,
                             action=f"objectif_{demande.decision}", objet_type="objectif",
                             objet_id=f"{dossier.id}/{objectif}/{finess_ej}", motivation=demande.motivation,
                             region=dossier.region,
                             details={"decision_id": decision.id, "event_id": evenement.id,
                                      "remplace": remplace}))
    await session.flush()
    return decision, finess_ej, evaluation

"""Events the candidature service consumes: the referentiel's establishments (local copy), the ARS
decisions on candidatures and instruction's answers to withdrawals (their status, which frees or holds
the applicant and its EJ; the validations
of HospiConnect candidatures, what the AAP themes other than rattrapage require) and the ARS decisions
on AAP projects (what the establishment is told)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.candidatures.service import (
    appliquer_decision,
    suivre_desistement_enregistre,
    suivre_desistement_refuse,
)
from hopen_candidature.courriels.service import COURRIELS
from hopen_candidature.etats.service import enregistrer_decision, suivre_transition
from hopen_candidature.models import (
    DecisionProjetConnue,
    EtablissementConnu,
    HospiconnectValide,
    Message,
    ProjetAap,
)
from hopen_common.contracts import (
    AtteinteProjetAapDecidee,
    CandidatureRefusee,
    CandidatureValidee,
    DesistementEnregistre,
    DesistementRefuse,
    EtablissementPublie,
    HospiconnectAnneeDecidee,
    MessageEnvoyeParArs,
    MessageLuParArs,
    ObjectifAtteint,
    ObjectifNonAtteint,
    ProjetAapNonRetenu,
    ProjetAapSelectionne,
    Topics,
)
from hopen_common.courriel import combiner
from hopen_common.db.copie_locale import tenir_copie_locale
from hopen_common.events import Evenement
from hopen_common.fil import copier_lecture, copier_message
from hopen_common.habilitations import HANDLERS as HANDLERS_HABILITATIONS
from hopen_common.inbox import Handler
from hopen_common.programme.perimetre import ej_couvertes


async def etablissement_publie(session: AsyncSession, evenement: Evenement, e: EtablissementPublie) -> None:
    await tenir_copie_locale(session, EtablissementConnu, e, instantane_le=evenement.time)


def _remplace(e: object) -> str | None:
    # Decision events may carry `remplace` (a corrected decision, issue 9 item 4): shown when present.
    valeur = getattr(e, "remplace", None)
    return None if valeur is None else str(valeur)


async def _decision_candidature(session: AsyncSession, e: CandidatureValidee | CandidatureRefusee,
                                decision: str) -> None:
    await enregistrer_decision(session, decision_id=e.decision_id, candidature_id=e.candidature_id,
                               objet="candidature", finess_ej=None, decision=decision,
                               motivation=e.motivation,
                               decide_par=e.decide_par, decide_le=e.decide_le, remplace=_remplace(e))


async def candidature_validee(session: AsyncSession, _: Evenement, e: CandidatureValidee) -> None:
    await _decision_candidature(session, e, "validee")
    await appliquer_decision(session, e.candidature_id, "validee", decide_par=e.decide_par,
                             decision_id=e.decision_id)
    if e.dispositif != "hospiconnect":
        return  # phase 1 validations say nothing of the AAP conditions
    await session.execute(insert(HospiconnectValide).values([
        {"finess_ej": f, "candidature_id": e.candidature_id, "decision_id": e.decision_id,
         "valide_le": e.decide_le} for f in ej_couvertes(e.perimetre, e.finess)
    ]).on_conflict_do_nothing())


async def candidature_refusee(session: AsyncSession, _: Evenement, e: CandidatureRefusee) -> None:
    await _decision_candidature(session, e, "refusee")
    await appliquer_decision(session, e.candidature_id, "refusee", decide_par=e.decide_par,
                             decision_id=e.decision_id)


async def objectif_decide(session: AsyncSession, _: Evenement, e: ObjectifAtteint | ObjectifNonAtteint
                          ) -> None:
    await enregistrer_decision(
        session, decision_id=e.decision_id, candidature_id=e.candidature_id, objet=e.objectif,
        finess_ej=e.finess_ej, decision="atteint" if isinstance(e, ObjectifAtteint) else "non_atteint",
        motivation=e.motivation, decide_par=e.decide_par, decide_le=e.decide_le, remplace=_remplace(e))


async def annee_hospiconnect_decidee(session: AsyncSession, _: Evenement, e: HospiconnectAnneeDecidee
                                     ) -> None:
    await enregistrer_decision(
        session, decision_id=e.decision_id, candidature_id=e.candidature_id,
        objet=f"hospiconnect.{e.annee}",
        finess_ej=e.finess_ej, decision=",".join(e.objectifs_atteints) or "aucun_objectif_atteint",
        motivation=e.motivation, decide_par=e.decide_par, decide_le=e.decide_le, remplace=_remplace(e))


async def desistement_enregistre(session: AsyncSession, _: Evenement, e: DesistementEnregistre) -> None:
    await suivre_desistement_enregistre(session, e)


async def desistement_refuse(session: AsyncSession, _: Evenement, e: DesistementRefuse) -> None:
    await suivre_desistement_refuse(session, e)


async def decision_projet(session: AsyncSession, _: Evenement,
                          e: ProjetAapSelectionne | ProjetAapNonRetenu | AtteinteProjetAapDecidee) -> None:
    if await session.get(ProjetAap, e.projet_id) is None:
        # Instruction only decides on projects deposited here: an unknown one is a bug to park.
        raise LookupError(f"projet {e.projet_id} inconnu")
    if isinstance(e, AtteinteProjetAapDecidee):
        objet, decision, montant = "atteinte", "atteint" if e.atteint else "non_atteint", None
    elif isinstance(e, ProjetAapSelectionne):
        objet, decision, montant = "selection", "selectionne", e.montant_accorde
    else:
        objet, decision, montant = "selection", "non_retenu", None
    await session.execute(insert(DecisionProjetConnue).values(
        decision_id=e.decision_id, projet_id=e.projet_id, objet=objet, decision=decision,
        montant_accorde=montant, motivation=e.motivation, decide_par=e.decide_par, decide_le=e.decide_le,
        remplace=_remplace(e),
    ).on_conflict_do_nothing(index_elements=["decision_id"]))


async def message_envoye(session: AsyncSession, _: Evenement, e: MessageEnvoyeParArs) -> None:
    """The ARS's message (a candidature's or a project's, on the dossier topic) into the thread's copy."""
    await copier_message(session, Message, e)


async def message_lu(session: AsyncSession, _: Evenement, e: MessageLuParArs) -> None:
    """The ARS read one of the establishment's messages: the establishment sees `lu_le`."""
    await copier_lecture(session, Message, e)


# Not here on purpose: AvisDemande and AvisRendu (expert opinions travel on instruction's avis topic,
# which this service does not read; the establishment never sees an opinion).
_ETAT: dict[str, Handler] = {
    "MessageEnvoyeParArs": message_envoye,
    "MessageLuParArs": message_lu,
    "EtablissementPublie": etablissement_publie,
    "CandidatureValidee": candidature_validee,
    "CandidatureRefusee": candidature_refusee,
    "DesistementEnregistre": desistement_enregistre,
    "DesistementRefuse": desistement_refuse,
    "ProjetAapSelectionne": decision_projet,
    "ProjetAapNonRetenu": decision_projet,
    "AtteinteProjetAapDecidee": decision_projet,
    "ObjectifAtteint": objectif_decide,
    "ObjectifNonAtteint": objectif_decide,
    "HospiconnectAnneeDecidee": annee_hospiconnect_decidee,
    # Issue 9: instruction's transitions of candidatures (Topics.DOSSIER) and projects (Topics.PROJET).
    "DossierPrisEnInstruction": suivre_transition,
    "CorrectionDemandee": suivre_transition,
    "DossierClasseSansSuite": suivre_transition,
    "DossierRouvert": suivre_transition,
    "ProjetPrisEnInstruction": suivre_transition,
    "CorrectionProjetDemandee": suivre_transition,
    "ProjetClasseSansSuite": suivre_transition,
    "ProjetRouvert": suivre_transition,
}
# Each event's state handler, then its mail to the establishment (ADR 0017), in one inbox transaction.
HANDLERS: dict[str, Handler] = {**combiner(_ETAT, COURRIELS), **HANDLERS_HABILITATIONS}
TOPICS = [Topics.ETABLISSEMENT, Topics.DOSSIER, Topics.PROJET, Topics.ECHEANCE, Topics.HABILITATION]

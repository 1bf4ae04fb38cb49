"""Events the instruction service consumes: deposited and withdrawn candidatures, projects and their
evidence (candidature), the referentiel's establishments (AC 2024 and staff) and financement's envelope
ledger."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Role
from hopen_common.contracts import (
    CandidatureDeposee,
    CandidatureDesistee,
    DesistementEnregistre,
    DesistementRefuse,
    EtablissementPublie,
    IndicateurDepose,
    MessageEnvoyeParEtablissement,
    MessageLuParEtablissement,
    PieceDeposee,
    PreuveAtteinteAapDeposee,
    PreuveHospiconnectDeposee,
    ProjetAapDepose,
    Topics,
)
from hopen_common.courriel import combiner
from hopen_common.db.copie_locale import tenir_copie_locale
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import Evenement, nouvel_evenement
from hopen_common.fil import copier_lecture, copier_message
from hopen_common.habilitations import HANDLERS as HANDLERS_HABILITATIONS
from hopen_common.inbox import Handler
from hopen_common.outbox import publier
from hopen_instruction.corrections.service import candidature_redeposee
from hopen_instruction.courriels import COURRIELS
from hopen_instruction.dossiers.service import SOURCE
from hopen_instruction.enveloppes.service import appliquer_mouvement
from hopen_instruction.etats import rules as etats
from hopen_instruction.etats.repository import enregistrer_transition
from hopen_instruction.models import (
    Decision,
    DepensePrevueProjet,
    Dossier,
    EtablissementConnu,
    IndicateurRecu,
    Message,
    PieceRecue,
    PreuveAapRecue,
    PreuveHospiconnectRecue,
    Projet,
)

log = logging.getLogger(__name__)


async def candidature_deposee(session: AsyncSession, evenement: Evenement, e: CandidatureDeposee) -> None:
    await enregistrer_transition(session, "candidature", e.candidature_id, de=None, vers="deposee",
                                 par=e.deposee_par, le=e.deposee_le, identifiant=evenement.id)
    await session.execute(insert(Dossier).values(
        id=e.candidature_id, dispositif=e.dispositif, finess=e.finess,
        raison_sociale=e.raison_sociale, region=e.region, objectifs=e.objectifs,
        domaines_sun_es=e.domaines_sun_es, statut="deposee", deposee_le=e.deposee_le,
        perimetre=None if e.perimetre is None else [m.model_dump(mode="json") for m in e.perimetre],
        criteres_ght=None if e.criteres_ght is None else e.criteres_ght.model_dump(mode="json"),
    ).on_conflict_do_nothing(index_elements=["id"]))


async def piece_deposee(session: AsyncSession, _: Evenement, e: PieceDeposee) -> None:
    """Kept whether or not the dossier is known yet: pieces are uploaded on the draft, before its
    deposit (same key, same partition, so in that order). A redelivery writes nothing (the piece id)."""
    await session.execute(insert(PieceRecue).values(
        piece_id=e.piece_id, dossier_type=e.dossier_type, dossier_id=e.dossier_id, type=e.type,
        finess_ej=e.finess_ej, version=e.version, nom=e.nom, media_type=e.media_type, taille=e.taille,
        sha256=e.sha256, depose_par=e.depose_par, depose_le=e.depose_le,
    ).on_conflict_do_nothing(index_elements=["piece_id"]))


async def candidature_desistee(session: AsyncSession, evenement: Evenement, e: CandidatureDesistee) -> None:
    """Answer the withdrawal on the dossier topic, in this transaction (ADR 0010): candidature holds
    the applicant and its EJ until it reads whether the withdrawal took or the ARS had decided."""
    dossier = await session.get(Dossier, e.candidature_id, with_for_update=True)
    if dossier is None:
        raise LookupError(f"dossier {e.candidature_id} inconnu")  # same key: the deposit precedes it
    commun = {"candidature_id": dossier.id, "dispositif": dossier.dispositif, "finess": dossier.finess,
              "region": dossier.region, "desistement_event_id": evenement.id}
    details: dict[str, object] = {"desistement_event_id": evenement.id}
    reponse: DesistementEnregistre | DesistementRefuse
    retirables = (*etats.statuts_de_depart("candidature", "desister"), "desistee", "classee_sans_suite")
    if dossier.statut in retirables:
        # `desistee` already: a second withdrawal event of the same candidature; answering again is
        # harmless (candidature's closing is idempotent) and never leaves it waiting. Closed without a
        # decision by the ARS while the withdrawal travelled: no decision, no money, the withdrawal takes.
        await enregistrer_transition(session, "candidature", dossier.id, de=dossier.statut, vers="desistee",
                                     par=e.desistee_par, le=e.desistee_le, motivation=e.motivation,
                                     identifiant=evenement.id)
        dossier.statut = "desistee"
        reponse = DesistementEnregistre(enregistre_le=datetime.now(UTC), **commun)
        action = "desistement_enregistre"
    else:
        # The ARS decided before it learnt of the withdrawal: its decision (and what money follows)
        # stands; candidature follows that decision, then reads this refusal.
        decision = await session.scalar(
            select(Decision).where(Decision.dossier_id == dossier.id, Decision.objet == "candidature")
            .order_by(Decision.decide_le.desc(), Decision.id.desc()).limit(1))
        if decision is None or decision.decision not in ("validee", "refusee"):
            # A decided dossier without its decision row is a bug to park, never an answer to guess.
            raise LookupError(f"dossier {dossier.id} {dossier.statut} sans décision de candidature")
        log.warning("désistement de %s reçu après la décision %s (%s) : décision maintenue", dossier.id,
                    decision.id, decision.decision)
        reponse = DesistementRefuse(decision_id=decision.id, statut=decision.decision,
                                    decide_le=decision.decide_le, **commun)
        action = "desistement_refuse"
        details |= {"decision_id": decision.id, "statut": decision.decision}
    reponse_evenement = nouvel_evenement(reponse, source=SOURCE, subject=f"candidature/{dossier.id}",
                                         causation=evenement)
    await publier(session, Topics.DOSSIER, dossier.id, reponse_evenement)
    details["event_id"] = reponse_evenement.id
    session.add(JournalAudit(acteur=e.desistee_par, role=Role.ETABLISSEMENT, action=action,
                             objet_type="candidature", objet_id=dossier.id, motivation=e.motivation,
                             region=dossier.region, details=details))


async def indicateur_depose(session: AsyncSession, evenement: Evenement, e: IndicateurDepose) -> None:
    if await session.get(Dossier, e.candidature_id) is None:
        # Same key, same partition: the deposit always precedes its evidence. Failing here
        # means an ordering bug, which must be parked for an operator, not silently dropped.
        raise LookupError(f"dossier {e.candidature_id} inconnu")
    await session.execute(insert(IndicateurRecu).values(
        dossier_id=e.candidature_id, finess_ej=e.finess_ej or e.finess, objectif=e.objectif,
        indicateur=e.indicateur,
        numerateur=e.numerateur, denominateur=e.denominateur, depose_le=e.depose_le,
        event_id=evenement.id,
    ).on_conflict_do_nothing(index_elements=["event_id"]))


async def preuve_hospiconnect_deposee(session: AsyncSession, _: Evenement, e: PreuveHospiconnectDeposee
                                      ) -> None:
    if await session.get(Dossier, e.candidature_id) is None:
        raise LookupError(f"dossier {e.candidature_id} inconnu")  # ordering bug: park, never drop
    await session.execute(insert(PreuveHospiconnectRecue).values(
        id=e.preuve_id, dossier_id=e.candidature_id, finess_ej=e.finess_ej, annee=e.annee,
        objectif=e.objectif,
        nature=e.nature, document=None if e.document is None else e.document.model_dump(),
        numerateur=e.numerateur, denominateur=e.denominateur, depose_par=e.depose_par, depose_le=e.depose_le,
    ).on_conflict_do_nothing(index_elements=["id"]))


async def preuve_atteinte_aap_deposee(session: AsyncSession, _: Evenement, e: PreuveAtteinteAapDeposee
                                      ) -> None:
    if await session.get(Projet, e.projet_id) is None:
        raise LookupError(f"projet {e.projet_id} inconnu")  # ordering bug: park, never drop
    await session.execute(insert(PreuveAapRecue).values(
        id=e.preuve_id, projet_id=e.projet_id, objectif=e.objectif, piece_id=e.piece_id,
        piece_nom=e.piece_nom, piece_sha256=e.piece_sha256, commentaire=e.commentaire,
        depose_par=e.depose_par, depose_le=e.depose_le,
    ).on_conflict_do_nothing(index_elements=["id"]))


async def projet_depose(session: AsyncSession, evenement: Evenement, e: ProjetAapDepose) -> None:
    await enregistrer_transition(session, "projet", e.projet_id, de=None, vers="depose", par=e.deposee_par,
                                 le=e.deposee_le, identifiant=evenement.id)
    resultat = await session.execute(insert(Projet).values(
        id=e.projet_id, finess=e.finess, raison_sociale=e.raison_sociale, region=e.region, theme=e.theme,
        titre=e.titre, description=e.description, objectifs=e.objectifs, participants=e.participants,
        perimetre=e.perimetre, equipe=[m.model_dump() for m in e.equipe],
        lettres_partenaires=[lettre.model_dump() for lettre in e.lettres_partenaires],
        sans_versement_usage=e.sans_versement_usage, participants_publics_ght=e.participants_publics_ght,
        depenses_prevues=sum((d.montant for d in e.depenses_prevues), start=0),
        statut="depose", deposee_le=e.deposee_le,
    ).on_conflict_do_nothing(index_elements=["id"]).returning(Projet.id))
    if resultat.first() is not None:
        await session.execute(insert(DepensePrevueProjet).values([
            {"projet_id": e.projet_id, "annee": d.annee, "montant": d.montant} for d in e.depenses_prevues]))


async def etablissement_publie(session: AsyncSession, evenement: Evenement, e: EtablissementPublie) -> None:
    await tenir_copie_locale(session, EtablissementConnu, e, instantane_le=evenement.time)


async def message_envoye(session: AsyncSession, _: Evenement, e: MessageEnvoyeParEtablissement) -> None:
    """The establishment's message into the thread's copy."""
    await copier_message(session, Message, e)


async def message_lu(session: AsyncSession, _: Evenement, e: MessageLuParEtablissement) -> None:
    """The establishment read one of the ARS's messages: the ARS sees `lu_le`."""
    await copier_lecture(session, Message, e)


_ETAT: dict[str, Handler] = {
    "MessageEnvoyeParEtablissement": message_envoye,
    "MessageLuParEtablissement": message_lu,
    "CandidatureDeposee": candidature_deposee,
    "CandidatureDesistee": candidature_desistee,
    "CandidatureRedeposee": candidature_redeposee,
    "IndicateurDepose": indicateur_depose,
    "PieceDeposee": piece_deposee,
    "PreuveHospiconnectDeposee": preuve_hospiconnect_deposee,
    "PreuveAtteinteAapDeposee": preuve_atteinte_aap_deposee,
    "ProjetAapDepose": projet_depose,
    "EtablissementPublie": etablissement_publie,
    "EnveloppeEngagee": appliquer_mouvement,
    "EnveloppeDesengagee": appliquer_mouvement,
    "EnveloppeConsommee": appliquer_mouvement,
    "EnveloppeRestituee": appliquer_mouvement,
    "EnveloppeTransferee": appliquer_mouvement,
}
# Each event's state handler, then its ARS mail if any (ADR 0017), in one inbox transaction.
HANDLERS: dict[str, Handler] = {**combiner(_ETAT, COURRIELS), **HANDLERS_HABILITATIONS}
TOPICS = [Topics.CANDIDATURE, Topics.ETABLISSEMENT, Topics.ENVELOPPE, Topics.HABILITATION]

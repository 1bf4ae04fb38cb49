"""Events the instruction service consumes: deposited and withdrawn candidatures, projects and their
evidence (candidature), the referentiel's establishments (AC 2024 and staff) and financement's envelope
ledger."""

from __future__ import annotations

import logging

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import (
    CandidatureDeposee,
    CandidatureDesistee,
    EtablissementPublie,
    IndicateurDepose,
    PieceDeposee,
    PreuveHospiconnectDeposee,
    ProjetAapDepose,
    Topics,
)
from hopen_common.db.copie_locale import tenir_copie_locale
from hopen_common.events import Evenement
from hopen_common.inbox import Handler
from hopen_instruction.enveloppes.service import appliquer_mouvement
from hopen_instruction.models import (
    DepensePrevueProjet,
    Dossier,
    EtablissementConnu,
    IndicateurRecu,
    PieceRecue,
    PreuveHospiconnectRecue,
    Projet,
)

log = logging.getLogger(__name__)


async def candidature_deposee(session: AsyncSession, _: Evenement, e: CandidatureDeposee) -> None:
    await session.execute(insert(Dossier).values(
        id=e.candidature_id, dispositif=e.dispositif, finess=e.finess,
        raison_sociale=e.raison_sociale, region=e.region, objectifs=e.objectifs,
        domaines_sun_es=e.domaines_sun_es, statut="a_instruire", deposee_le=e.deposee_le,
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


async def candidature_desistee(session: AsyncSession, _: Evenement, e: CandidatureDesistee) -> None:
    dossier = await session.get(Dossier, e.candidature_id, with_for_update=True)
    if dossier is None:
        raise LookupError(f"dossier {e.candidature_id} inconnu")  # same key: the deposit precedes it
    if dossier.statut != "a_instruire":
        # The ARS decided before it learnt of the withdrawal: its decision (and what money follows)
        # stands; candidature follows that decision when it reads it.
        log.warning("désistement de %s reçu après la décision (%s) : décision maintenue", dossier.id,
                    dossier.statut)
        return
    dossier.statut = "desistee"


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


async def projet_depose(session: AsyncSession, _: Evenement, e: ProjetAapDepose) -> None:
    resultat = await session.execute(insert(Projet).values(
        id=e.projet_id, finess=e.finess, raison_sociale=e.raison_sociale, region=e.region, theme=e.theme,
        titre=e.titre, description=e.description, objectifs=e.objectifs, participants=e.participants,
        perimetre=e.perimetre, equipe=[m.model_dump() for m in e.equipe],
        lettres_partenaires=[lettre.model_dump() for lettre in e.lettres_partenaires],
        sans_versement_usage=e.sans_versement_usage, participants_publics_ght=e.participants_publics_ght,
        depenses_prevues=sum((d.montant for d in e.depenses_prevues), start=0),
        statut="a_instruire", deposee_le=e.deposee_le,
    ).on_conflict_do_nothing(index_elements=["id"]).returning(Projet.id))
    if resultat.first() is not None:
        await session.execute(insert(DepensePrevueProjet).values([
            {"projet_id": e.projet_id, "annee": d.annee, "montant": d.montant} for d in e.depenses_prevues]))


async def etablissement_publie(session: AsyncSession, _: Evenement, e: EtablissementPublie) -> None:
    await tenir_copie_locale(session, EtablissementConnu, e)


HANDLERS: dict[str, Handler] = {
    "CandidatureDeposee": candidature_deposee,
    "CandidatureDesistee": candidature_desistee,
    "IndicateurDepose": indicateur_depose,
    "PieceDeposee": piece_deposee,
    "PreuveHospiconnectDeposee": preuve_hospiconnect_deposee,
    "ProjetAapDepose": projet_depose,
    "EtablissementPublie": etablissement_publie,
    "EnveloppeEngagee": appliquer_mouvement,
    "EnveloppeDesengagee": appliquer_mouvement,
    "EnveloppeConsommee": appliquer_mouvement,
    "EnveloppeTransferee": appliquer_mouvement,
}
TOPICS = [Topics.CANDIDATURE, Topics.ETABLISSEMENT, Topics.ENVELOPPE]

"""Every event that moves the syntheses."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import (
    CandidatureDeposee,
    CandidatureRefusee,
    CandidatureValidee,
    EnveloppeConsommee,
    EnveloppeDesengagee,
    EnveloppeEngagee,
    EnveloppeRestituee,
    EnveloppeTransferee,
    EtablissementPublie,
    FinancementNotifie,
    Topics,
)
from hopen_common.db.copie_locale import tenir_copie_locale
from hopen_common.events import Evenement
from hopen_common.habilitations import HANDLERS as HANDLERS_HABILITATIONS
from hopen_common.inbox import Handler
from hopen_reporting.models import (
    CompteEnveloppe,
    EtablissementVu,
    EtatCandidature,
    MontantNotifie,
    NotificationVue,
)

# Deposee and the ARS decision travel on two topics: either may arrive first, so the
# state only ever moves forward (rank), whatever the arrival order.
RANG = {"deposee": 1, "validee": 2, "refusee": 2}


async def _avancer(session: AsyncSession, candidature_id: str, region: str, finess: str,
                   dispositif: str, statut: str) -> None:
    await session.execute(
        insert(EtatCandidature).values(
            candidature_id=candidature_id, region=region, finess=finess, dispositif=dispositif,
            statut=statut, version=RANG[statut],
        ).on_conflict_do_update(
            index_elements=["candidature_id"],
            set_={"statut": statut, "version": RANG[statut]},
            where=EtatCandidature.version < RANG[statut],
        )
    )


async def candidature_deposee(session: AsyncSession, _: Evenement, e: CandidatureDeposee) -> None:
    await _avancer(session, e.candidature_id, e.region, e.finess, e.dispositif, "deposee")


async def candidature_decidee(session: AsyncSession, _: Evenement,
                              e: CandidatureValidee | CandidatureRefusee) -> None:
    statut = "validee" if isinstance(e, CandidatureValidee) else "refusee"
    await _avancer(session, e.candidature_id, e.region, e.finess, e.dispositif, statut)


async def financement_notifie(session: AsyncSession, _: Evenement, e: FinancementNotifie) -> None:
    await session.execute(insert(NotificationVue).values(
        notification_id=e.notification_id, candidature_id=e.candidature_id, finess=e.finess,
        region=e.region, dispositif=e.dispositif, nature=e.nature, montant_net=e.montant_net,
        annee=e.annee, remplace=e.remplace, notifie_le=e.notifie_le,
    ).on_conflict_do_nothing())
    for ligne in e.lignes:
        await session.execute(insert(MontantNotifie).values(
            notification_id=e.notification_id, finess_ej=ligne.finess_ej or e.finess_ej or e.finess,
            objectif=ligne.objectif, nature=ligne.nature, candidature_id=e.candidature_id, finess=e.finess,
            region=e.region, dispositif=e.dispositif, montant=ligne.montant, notifie_le=e.notifie_le,
            cle_metier=ligne.cle_metier, version=ligne.version,
        ).on_conflict_do_nothing())


async def etablissement_publie(session: AsyncSession, evenement: Evenement, e: EtablissementPublie) -> None:
    await tenir_copie_locale(session, EtablissementVu, e, instantane_le=evenement.time)


async def enveloppe_mouvementee(
    session: AsyncSession, _: Evenement,
    e: EnveloppeEngagee | EnveloppeDesengagee | EnveloppeConsommee | EnveloppeRestituee | EnveloppeTransferee,
) -> None:
    # Each entry carries the account after it; the latest entry (highest id) wins.
    valeurs = {"alloue": e.alloue, "engage": e.engage, "consomme": e.consomme, "disponible": e.disponible,
               "derniere_ecriture": e.ecriture_id}
    await session.execute(
        insert(CompteEnveloppe).values(region=e.region, dispositif=e.dispositif, **valeurs)
        .on_conflict_do_update(index_elements=["region", "dispositif"], set_=valeurs,
                               where=CompteEnveloppe.derniere_ecriture < e.ecriture_id))


HANDLERS: dict[str, Handler] = {
    **HANDLERS_HABILITATIONS,  # the rights of the persons (ADR 0022)
    "CandidatureDeposee": candidature_deposee,
    "CandidatureValidee": candidature_decidee,
    "CandidatureRefusee": candidature_decidee,
    "FinancementNotifie": financement_notifie,
    "EtablissementPublie": etablissement_publie,
    "EnveloppeEngagee": enveloppe_mouvementee,
    "EnveloppeDesengagee": enveloppe_mouvementee,
    "EnveloppeConsommee": enveloppe_mouvementee,
    "EnveloppeRestituee": enveloppe_mouvementee,
    "EnveloppeTransferee": enveloppe_mouvementee,
}
TOPICS = [Topics.ETABLISSEMENT, Topics.CANDIDATURE, Topics.DOSSIER, Topics.FINANCEMENT, Topics.ENVELOPPE,
          Topics.HABILITATION]

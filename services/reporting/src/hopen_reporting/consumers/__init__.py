"""Every event that moves the regional synthesis."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import (
    CandidatureDeposee,
    CandidatureRefusee,
    CandidatureValidee,
    FinancementNotifie,
    Topics,
)
from hopen_common.events import Evenement
from hopen_common.inbox import Handler
from hopen_reporting.models import EtatCandidature, MontantNotifie

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
    for ligne in e.lignes:
        await session.execute(insert(MontantNotifie).values(
            notification_id=e.notification_id, objectif=ligne.objectif, nature=ligne.nature,
            candidature_id=e.candidature_id, finess=e.finess, region=e.region,
            dispositif=e.dispositif, montant=ligne.montant, notifie_le=e.notifie_le,
        ).on_conflict_do_nothing())


HANDLERS: dict[str, Handler] = {
    "CandidatureDeposee": candidature_deposee,
    "CandidatureValidee": candidature_decidee,
    "CandidatureRefusee": candidature_decidee,
    "FinancementNotifie": financement_notifie,
}
TOPICS = [Topics.CANDIDATURE, Topics.DOSSIER, Topics.FINANCEMENT]

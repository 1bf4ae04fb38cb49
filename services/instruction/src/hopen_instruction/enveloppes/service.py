"""Local copy of financement's regional envelope accounts: each Enveloppe* event carries the account's
four figures after its entry; the copy keeps the latest (by ledger entry id) and which selections
financement has engaged, so that a selection still in flight is counted against the envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts.enveloppe import (
    EnveloppeConsommee,
    EnveloppeDesengagee,
    EnveloppeEngagee,
    EnveloppeRestituee,
    EnveloppeTransferee,
)
from hopen_common.events import Evenement
from hopen_instruction.models import DecisionProjet, EngagementConnu, EnveloppeConnue, Projet
from hopen_instruction.projets.rules import Disponibilite, disponibilite

DISPOSITIF = "aap"


Mouvement = (EnveloppeEngagee | EnveloppeDesengagee | EnveloppeConsommee | EnveloppeRestituee
             | EnveloppeTransferee)


async def appliquer_mouvement(session: AsyncSession, _: Evenement, e: Mouvement) -> None:
    """Any Enveloppe* event: the account's figures after the entry, unless a later entry was seen
    (events of one region are ordered, but a redelivery must not move the copy back)."""
    valeurs = {
        "dispositif": e.dispositif, "region": e.region, "alloue": e.alloue, "engage": e.engage,
        "consomme": e.consomme, "disponible": e.disponible, "derniere_ecriture": e.ecriture_id,
        "source": "financement", "maj_le": datetime.now(UTC),
    }
    await session.execute(
        insert(EnveloppeConnue).values(**valeurs).on_conflict_do_update(
            index_elements=["dispositif", "region"], set_=valeurs,
            where=EnveloppeConnue.derniere_ecriture < e.ecriture_id))
    if isinstance(e, EnveloppeEngagee):
        await session.execute(insert(EngagementConnu).values(
            decision_id=e.decision_id, projet_id=e.projet_id, region=e.region, montant=e.montant,
            ecriture_id=e.ecriture_id).on_conflict_do_nothing())


async def en_attente(session: AsyncSession, region: str, *, sauf: str | None = None) -> list[Decimal]:
    """Amounts of the first selections of the region that financement has not engaged yet. A
    correction is not counted (its difference was checked when it was decided; financement's lock on
    the account is the final guard, ADR 0021)."""
    query = (select(DecisionProjet.montant_accorde)
             .join(Projet, Projet.id == DecisionProjet.projet_id)
             .outerjoin(EngagementConnu, EngagementConnu.decision_id == DecisionProjet.id)
             .where(Projet.region == region, DecisionProjet.objet == "selection",
                    DecisionProjet.decision == "selectionne", EngagementConnu.decision_id.is_(None),
                    DecisionProjet.remplace.is_(None)))
    if sauf is not None:
        query = query.where(DecisionProjet.id != sauf)
    return [m for m in await session.scalars(query) if m is not None]


async def situation(session: AsyncSession, region: str, *, verrou: bool = False
                    ) -> tuple[EnveloppeConnue, Disponibilite] | None:
    query = select(EnveloppeConnue).where(EnveloppeConnue.dispositif == DISPOSITIF,
                                          EnveloppeConnue.region == region)
    if verrou:
        # Two selections of the same region are checked one after the other.
        query = query.with_for_update()
    compte = await session.scalar(query)
    if compte is None:
        return None
    return compte, disponibilite(compte.disponible, await en_attente(session, region))

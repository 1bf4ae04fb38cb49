"""Every query of the syntheses."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Select, exists, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hopen_reporting.models import (
    CompteEnveloppe,
    EtablissementVu,
    EtatCandidature,
    MontantNotifie,
    NotificationVue,
)


def _courants(region: str | None) -> Select[str, str, Decimal]:
    """Current lines, by secteur and nature: of the notifications no later notification replaces,
    and that no higher version of their business key supersedes (a corrected objective's solde)."""
    remplacees = select(NotificationVue.remplace).where(NotificationVue.remplace.is_not(None))
    suivante = aliased(MontantNotifie)
    depassee = exists().where(suivante.cle_metier == MontantNotifie.cle_metier,
                              suivante.version > MontantNotifie.version)
    # A literal, not a bind parameter: GROUP BY must see the very expression of the SELECT.
    secteur = func.coalesce(EtablissementVu.secteur, literal_column("'inconnu'"))
    query = (
        select(secteur, MontantNotifie.nature, func.sum(MontantNotifie.montant))
        .outerjoin(EtablissementVu, EtablissementVu.finess == MontantNotifie.finess)
        .where(MontantNotifie.notification_id.not_in(remplacees), ~depassee)
        .group_by(secteur, MontantNotifie.nature)
    )
    return query if region is None else query.where(MontantNotifie.region == region)


async def montants_par_secteur(session: AsyncSession, region: str | None) -> list[tuple[str, str, Decimal]]:
    return [(s, n, Decimal(m)) for s, n, m in await session.execute(_courants(region))]


async def candidatures_par_statut(session: AsyncSession, region: str | None) -> dict[str, int]:
    query = select(EtatCandidature.statut, func.count()).group_by(EtatCandidature.statut)
    if region is not None:
        query = query.where(EtatCandidature.region == region)
    return {statut: int(n) for statut, n in await session.execute(query)}


async def enveloppes(session: AsyncSession, region: str | None) -> list[CompteEnveloppe]:
    query = select(CompteEnveloppe).order_by(CompteEnveloppe.region, CompteEnveloppe.dispositif)
    if region is not None:
        query = query.where(CompteEnveloppe.region == region)
    return list(await session.scalars(query))


async def regions_connues(session: AsyncSession) -> list[str]:
    regions = set(await session.scalars(select(MontantNotifie.region).distinct()))
    regions |= set(await session.scalars(select(EtatCandidature.region).distinct()))
    regions |= set(await session.scalars(select(CompteEnveloppe.region).distinct()))
    return sorted(regions)

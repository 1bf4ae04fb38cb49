from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.pagination import Pagination, page_par_cle
from hopen_financement.enveloppes.models import CompteEnveloppe, EcritureEnveloppe


async def verrouiller(session: AsyncSession, dispositif: str, region: str) -> CompteEnveloppe | None:
    """Lock the account row until the caller's transaction ends: writers of one account queue here.

    Under READ COMMITTED each later statement takes a new snapshot, so the sums read after the lock
    include every entry committed by the previous holder."""
    compte: CompteEnveloppe | None = await session.scalar(
        select(CompteEnveloppe).where(CompteEnveloppe.dispositif == dispositif,
                                      CompteEnveloppe.region == region)
        .with_for_update()
        .execution_options(populate_existing=True))
    return compte


async def compte(session: AsyncSession, dispositif: str, region: str) -> CompteEnveloppe | None:
    return await session.get(CompteEnveloppe, (dispositif, region))


async def comptes(session: AsyncSession, dispositif: str | None = None,
                  region: str | None = None) -> Sequence[CompteEnveloppe]:
    query = select(CompteEnveloppe)
    if dispositif is not None:
        query = query.where(CompteEnveloppe.dispositif == dispositif)
    if region is not None:
        query = query.where(CompteEnveloppe.region == region)
    return (await session.scalars(query.order_by(CompteEnveloppe.dispositif, CompteEnveloppe.region))).all()


async def totaux(session: AsyncSession, dispositif: str,
                 region: str | None = None) -> dict[tuple[str, str], dict[str, Decimal]]:
    """(dispositif, region) -> nature -> sum of entries."""
    query = (select(EcritureEnveloppe.dispositif, EcritureEnveloppe.region, EcritureEnveloppe.nature,
                    func.sum(EcritureEnveloppe.montant))
             .where(EcritureEnveloppe.dispositif == dispositif)
             .group_by(EcritureEnveloppe.dispositif, EcritureEnveloppe.region, EcritureEnveloppe.nature))
    if region is not None:
        query = query.where(EcritureEnveloppe.region == region)
    resultat: dict[tuple[str, str], dict[str, Decimal]] = {}
    for d, r, nature, somme in (await session.execute(query)).all():
        resultat.setdefault((d, r), {})[nature] = somme
    return resultat


async def totaux_projet(session: AsyncSession, projet_id: str) -> dict[str, Decimal]:
    rows = await session.execute(
        select(EcritureEnveloppe.nature, func.sum(EcritureEnveloppe.montant))
        .where(EcritureEnveloppe.projet_id == projet_id).group_by(EcritureEnveloppe.nature))
    return dict(rows.all())


async def ecritures(session: AsyncSession, dispositif: str, region: str, pagination: Pagination
                    ) -> tuple[Sequence[EcritureEnveloppe], int, str | None]:
    """One page of the ledger, oldest first, resumed after the last entry seen (entries are added
    while it is read): (entries, total, next cursor)."""
    query = select(EcritureEnveloppe).where(EcritureEnveloppe.dispositif == dispositif,
                                            EcritureEnveloppe.region == region)
    rows, total, suivant = await page_par_cle(session, query, pagination, cle=EcritureEnveloppe.id,
                                              cle_de=lambda row: int(row[0].id))
    return [row[0] for row in rows], total, suivant

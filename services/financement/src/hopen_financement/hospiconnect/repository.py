"""Every query on HospiConnect decisions, declarations and amounts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hopen_financement.hospiconnect.models import (
    DecisionHospiconnect,
    DeclarationDepenses,
    MontantHospiconnect,
)


def _non_remplacees() -> ColumnElement[bool]:
    remplacees = select(DecisionHospiconnect.remplace).where(DecisionHospiconnect.remplace.is_not(None))
    return DecisionHospiconnect.decision_id.not_in(remplacees.scalar_subquery())


async def decision_courante(session: AsyncSession, finess_ej: str, annee: int) -> DecisionHospiconnect | None:
    decision: DecisionHospiconnect | None = await session.scalar(select(DecisionHospiconnect).where(
        DecisionHospiconnect.finess_ej == finess_ej, DecisionHospiconnect.annee == annee, _non_remplacees()))
    return decision


async def verrouiller_annee(session: AsyncSession, finess_ej: str, annee: int) -> None:
    """Serialise the transactions about one (EJ, year) until they end: the decision and the
    declaration arrive on different topics, possibly on two consumers at once; each inserts its
    fact then reads the other's, and without this lock each could see nothing (write skew) and
    neither would decide the amount."""
    cle = func.hashtext(f"hospiconnect/{finess_ej}/{annee}")
    await session.execute(select(func.pg_advisory_xact_lock(cle)))


async def declaration_courante(session: AsyncSession, candidature_id: str, finess_ej: str,
                               annee: int) -> DeclarationDepenses | None:
    """The one current declaration of a candidature for (EJ, year): the one no other replaces."""
    remplacees = select(DeclarationDepenses.remplace).where(DeclarationDepenses.remplace.is_not(None))
    declaration: DeclarationDepenses | None = await session.scalar(
        select(DeclarationDepenses).where(
            DeclarationDepenses.candidature_id == candidature_id,
            DeclarationDepenses.finess_ej == finess_ej, DeclarationDepenses.annee == annee,
            DeclarationDepenses.declaration_id.not_in(remplacees.scalar_subquery())))
    return declaration


async def dernier_montant(session: AsyncSession, finess_ej: str, annee: int) -> MontantHospiconnect | None:
    montant: MontantHospiconnect | None = await session.scalar(
        select(MontantHospiconnect).where(MontantHospiconnect.finess_ej == finess_ej,
                                          MontantHospiconnect.annee == annee)
        .order_by(MontantHospiconnect.rang.desc()).limit(1))
    return montant


def _portee(finess: str | None, region: str | None, col_finess: InstrumentedAttribute[str],
            col_ej: InstrumentedAttribute[str],
            col_region: InstrumentedAttribute[str]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if finess:
        conditions.append(or_(col_finess == finess, col_ej == finess))
    if region:
        conditions.append(col_region == region)
    return conditions


async def montants(session: AsyncSession, *, finess: str | None, region: str | None,
                   annee: int | None) -> Sequence[MontantHospiconnect]:
    """Every rank, ordered by (EJ, year, rank)."""
    query = select(MontantHospiconnect).where(*_portee(
        finess, region, MontantHospiconnect.finess, MontantHospiconnect.finess_ej,
        MontantHospiconnect.region))
    if annee is not None:
        query = query.where(MontantHospiconnect.annee == annee)
    return (await session.scalars(query.order_by(
        MontantHospiconnect.finess_ej, MontantHospiconnect.annee, MontantHospiconnect.rang))).all()


async def decisions_courantes(session: AsyncSession, *, finess: str | None,
                              region: str | None) -> Sequence[DecisionHospiconnect]:
    return (await session.scalars(select(DecisionHospiconnect).where(_non_remplacees(), *_portee(
        finess, region, DecisionHospiconnect.finess, DecisionHospiconnect.finess_ej,
        DecisionHospiconnect.region)))).all()

"""Every query of the establishments slice: facts in, parc out, fiches in and out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_referentiel.etablissements import fiches as f
from hopen_referentiel.etablissements.rules import Etablissement, RoleGht
from hopen_referentiel.models import (
    ActiviteCombinee,
    Base,
    DomaineSunEs,
    EffectifSae,
    EntiteJuridique,
    EtablissementGeographique,
    FicheEtablissement,
    MembreGht,
)

# asyncpg caps a statement at 32 767 bind parameters: write in slices below that.
TAILLE_LOT = 2000


async def upsert(
    session: AsyncSession, modele: type[Base], lignes: Sequence[dict[str, Any]], cles: Sequence[str]
) -> None:
    """Insert or update rows of `modele` keyed on `cles`, in slices."""
    if not lignes:
        return
    colonnes = [c for c in lignes[0] if c not in cles]
    for debut in range(0, len(lignes), TAILLE_LOT):
        stmt = insert(modele).values(list(lignes[debut : debut + TAILLE_LOT]))
        stmt = stmt.on_conflict_do_update(
            index_elements=list(cles), set_={c: stmt.excluded[c] for c in colonnes}
        )
        await session.execute(stmt)


async def charger_parc(session: AsyncSession, campagne_ac: int = 2022) -> f.Parc:
    """Every fact, as the pure computation wants it (one query per table)."""
    entites = {
        e.finess: f.EntiteJuridique(e.finess, e.raison_sociale, e.statut_juridique, e.departement, e.ferme)
        for e in await session.scalars(select(EntiteJuridique))
    }
    membres = {m.finess_ej: (m.ght_code, RoleGht(m.role)) for m in await session.scalars(select(MembreGht))}
    statuts = {finess: e.statut_juridique for finess, e in entites.items()}
    etablissements = []
    for eg in await session.scalars(
        select(EtablissementGeographique).order_by(EtablissementGeographique.finess)
    ):
        membre = membres.get(eg.finess_ej)
        etablissements.append(
            Etablissement(
                finess_eg=eg.finess,
                finess_ej=eg.finess_ej,
                raison_sociale=eg.raison_sociale,
                statut_juridique=statuts[eg.finess_ej],
                categorie=eg.categorie,
                agregat_categorie=eg.agregat_categorie,
                departement=eg.departement,
                region="",
                ght_code=membre[0] if membre else None,
                ght_role=membre[1] if membre else None,
                ferme=eg.ferme,
            )
        )
    activites: dict[str, Decimal] = {
        a.finess_pmsi: a.valeur
        for a in await session.scalars(
            select(ActiviteCombinee).where(ActiviteCombinee.campagne == campagne_ac)
        )
    }
    effectifs: dict[str, dict[int, int]] = defaultdict(dict)
    for e in await session.scalars(select(EffectifSae)):
        effectifs[e.finess_eg][e.annee] = e.effectif
    domaines: dict[str, set[str]] = defaultdict(set)
    for d in await session.scalars(select(DomaineSunEs)):
        domaines[d.finess].add(d.domaine)
    return f.Parc(
        entites, etablissements, activites, effectifs, {k: frozenset(v) for k, v in domaines.items()}
    )


async def empreintes(session: AsyncSession) -> dict[str, tuple[str, dict[str, Any]]]:
    rows = await session.execute(
        select(FicheEtablissement.finess, FicheEtablissement.empreinte, FicheEtablissement.detail)
    )
    return {finess: (empreinte, detail) for finess, empreinte, detail in rows.tuples()}


async def enregistrer_fiches(session: AsyncSession, lignes: Iterable[dict[str, Any]]) -> None:
    await upsert(session, FicheEtablissement, list(lignes), ["finess"])


async def fiche(session: AsyncSession, finess: str) -> FicheEtablissement | None:
    return await session.get(FicheEtablissement, finess)


def filtrer(
    query: Select[Any],
    *,
    region: str | None = None,
    departement: str | None = None,
    categorie: str | None = None,
    secteur: str | None = None,
    ght: str | None = None,
    eligible_phase1: bool | None = None,
    niveau: str | None = None,
) -> Select[Any]:
    conditions = {
        FicheEtablissement.region: region,
        FicheEtablissement.departement: departement,
        FicheEtablissement.categorie: categorie,
        FicheEtablissement.secteur: secteur,
        FicheEtablissement.ght_code: ght,
        FicheEtablissement.eligible_phase1: eligible_phase1,
        FicheEtablissement.niveau: niveau,
    }
    for colonne, valeur in conditions.items():
        if valeur is not None:
            query = query.where(colonne == valeur)
    return query


async def lister_fiches(
    session: AsyncSession, limit: int, offset: int, **filtres: Any
) -> tuple[list[FicheEtablissement], int]:
    query = filtrer(select(FicheEtablissement), **filtres)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(FicheEtablissement.finess).limit(limit).offset(offset))
    return list(rows), total

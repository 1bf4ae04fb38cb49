"""Every query of the establishments slice: facts in, parc out, fiches in and out.

Bulk paths (a national import reads and writes ~275 000 rows) go through the asyncpg
connection under the session's transaction: `fetch` returns light records and COPY writes
thousands of rows per round trip, where ORM objects would cost seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.db import connexion_asyncpg
from hopen_referentiel.etablissements import fiches as f
from hopen_referentiel.etablissements.rules import Etablissement, NiveauFiness, RoleGht
from hopen_referentiel.models import Base, FicheEtablissement, Ght, MembreGht

# asyncpg caps a statement at 32 767 bind parameters: write in slices below that.
TAILLE_LOT = 2000


# The asyncpg connection of the session's transaction (COPY, bulk fetches).
connexion = connexion_asyncpg


async def upsert(
    session: AsyncSession, modele: type[Base], lignes: Sequence[dict[str, Any]], cles: Sequence[str]
) -> None:
    """Insert or update rows of `modele` keyed on `cles`, in slices (small loads: demo, GHT)."""
    if not lignes:
        return
    colonnes = [c for c in lignes[0] if c not in cles]
    for debut in range(0, len(lignes), TAILLE_LOT):
        stmt = insert(modele).values(list(lignes[debut : debut + TAILLE_LOT]))
        stmt = stmt.on_conflict_do_update(
            index_elements=list(cles), set_={c: stmt.excluded[c] for c in colonnes}
        )
        await session.execute(stmt)


def _filtre(colonne: str, entites: Collection[str] | None, rang: int = 1) -> str:
    return "" if entites is None else f" WHERE {colonne} = ANY(${rang}::text[])"


async def charger_parc(session: AsyncSession, entites: Collection[str] | None = None) -> f.Parc:
    """The facts of `entites` (FINESS EJ; None: all), as the pure computation wants them.

    Activity, staff and SUN-ES domains are read for every FINESS the EJ could be identified
    by (the EJ, its EG, their GHU); GHT supports for every GHT, wherever the support is."""
    cnx = await connexion(session)
    args: list[Any] = [] if entites is None else [list(entites)]
    entites_lues = {
        r["finess"]: f.EntiteJuridique(
            r["finess"], r["raison_sociale"], r["statut_juridique"], r["departement"], r["ferme"]
        )
        for r in await cnx.fetch(
            "SELECT finess, raison_sociale, statut_juridique, departement, ferme FROM entite_juridique"
            + _filtre("finess", entites), *args
        )
    }
    membres: dict[str, tuple[str, RoleGht]] = {}
    supports: dict[str, str] = {}
    for r in await cnx.fetch("SELECT finess_ej, ght_code, role FROM membre_ght"):
        role = RoleGht(r["role"])
        if r["finess_ej"] in entites_lues:
            membres[r["finess_ej"]] = (r["ght_code"], role)
        if role is RoleGht.SUPPORT:
            supports[r["ght_code"]] = r["finess_ej"]
    etablissements = []
    for r in await cnx.fetch(
        "SELECT finess, finess_ej, raison_sociale, categorie, agregat_categorie, departement, ferme "
        "FROM etablissement_geographique" + _filtre("finess_ej", entites) + " ORDER BY finess", *args
    ):
        membre = membres.get(r["finess_ej"])
        etablissements.append(
            Etablissement(
                finess_eg=r["finess"],
                finess_ej=r["finess_ej"],
                raison_sociale=r["raison_sociale"],
                statut_juridique=entites_lues[r["finess_ej"]].statut_juridique,
                categorie=r["categorie"],
                agregat_categorie=r["agregat_categorie"],
                departement=r["departement"],
                region="",
                ght_code=membre[0] if membre else None,
                ght_role=membre[1] if membre else None,
                ferme=r["ferme"],
            )
        )
    ghu: dict[str, str] = {}
    for r in await cnx.fetch("SELECT finess_eg, finess_ghu FROM rattachement_ghu"):
        ghu[r["finess_eg"]] = r["finess_ghu"]
    connus = None if entites is None else [
        *entites_lues, *(e.finess_eg for e in etablissements),
        *{ghu[e.finess_eg] for e in etablissements if e.finess_eg in ghu},
    ]
    arg_connus: list[Any] = [] if connus is None else [connus]
    activites: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for r in await cnx.fetch(
        "SELECT finess_pmsi, campagne, valeur FROM activite_combinee" + _filtre("finess_pmsi", connus),
        *arg_connus,
    ):
        activites[r["campagne"]][r["finess_pmsi"]] = r["valeur"]
    effectifs: dict[str, dict[int, int]] = defaultdict(dict)
    # A GHU's staff is the sum over its EG: read the staff of every EG of the GHU concerned.
    egs_ghu = None
    if connus is not None:
        ensemble = set(connus)
        egs_ghu = connus + [eg for eg, g in ghu.items() if g in ensemble]
    for r in await cnx.fetch(
        "SELECT finess_eg, annee, effectif FROM effectif_sae" + _filtre("finess_eg", egs_ghu),
        *([] if egs_ghu is None else [egs_ghu]),
    ):
        effectifs[r["finess_eg"]][r["annee"]] = r["effectif"]
    domaines: dict[str, set[str]] = defaultdict(set)
    for r in await cnx.fetch(
        "SELECT finess, domaine FROM domaine_sun_es" + _filtre("finess", connus), *arg_connus
    ):
        domaines[r["finess"]].add(r["domaine"])
    exceptions = {
        r["finess_ej"]: NiveauFiness(r["niveau_pmsi"])
        for r in await cnx.fetch(
            "SELECT finess_ej, niveau_pmsi FROM exception_finess_pmsi" + _filtre("finess_ej", entites), *args
        )
    }
    return f.Parc(
        entites=entites_lues,
        etablissements=etablissements,
        activites_2022=activites.get(f.CAMPAGNE_PHASE1, {}),
        effectifs=effectifs,
        domaines_sun_es={k: frozenset(v) for k, v in domaines.items()},
        activites_2024=activites.get(f.CAMPAGNE_PHASE2, {}),
        ghu=ghu,
        exceptions_pmsi=exceptions,
        membres_ght=membres,
        supports_ght=supports,
    )


async def entites_du_perimetre(
    session: AsyncSession, entites: Collection[str] | None, secteurs: list[str], categories: list[str],
    *, touchees: bool = False,
) -> list[str]:
    """The EJ (among `entites`, or those an import marked when `touchees`; else all) of the
    programme's perimeter (see `fiches.dans_le_perimetre`), sorted."""
    cnx = await connexion(session)
    filtre = "" if entites is None else " AND e.finess = ANY($3::text[])"
    if touchees:
        filtre += " AND e.finess IN (SELECT finess FROM ej_touchees)"
    rows = await cnx.fetch(
        "SELECT e.finess FROM entite_juridique e WHERE e.statut_juridique = ANY($1::text[]) AND EXISTS "
        "(SELECT 1 FROM etablissement_geographique g WHERE g.finess_ej = e.finess "
        "AND g.categorie = ANY($2::text[]))" + filtre + " ORDER BY e.finess",
        secteurs, categories, *([] if entites is None else [list(entites)]),
    )
    return [r[0] for r in rows]


async def retirer_fiches_hors_perimetre(
    session: AsyncSession, entites: Collection[str] | None, perimetre: list[str], *, touchees: bool = False
) -> int:
    cnx = await connexion(session)
    filtre = "" if entites is None else " AND finess_ej = ANY($2::text[])"
    if touchees:
        filtre += " AND finess_ej IN (SELECT finess FROM ej_touchees)"
    statut = await cnx.execute(
        "DELETE FROM fiche_etablissement WHERE NOT (finess_ej = ANY($1::text[]))" + filtre,
        perimetre, *([] if entites is None else [list(entites)]),
    )
    return int(statut.split()[-1])


async def retirer_fiches(session: AsyncSession, finess: Collection[str]) -> None:
    """Fiches the computation no longer gives under their EJ (an EG that moved to another EJ
    is filed again under its new one)."""
    if finess:
        cnx = await connexion(session)
        await cnx.execute("DELETE FROM fiche_etablissement WHERE finess = ANY($1::text[])", list(finess))


async def ej_du_finess(session: AsyncSession, finess: str) -> str | None:
    cnx = await connexion(session)
    valeur: str | None = await cnx.fetchval(
        "SELECT finess FROM entite_juridique WHERE finess = $1 "
        "UNION SELECT finess_ej FROM etablissement_geographique WHERE finess = $1 LIMIT 1", finess
    )
    return valeur


async def empreintes(session: AsyncSession, entites: Collection[str] | None = None) -> dict[str, str]:
    cnx = await connexion(session)
    rows = await cnx.fetch(
        "SELECT finess, empreinte FROM fiche_etablissement" + _filtre("finess_ej", entites),
        *([] if entites is None else [list(entites)]),
    )
    return {r["finess"]: r["empreinte"] for r in rows}


_COLONNES_FICHE = (
    "finess", "niveau", "finess_ej", "raison_sociale", "departement", "region", "secteur", "categorie",
    "ght_code", "finess_pmsi", "activite_combinee", "eligible_phase1", "eligible_hospiconnect",
    "eligible_aap", "ferme", "detail", "empreinte", "calcule_le",
)


async def enregistrer_fiches(session: AsyncSession, lignes: Sequence[tuple[Any, ...]]) -> None:
    """Write changed fiches: COPY into a staging table, then one upsert."""
    if not lignes:
        return
    cnx = await connexion(session)
    await cnx.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stg_fiche (LIKE fiche_etablissement) ON COMMIT DELETE ROWS"
    )
    await cnx.execute("TRUNCATE stg_fiche")
    await cnx.copy_records_to_table("stg_fiche", records=lignes, columns=_COLONNES_FICHE)
    miseajour = ", ".join(f"{c} = excluded.{c}" for c in _COLONNES_FICHE if c != "finess")
    colonnes = ", ".join(_COLONNES_FICHE)
    await cnx.execute(
        f"INSERT INTO fiche_etablissement ({colonnes}) SELECT {colonnes} FROM stg_fiche "
        f"ON CONFLICT (finess) DO UPDATE SET {miseajour}"
    )


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
    eligible_hospiconnect: bool | None = None,
    eligible_aap: bool | None = None,
    niveau: str | None = None,
) -> Select[Any]:
    conditions = {
        FicheEtablissement.region: region,
        FicheEtablissement.departement: departement,
        FicheEtablissement.categorie: categorie,
        FicheEtablissement.secteur: secteur,
        FicheEtablissement.ght_code: ght,
        FicheEtablissement.eligible_phase1: eligible_phase1,
        FicheEtablissement.eligible_hospiconnect: eligible_hospiconnect,
        FicheEtablissement.eligible_aap: eligible_aap,
        FicheEtablissement.niveau: niveau,
    }
    for colonne, valeur in conditions.items():
        if valeur is not None:
            query = query.where(colonne == valeur)
    return query


async def lister_fiches(
    session: AsyncSession, limit: int, offset: int, **filtres: Any
) -> tuple[list[dict[str, Any]], int]:
    query = filtrer(select(FicheEtablissement.detail), **filtres)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(FicheEtablissement.finess).limit(limit).offset(offset))
    return list(rows), total


async def ght(session: AsyncSession, code: str) -> tuple[Ght, list[MembreGht]] | None:
    groupe = await session.get(Ght, code)
    if groupe is None:
        return None
    membres = await session.scalars(
        select(MembreGht).where(MembreGht.ght_code == code)
        .order_by(MembreGht.role.desc(), MembreGht.finess_ej)
    )
    return groupe, list(membres)


async def lister_ghts(session: AsyncSession, limit: int, offset: int) -> tuple[list[Ght], int]:
    total = await session.scalar(select(func.count()).select_from(Ght)) or 0
    rows = await session.scalars(select(Ght).order_by(Ght.code).limit(limit).offset(offset))
    return list(rows), total

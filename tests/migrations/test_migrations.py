"""Every service's migrations: head matches the models (alembic check), and the history goes
down to nothing and up again on a real PostgreSQL."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hopen_common.devstack.stack import SERVICES, find_repo_root


def _alembic(service: str, url: str, *args: str) -> str:
    racine = find_repo_root()
    resultat = subprocess.run(
        [str(racine / ".venv" / "bin" / "alembic"), "-c", "alembic.ini", *args],
        cwd=racine / "services" / service, capture_output=True, text=True, timeout=180,
        env={"PATH": "/usr/bin:/bin", f"{service.upper()}_DATABASE_URL": url,
             f"{service.upper()}_ENVIRONMENT": "test"},
    )
    assert resultat.returncode == 0, f"alembic {' '.join(args)}: {resultat.stdout}\n{resultat.stderr}"
    return resultat.stdout + resultat.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_aller_retour(service: str, fresh_database: Callable[[str], str]) -> None:
    assert (Path(find_repo_root()) / "services" / service / "alembic.ini").exists()
    url = fresh_database(service)  # upgraded to head
    assert "No new upgrade operations detected" in _alembic(service, url, "check")
    _alembic(service, url, "downgrade", "base")
    assert _alembic(service, url, "current").strip() == ""
    _alembic(service, url, "upgrade", "head")
    assert "(head)" in _alembic(service, url, "current")


@pytest.mark.parametrize("service", SERVICES)
def test_journal_d_audit_immuable(service: str, fresh_database: Callable[[str], str]) -> None:
    """Who did what stays written: the database itself refuses to edit or empty the journal."""
    import asyncpg

    from hopen_common.devstack._util import run_async

    async def essayer() -> None:
        conn = await asyncpg.connect(fresh_database(service).replace("postgresql+asyncpg", "postgresql"))
        try:
            await conn.execute(
                "INSERT INTO journal_audit (acteur, role, action, objet_type, objet_id, details)"
                " VALUES ('test', 'test', 'essai', 'test', '1', '{}')")
            for ordre in ("UPDATE journal_audit SET acteur = 'autre'", "DELETE FROM journal_audit",
                          "TRUNCATE journal_audit"):
                with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immuable"):
                    await conn.execute(ordre)
            assert await conn.fetchval("SELECT acteur FROM journal_audit") == "test"
        finally:
            await conn.close()

    run_async(essayer())

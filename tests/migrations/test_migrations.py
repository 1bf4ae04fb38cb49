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
        env={"PATH": "/usr/bin:/bin", f"{service.upper()}_DATABASE_URL": url},
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

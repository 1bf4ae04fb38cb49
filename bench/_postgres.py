"""PostgreSQL for a benchmark: a private cluster (or the one given by --pg-port) and fresh databases
migrated to a service's head, shared by the bench scripts (run as `python bench/<name>.py`)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from hopen_common.devstack._util import free_port, run_async
from hopen_common.devstack.postgres import PostgresCluster, ensure_database_async
from hopen_common.devstack.stack import find_repo_root


def grappe_de_banc(pg_port: int | None, dossier: Path, *,
                   fast: bool) -> tuple[str, int, PostgresCluster | None]:
    """(admin DSN, port, the cluster to stop or None): a cluster of our own under `dossier` unless
    `pg_port` names a running one. `fast` turns fsync off (a bench of commits wants it on)."""
    if pg_port is not None:
        admin = os.environ.get("HOPEN_TEST_POSTGRES_ADMIN_DSN",
                               f"postgresql://postgres:postgres@127.0.0.1:{pg_port}/postgres")
        return admin, pg_port, None
    cluster = PostgresCluster(dossier / "pg", port=free_port(), fast=fast)
    cluster.start()
    cluster.ensure_role("hopen", "hopen")
    return cluster.admin_dsn(), cluster.port, cluster


def base_migree(admin: str, port: int, service: str, prefixe: str) -> str:
    """A new database `<prefixe>_<random>` migrated to `service`'s head; its SQLAlchemy URL. The
    migration runs as development (the settings default to production, which wants an IdP)."""
    nom = f"{prefixe}_{uuid.uuid4().hex[:8]}"
    run_async(ensure_database_async(admin, nom, "hopen"))
    url = f"postgresql+asyncpg://hopen:hopen@127.0.0.1:{port}/{nom}"
    prefixe_env = service.upper()
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"],
                   cwd=find_repo_root() / "services" / service, check=True, capture_output=True,
                   env={**os.environ, f"{prefixe_env}_DATABASE_URL": url,
                        f"{prefixe_env}_ENVIRONMENT": "development"})
    return url

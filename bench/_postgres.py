"""PostgreSQL for a benchmark: a private cluster (or the one given by --pg-port) and fresh databases
migrated to a service's head; or the whole native stack. Shared by the bench scripts (run as
`python bench/<name>.py`)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from hopen_common.devstack._util import free_port, run_async
from hopen_common.devstack.postgres import PostgresCluster, ensure_database_async
from hopen_common.devstack.stack import SERVICES, Stack, StackConfig, find_repo_root


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


@contextlib.contextmanager
def pile_native(dossier: Path, console: Console) -> Iterator[dict[str, str]]:
    """The whole native stack (PostgreSQL with fsync on, Kafka, the five services and their demo data)
    under `dossier` on free ports, as `make up` starts it: the services' base URLs, until the block
    ends."""
    ports = {s: free_port() for s in SERVICES}
    config = StackConfig(root=find_repo_root(), data_dir=dossier, pg_port=free_port(),
                         kafka_port=free_port(), kafka_controller_port=free_port(), service_ports=ports,
                         pg_fast=False)
    stack = Stack(config, console)
    stack.up()
    try:
        yield {s: config.base_url(s) for s in SERVICES}
    finally:
        stack.stop()

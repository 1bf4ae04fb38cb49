"""An existing cluster directory is reused: data survives a restart."""

from __future__ import annotations

from pathlib import Path

from hopen_common.devstack._util import free_port, run_async
from hopen_common.devstack.postgres import PostgresCluster


async def _roundtrip(dsn: str, sql: str) -> object:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def test_cluster_data_survives_restart(tmp_path: Path) -> None:
    cluster = PostgresCluster(tmp_path / "pg", port=free_port(), fast=True)
    cluster.start()
    try:
        cluster.start()  # idempotent while running
        cluster.ensure_role("hopen", "hopen")
        assert cluster.ensure_database("hopen_x", "hopen") is True
        run_async(_roundtrip(cluster.dsn("hopen", "hopen", "hopen_x"),
                             "create table t as select 42 as v"))
        cluster.stop()
        assert cluster.running_pid() is None
        cluster.start()
        assert cluster.ensure_database("hopen_x", "hopen") is False
        assert run_async(_roundtrip(cluster.dsn("hopen", "hopen", "hopen_x"),
                                    "select v from t")) == 42
    finally:
        cluster.stop()
    assert cluster.running_pid() is None

"""The body of every service's migrations/env.py (async engine, online and offline)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def run_migrations(service_metadata: MetaData, database_url: str) -> None:
    from hopen_common.db import messaging  # noqa: F401  (registers the shared tables)
    from hopen_common.db.base import MessagingBase

    target_metadata = [service_metadata, MessagingBase.metadata]
    if context.is_offline_mode():
        context.configure(url=database_url, target_metadata=target_metadata,
                          literal_binds=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def _do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def _run() -> None:
        engine = create_async_engine(database_url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(_do_run)
        await engine.dispose()

    asyncio.run(_run())

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


async def connexion_asyncpg(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's transaction, for COPY and bulk fetches."""
    brute = await (await session.connection()).get_raw_connection()
    return brute.driver_connection


def build_engine(database_url: str, *, pool_size: int = 5) -> AsyncEngine:
    return create_async_engine(database_url, pool_size=pool_size, pool_pre_ping=True)


def build_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """The one transaction boundary: commit on success, roll back on any error."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: the request owns the transaction; services only flush()."""
    async with session_scope(request.app.state.sessionmaker) as session:
        yield session


# scope="function": commit happens before the response is sent, so a 201 means stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

from __future__ import annotations

import errno
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.exc import DBAPIError
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


# SQLSTATEs that say the server, not the statement, failed: connection exceptions (class 08), and the
# server shutting down or starting up (admin shutdown, crash shutdown, cannot connect now).
_SQLSTATE_CONNEXION = "08"
_SQLSTATE_ARRET = frozenset({"57P01", "57P02", "57P03"})
# Socket errors before PostgreSQL said anything (asyncio's "Multiple exceptions" OSError, when every
# address of a host refused, carries no errno and is not one).
_ERRNOS_RESEAU = frozenset({errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE,
                            errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT})


def connexion_perdue(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps) says the database could not be reached or dropped the
    connection: an outage of the server, which says nothing about the statement or the data. Callers
    that count failures against their input (the consumer's attempts) must not count these.

    Narrow on purpose: what it calls an outage is retried until the database is back, so an error of
    the data (asyncpg's DataError is an InterfaceError, a constraint violation a PostgresError) must
    stay a failure of the event, parked after its attempts, or it would stall its partition forever."""
    vus: set[int] = set()
    en_cours: list[BaseException | None] = [exc]
    while en_cours:
        courante = en_cours.pop()
        if courante is None or id(courante) in vus:
            continue
        vus.add(id(courante))
        if isinstance(courante, DBAPIError) and courante.connection_invalidated:
            return True
        # TimeoutError: a connect that got no answer (the handlers do database work only).
        if isinstance(courante, ConnectionError | TimeoutError | socket.gaierror):
            return True
        if isinstance(courante, OSError) and courante.errno in _ERRNOS_RESEAU:
            return True
        etat = getattr(courante, "sqlstate", None)
        if isinstance(etat, str) and (etat.startswith(_SQLSTATE_CONNEXION) or etat in _SQLSTATE_ARRET):
            return True
        en_cours += [courante.__cause__, courante.__context__, getattr(courante, "orig", None)]
    return False


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

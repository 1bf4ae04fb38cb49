"""What the consumer calls a database outage (retried until the database is back, never counted
against the event) and what stays a failure of the event (parked after its attempts): ADR 0028."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from hopen_common.db.session import connexion_perdue


def _enveloppe(cause: BaseException, *, invalidee: bool = False) -> DBAPIError:
    """As SQLAlchemy raises a driver error: wrapped, the driver's error as `orig` and as cause."""
    try:
        raise DBAPIError("SELECT 1", None, cause, connection_invalidated=invalidee) from cause
    except DBAPIError as exc:
        return exc


@pytest.mark.parametrize("exc", [
    ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
    ConnectionResetError(104, "Connection reset by peer"),
    TimeoutError(),
    OSError(113, "No route to host"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    _enveloppe(asyncpg.ConnectionDoesNotExistError("closed")),
    _enveloppe(ValueError("whatever the driver said"), invalidee=True),
], ids=lambda e: type(e).__name__)
def test_une_panne_de_la_base(exc: BaseException) -> None:
    assert connexion_perdue(exc)


@pytest.mark.parametrize("exc", [
    # asyncpg's DataError (a bad argument, i.e. the event's content) is an InterfaceError: not an outage.
    asyncpg.DataError("invalid input for query argument $1"),
    asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
    asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
    IntegrityError("INSERT", None, asyncpg.ForeignKeyViolationError("fk")),
    _enveloppe(asyncpg.DataError("invalid input")),
    OSError("Multiple exceptions: no errno"),
    ValueError("a handler's bug"),
], ids=lambda e: type(e).__name__)
def test_une_erreur_de_l_evenement(exc: BaseException) -> None:
    assert not connexion_perdue(exc)

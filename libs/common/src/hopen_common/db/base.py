from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so that every service's migrations name things the same way.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """Each service declares its own Base on its own MetaData: services never share tables,
    and several services can be imported in one process (tests) without name clashes."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class MessagingBase(DeclarativeBase):
    """The tables every service database has (outbox, inbox, dead letters, audit)."""

    metadata = new_metadata()


def utcnow() -> datetime:
    return datetime.now(UTC)


def table_de(modele: type[Any]) -> Table:
    """A mapped class's table, for Core statements on a hot path (built once, executed with plain
    parameters: no ORM bookkeeping per row). Typed as the Table it is (the ORM declares a FromClause)."""
    return cast(Table, modele.__table__)

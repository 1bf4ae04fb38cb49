"""Async database plumbing: metadata per service, engine/session factories, request session."""

from hopen_common.db.base import MessagingBase, new_metadata, table_de, utcnow
from hopen_common.db.session import (
    SessionDep,
    build_engine,
    build_sessionmaker,
    connexion_asyncpg,
    get_session,
    session_scope,
)

__all__ = [
    "MessagingBase",
    "SessionDep",
    "build_engine",
    "build_sessionmaker",
    "connexion_asyncpg",
    "get_session",
    "new_metadata",
    "session_scope",
    "table_de",
    "utcnow",
]

"""Test support shared by every service's tests.

The pytest plugin :mod:`hopen_common.testing.plugin` (loaded from the root pyproject with
``-p hopen_common.testing.plugin``) provides real infrastructure, started lazily:

* ``postgres_server`` (session) -> :class:`PostgresServerInfo`
* ``kafka_bootstrap`` (session) -> ``"127.0.0.1:<port>"``
* ``fresh_database`` (session factory) -> ``fresh_database("candidature")`` returns the
  ``postgresql+asyncpg://`` URL of a new, migrated database
* ``running_stack`` (session) -> :class:`RunningStack` (the five services, seeded)

Reuse servers already running with ``HOPEN_TEST_POSTGRES_PORT`` (and optionally
``HOPEN_TEST_POSTGRES_ADMIN_DSN``) and ``HOPEN_TEST_KAFKA_BOOTSTRAP``.
"""

from __future__ import annotations

from hopen_common.testing.outils import GestionnaireHttp, finalement, jeton, serveur_http_local
from hopen_common.testing.plugin import PostgresServerInfo, RunningStack

__all__ = ["GestionnaireHttp", "PostgresServerInfo", "RunningStack", "finalement", "jeton",
           "serveur_http_local"]

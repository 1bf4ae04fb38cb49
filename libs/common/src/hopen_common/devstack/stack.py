"""Orchestration of the native local stack, shared by ``hopen up`` and the test plugin.

Order: PostgreSQL -> Kafka -> role + databases -> migrations -> demo seed -> the five
services (uvicorn, one process group each) -> wait for ``/health/ready``. ``stop()``
reverses it: services first, then Kafka, then PostgreSQL (only what this Stack started).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
from rich.console import Console

from hopen_common.devstack._util import pid_alive, port_in_use, run_async, stop_process_group, tail
from hopen_common.devstack.kafka import KafkaBroker, ensure_topics_async
from hopen_common.devstack.oidc import OidcProvider
from hopen_common.devstack.postgres import (
    PostgresCluster,
    ensure_database_async,
    ensure_role_async,
)
from hopen_common.devstack.seaweedfs import DEV_ACCESS_KEY, DEV_SECRET_KEY, SeaweedServer
from hopen_common.devstack.smtp import SmtpServer

SERVICES: tuple[str, ...] = ("referentiel", "candidature", "instruction", "financement", "reporting")
DEFAULT_SERVICE_PORTS: dict[str, int] = {
    "referentiel": 8001,
    "candidature": 8002,
    "instruction": 8003,
    "financement": 8004,
    "reporting": 8005,
}
DB_USER = "hopen"
DB_PASSWORD = "hopen"


class StackError(RuntimeError):
    pass


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest directory holding ``uv.lock``, from ``start`` (cwd) then from this file."""
    candidates = [Path(start or Path.cwd()).resolve(), Path(__file__).resolve().parent]
    for base in candidates:
        for directory in (base, *base.parents):
            if (directory / "uv.lock").is_file():
                return directory
    raise StackError("cannot find the repository root (no uv.lock above the current directory)")


def _default_venv(root: Path) -> Path:
    venv = root / ".venv"
    return venv if (venv / "bin" / "python").exists() else Path(sys.prefix)


@dataclass
class StackConfig:
    root: Path
    data_dir: Path
    pg_port: int = 54329
    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    service_ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_SERVICE_PORTS))
    extra_env: dict[str, str] = field(default_factory=dict)
    calendrier_ouvert: bool = True
    database_suffix: str = ""  # tests: unique names so reused servers never collide
    pg_fast: bool = False  # fsync off (tests)
    venv: Path | None = None
    ready_timeout: float = 90.0
    pg_host: str = "127.0.0.1"
    kafka_bootstrap: str | None = None  # external broker (tests); None = ours
    # Pieces storage (ADR 0011): None = files under <data_dir>/stockage/<service>; a port =
    # SeaweedFS's S3 gateway started by the stack there, bucket "hopen", a prefix per service.
    s3_port: int | None = None
    s3_bucket: str = "hopen"
    # Mail (ADR 0017): a port = an aiosmtpd keeping every mail in <data_dir>/smtp/Maildir.
    smtp_port: int | None = None
    # Identity (ADR 0019): a port = a real OIDC provider (node oidc-provider, deploy/oidc) whose
    # issuer every service trusts (besides the development issuer of `hopen token`).
    oidc_port: int | None = None

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self.data_dir = Path(self.data_dir).resolve()
        if self.venv is None:
            self.venv = _default_venv(self.root)

    # paths
    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"

    @property
    def kafka_data_dir(self) -> Path:
        return self.data_dir / "kafka"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def seaweedfs_data_dir(self) -> Path:
        return self.data_dir / "seaweedfs"

    @property
    def seaweedfs_home(self) -> Path:
        return self.root / "deploy" / "seaweedfs"

    @property
    def kafka_home(self) -> Path:
        return self.root / "deploy" / "kafka"

    @property
    def oidc_issuer(self) -> str | None:
        return None if self.oidc_port is None else f"http://127.0.0.1:{self.oidc_port}"

    @property
    def services(self) -> list[str]:
        return [s for s in SERVICES if s in self.service_ports]

    def bin(self, name: str) -> Path:
        assert self.venv is not None
        return self.venv / "bin" / name

    # contracts (ADR 0001)
    @property
    def bootstrap(self) -> str:
        return self.kafka_bootstrap or f"127.0.0.1:{self.kafka_port}"

    def database_name(self, service: str) -> str:
        return f"hopen_{service}{self.database_suffix}"

    def database_url(self, service: str, database: str | None = None) -> str:
        db = database or self.database_name(service)
        return f"postgresql+asyncpg://{DB_USER}:{DB_PASSWORD}@{self.pg_host}:{self.pg_port}/{db}"

    def base_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.service_ports[service]}"

    def service_env(self, service: str, database: str | None = None) -> dict[str, str]:
        """The process environment of one service (and of its migrations / seed)."""
        prefix = service.upper() + "_"
        env = dict(os.environ)
        # The settings default to production (which refuses the development tokens): the dev stack
        # says what it is, unless the caller's environment already does (the tests say "test").
        env.setdefault(f"{prefix}ENVIRONMENT", "development")
        env.update({
            f"{prefix}DATABASE_URL": self.database_url(service, database),
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            f"{prefix}CALENDRIER_OUVERT": "true" if self.calendrier_ouvert else "false",
            "PYTHONUNBUFFERED": "1",
        })
        # Where the other services answer, for the synchronous queries a user waits on (instruction's
        # dry run of a lot asks financement: INSTRUCTION_FINANCEMENT_URL).
        env.update({f"{prefix}{autre.upper()}_URL": self.base_url(autre)
                    for autre in self.service_ports if autre != service})
        if self.s3_port is None:
            env[f"{prefix}STOCKAGE_URL"] = (self.data_dir / "stockage" / service).as_uri()
        else:
            env.update({
                f"{prefix}STOCKAGE_URL": f"s3://{self.s3_bucket}/{service}",
                f"{prefix}STOCKAGE_S3_ENDPOINT": f"http://127.0.0.1:{self.s3_port}",
                f"{prefix}STOCKAGE_S3_ACCESS_KEY": DEV_ACCESS_KEY,
                f"{prefix}STOCKAGE_S3_SECRET_KEY": DEV_SECRET_KEY,
            })
        if self.smtp_port is not None:
            env.update({f"{prefix}SMTP_HOTE": "127.0.0.1", f"{prefix}SMTP_PORT": str(self.smtp_port)})
        if self.oidc_issuer is not None:
            import json

            env[f"{prefix}JWT_EMETTEURS"] = json.dumps({self.oidc_issuer: f"{self.oidc_issuer}/jwks"})
        if service == "instruction":
            # Webhooks (ADR 0026): a developer points a subscription at a receiver on this machine;
            # every other private address stays refused.
            env[f"{prefix}WEBHOOKS_DESTINATIONS_PERMISES"] = '["127.0.0.1/32"]'
        secret = os.environ.get("HOPEN_JWT_SECRET")
        if secret:
            env.setdefault(f"{prefix}JWT_SECRET", secret)
        env.update(self.extra_env)
        return env


def module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def run_migrations(config: StackConfig, service: str, database: str | None = None) -> bool:
    """``alembic upgrade head`` for one service; False (skipped) if it has no alembic.ini."""
    ini = config.root / "services" / service / "alembic.ini"
    if not ini.exists():
        return False
    config.logs_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(config.bin("alembic")), "-c", str(ini), "upgrade", "head"],
        cwd=ini.parent, env=config.service_env(service, database),
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise StackError(
            f"migrations of {service} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return True


class Stack:
    """PostgreSQL + Kafka + the five services. Infra can be external (tests pass theirs)."""

    def __init__(
        self,
        config: StackConfig,
        console: Console | None = None,
        *,
        manage_postgres: bool = True,
        manage_kafka: bool = True,
        admin_dsn: str | None = None,
    ) -> None:
        self.config = config
        self.console = console or Console(stderr=True)
        self.pg: PostgresCluster | None = (
            PostgresCluster(config.pg_dir, config.pg_port, host=config.pg_host, fast=config.pg_fast)
            if manage_postgres else None
        )
        self.kafka: KafkaBroker | None = (
            KafkaBroker(config.kafka_data_dir, config.kafka_port, config.kafka_controller_port,
                        config.kafka_home, log_file=config.logs_dir / "kafka.log")
            if manage_kafka else None
        )
        self.seaweed: SeaweedServer | None = (
            SeaweedServer(config.seaweedfs_data_dir, config.seaweedfs_home, s3_port=config.s3_port,
                          log_file=config.logs_dir / "seaweedfs.log")
            if config.s3_port is not None else None
        )
        self.smtp: SmtpServer | None = (
            SmtpServer(config.data_dir / "smtp", config.smtp_port, python=config.bin("python"),
                       log_file=config.logs_dir / "smtp.log")
            if config.smtp_port is not None else None
        )
        self.oidc: OidcProvider | None = (
            OidcProvider(config.data_dir / "oidc", config.oidc_port, config.root / "deploy" / "oidc",
                         log_file=config.logs_dir / "oidc.log")
            if config.oidc_port is not None else None
        )
        if admin_dsn is None:
            if self.pg is None:
                raise ValueError("admin_dsn is required with an external PostgreSQL")
            admin_dsn = self.pg.admin_dsn()
        self.admin_dsn = admin_dsn
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._log_fhs: list[IO[bytes]] = []
        self.skipped: list[str] = []
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------------ output
    def _info(self, msg: str) -> None:
        self.console.print(msg, highlight=False)

    def _warn(self, msg: str) -> None:
        self.console.print(f"[yellow]warning:[/yellow] {msg}", highlight=False)

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[None]:
        start = time.monotonic()
        if self.console.is_terminal:
            with self.console.status(f"{label}..."):
                yield
        else:
            yield
        elapsed = time.monotonic() - start
        self.timings[label] = elapsed
        self._info(f"[green]✓[/green] {label} [dim]({elapsed:.1f}s)[/dim]")

    # ------------------------------------------------------------------ steps
    def start_infra(self) -> None:
        cfg = self.config
        for d in (cfg.data_dir, cfg.logs_dir, cfg.run_dir):
            d.mkdir(parents=True, exist_ok=True)
        if self.pg is not None:
            with self.step(f"PostgreSQL on 127.0.0.1:{cfg.pg_port}"):
                self.pg.start()
        if self.kafka is not None:
            with self.step(f"Kafka on {cfg.bootstrap}"):
                self.kafka.start()
        if self.seaweed is not None:
            with self.step(f"SeaweedFS S3 on 127.0.0.1:{cfg.s3_port}"):
                self.seaweed.start()
                self.seaweed.create_bucket(cfg.s3_bucket)
        if self.smtp is not None:
            with self.step(f"SMTP (aiosmtpd, Maildir) on 127.0.0.1:{cfg.smtp_port}"):
                self.smtp.start()
        if self.oidc is not None:
            with self.step(f"OIDC provider (oidc-provider), issuer {cfg.oidc_issuer}"):
                from hopen_common.devstack.oidc import kill_stale

                kill_stale(self.oidc.data_dir)
                self.oidc.start()

    def create_topics(self) -> None:
        """Every domain topic exists before a consumer subscribes (no auto-creation race)."""
        from hopen_common.contracts.topics import tous_les_topics

        noms = tous_les_topics(SERVICES)
        with self.step("Kafka topics"):
            run_async(ensure_topics_async(self.config.bootstrap, noms))

    def create_databases(self) -> None:
        async def _create() -> None:
            await ensure_role_async(self.admin_dsn, DB_USER, DB_PASSWORD)
            for service in self.config.services:
                await ensure_database_async(
                    self.admin_dsn, self.config.database_name(service), DB_USER
                )

        with self.step("role hopen and databases"):
            run_async(_create())

    def migrate(self) -> None:
        cfg = self.config
        cfg.logs_dir.mkdir(parents=True, exist_ok=True)
        with self.step("migrations"):
            procs: dict[str, subprocess.Popen[str]] = {}
            for service in cfg.services:
                ini = cfg.root / "services" / service / "alembic.ini"
                if not ini.exists():
                    self._warn(f"{service}: no {ini.relative_to(cfg.root)} yet, migrations skipped")
                    continue
                procs[service] = subprocess.Popen(
                    [str(cfg.bin("alembic")), "-c", str(ini), "upgrade", "head"],
                    cwd=ini.parent, env=cfg.service_env(service), text=True,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            failures = []
            for service, proc in procs.items():
                out, _ = proc.communicate()
                (cfg.logs_dir / f"{service}-migrations.log").write_text(out or "")
                if proc.returncode != 0:
                    failures.append(f"--- {service} (exit {proc.returncode}) ---\n{out[-3000:]}")
            if failures:
                raise StackError("migrations failed:\n" + "\n".join(failures))

    def seed(self) -> None:
        cfg = self.config
        if "referentiel" not in cfg.services:
            return
        if not module_exists("hopen_referentiel.seed_demo"):
            self._warn("hopen_referentiel.seed_demo does not exist yet, demo seed skipped")
            return
        cfg.logs_dir.mkdir(parents=True, exist_ok=True)
        with self.step("demo data (hopen_referentiel.seed_demo)"):
            result = subprocess.run(
                [str(cfg.bin("python")), "-m", "hopen_referentiel.seed_demo"],
                cwd=cfg.root / "services" / "referentiel", env=cfg.service_env("referentiel"),
                capture_output=True, text=True, stdin=subprocess.DEVNULL,
            )
            (cfg.logs_dir / "referentiel-seed.log").write_text(result.stdout + result.stderr)
            if result.returncode != 0:
                raise StackError(
                    f"demo seed failed ({result.returncode}):\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
                )

    def start_services(self) -> None:
        cfg = self.config
        to_start = []
        for service in cfg.services:
            if not module_exists(f"hopen_{service}.main"):
                self._warn(f"hopen_{service}.main does not exist yet, service skipped")
                self.skipped.append(service)
                continue
            to_start.append(service)
        for service in to_start:
            self._kill_stale_service(service)
        busy = [f"{s}:{cfg.service_ports[s]}" for s in to_start if port_in_use(cfg.service_ports[s])]
        if busy:
            raise StackError(f"ports already in use: {', '.join(busy)}")
        cfg.logs_dir.mkdir(parents=True, exist_ok=True)
        cfg.run_dir.mkdir(parents=True, exist_ok=True)
        with self.step(f"services {', '.join(to_start)} ready"):
            for service in to_start:
                log = (cfg.logs_dir / f"{service}.log").open("ab")
                self._log_fhs.append(log)
                proc = subprocess.Popen(
                    [str(cfg.bin("uvicorn")), f"hopen_{service}.main:create_app", "--factory",
                     "--host", "127.0.0.1", "--port", str(cfg.service_ports[service])],
                    cwd=cfg.root / "services" / service, env=cfg.service_env(service),
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
                self.procs[service] = proc
                (cfg.run_dir / f"{service}.pid").write_text(f"{proc.pid}\n")
            self.wait_ready()

    def wait_ready(self) -> None:
        cfg = self.config
        pending = set(self.procs)
        deadline = time.monotonic() + cfg.ready_timeout
        last: dict[str, str] = {}
        with httpx.Client(timeout=3.0) as client:
            while pending:
                for service in sorted(pending):
                    proc = self.procs[service]
                    if proc.poll() is not None:
                        raise StackError(
                            f"service {service} exited with code {proc.returncode}\n"
                            f"--- {cfg.logs_dir / f'{service}.log'} ---\n"
                            f"{tail(cfg.logs_dir / f'{service}.log')}"
                        )
                    try:
                        resp = client.get(f"{cfg.base_url(service)}/health/ready")
                    except httpx.HTTPError as exc:
                        last[service] = repr(exc)
                        continue
                    if resp.status_code == 200:
                        pending.discard(service)
                    else:
                        last[service] = f"{resp.status_code} {resp.text[:300]}"
                if not pending:
                    break
                if time.monotonic() >= deadline:
                    details = "\n".join(
                        f"--- {s}: last answer {last.get(s, '-')}\n"
                        f"{tail(cfg.logs_dir / f'{s}.log')}"
                        for s in sorted(pending)
                    )
                    raise StackError(
                        f"not ready after {cfg.ready_timeout:.0f}s: {', '.join(sorted(pending))}\n"
                        + details
                    )
                time.sleep(0.3)

    def up(self) -> None:
        """Everything, in order. On failure, whatever was started is stopped again."""
        try:
            self.start_infra()
            self.create_topics()
            self.create_databases()
            self.migrate()
            self.seed()
            self.start_services()
        except BaseException:
            self.stop()
            raise

    # ------------------------------------------------------------------ run / stop
    def dead_services(self) -> list[str]:
        return [s for s, p in self.procs.items() if p.poll() is not None]

    def stop_services(self, timeout: float = 15.0) -> None:
        procs, self.procs = self.procs, {}
        for proc in procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for service, proc in procs.items():
            stop_process_group(proc, timeout=timeout)
            (self.config.run_dir / f"{service}.pid").unlink(missing_ok=True)
        for fh in self._log_fhs:
            fh.close()
        self._log_fhs.clear()

    def stop(self) -> None:
        """Services, then SeaweedFS, Kafka, PostgreSQL. Safe to call twice."""
        errors: list[str] = []
        try:
            self.stop_services()
        except Exception as exc:  # keep going: never leave Kafka/PG behind
            errors.append(f"services: {exc!r}")
        if self.oidc is not None:
            try:
                self.oidc.stop()
            except Exception as exc:
                errors.append(f"oidc: {exc!r}")
        if self.smtp is not None:
            try:
                self.smtp.stop()
            except Exception as exc:
                errors.append(f"smtp: {exc!r}")
        if self.seaweed is not None:
            try:
                self.seaweed.stop()
            except Exception as exc:
                errors.append(f"seaweedfs: {exc!r}")
        if self.kafka is not None:
            try:
                self.kafka.stop()
            except Exception as exc:
                errors.append(f"kafka: {exc!r}")
        if self.pg is not None:
            try:
                self.pg.stop()
            except Exception as exc:
                errors.append(f"postgres: {exc!r}")
        if errors:
            raise StackError("stop: " + "; ".join(errors))

    def _kill_stale_service(self, service: str) -> None:
        """A uvicorn left by a crashed runner (pid file + matching cmdline) is stopped."""
        pid_file = self.config.run_dir / f"{service}.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            cmdline = b""
        if pid_alive(pid) and f"hopen_{service}.main".encode() in cmdline:
            self._warn(f"stopping a leftover {service} (pid {pid})")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        pid_file.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- state
def stack_pid_file(data_dir: Path) -> Path:
    return data_dir / "run" / "stack.pid"


def running_components(data_dir: Path) -> list[str]:
    """What still runs out of ``data_dir`` (for ``hopen reset``)."""
    found: list[str] = []
    pid_files: Mapping[str, Path] = {
        "hopen up": stack_pid_file(data_dir),
        "kafka": data_dir / "kafka" / "kafka.pid",
        "seaweedfs": data_dir / "seaweedfs" / "weed.pid",
        "smtp": data_dir / "smtp" / "smtp.pid",
        "oidc": data_dir / "oidc" / "oidc.pid",
        **{s: data_dir / "run" / f"{s}.pid" for s in SERVICES},
    }
    for label, path in pid_files.items():
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
        if pid_alive(pid):
            found.append(f"{label} (pid {pid})")
    pg = PostgresCluster(data_dir / "pg", port=0)
    pg_pid = pg.running_pid()
    if pg_pid is not None:
        found.append(f"postgres (pid {pg_pid})")
    return found


def wipe(data_dir: Path) -> None:
    if data_dir.exists():
        shutil.rmtree(data_dir)

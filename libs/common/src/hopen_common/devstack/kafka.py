"""A real Apache Kafka broker (KRaft, single node) run with Java from Maven jars.

Recipe: /work/shared/docs/kafka-local.md. The jars are fetched once by Maven from
``deploy/kafka/pom.xml`` into ``deploy/kafka/lib`` (cached, keyed on the pom's sha256);
the broker is ``java ... -cp '<lib>/*' kafka.Kafka server.properties`` started as a
subprocess in its own process group.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from hopen_common.devstack._util import pid_alive, port_in_use, run_async, tail

_log = logging.getLogger(__name__)

STAMP_NAME = ".pom.sha256"
JVM_FLAGS = [
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
]
TOPIC_ALREADY_EXISTS = 36


class KafkaError(RuntimeError):
    pass


# ---------------------------------------------------------------------------- jars
def pom_digest(kafka_dir: Path) -> str:
    return hashlib.sha256((kafka_dir / "pom.xml").read_bytes()).hexdigest()


def jars_ready(kafka_dir: Path) -> bool:
    stamp = kafka_dir / "lib" / STAMP_NAME
    try:
        return stamp.read_text().strip() == pom_digest(kafka_dir)
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_kafka_jars(kafka_dir: Path, *, quiet: bool = True) -> Path:
    """Make ``<kafka_dir>/lib`` hold the broker's runtime jars; return that directory.

    Skipped when ``lib/.pom.sha256`` holds the pom's sha256. Serialised with a file lock
    so parallel test sessions do not fetch twice.
    """
    kafka_dir = kafka_dir.resolve()
    lib = kafka_dir / "lib"
    if jars_ready(kafka_dir):
        return lib
    if shutil.which("mvn") is None:
        raise KafkaError("Maven (mvn) is needed once to fetch Kafka's jars; install it")
    # The lock lives outside the repository (nothing untracked next to the pom).
    key = hashlib.sha256(str(kafka_dir).encode()).hexdigest()[:16]
    with _file_lock(Path(tempfile.gettempdir()) / f"hopen-kafka-fetch-{key}.lock"):
        if jars_ready(kafka_dir):
            return lib
        if lib.exists():
            shutil.rmtree(lib)
        cmd = [
            "mvn", "-B", *(["-q"] if quiet else []),
            "-f", str(kafka_dir / "pom.xml"),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={lib}",
        ]
        _log.info("fetching Kafka jars: %s", " ".join(cmd))
        result = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise KafkaError(
                f"mvn failed ({result.returncode}):\n{result.stdout[-4000:]}\n"
                f"{result.stderr[-4000:]}"
            )
        if not any(lib.glob("kafka_2.13-*.jar")):
            raise KafkaError(f"mvn succeeded but no kafka_2.13 jar in {lib}")
        (lib / STAMP_NAME).write_text(pom_digest(kafka_dir) + "\n")
    return lib


# ---------------------------------------------------------------------------- broker
def new_cluster_id() -> str:
    """16 random bytes, URL-safe base64 without padding (what StorageTool random-uuid does).

    Like Kafka's ``Uuid.randomUuid`` we never return an id starting with ``-``: the
    command-line parser would take it for an option.
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


@dataclass
class KafkaBroker:
    """One KRaft node (broker + controller) on 127.0.0.1."""

    data_dir: Path
    port: int
    controller_port: int
    kafka_dir: Path
    log_file: Path | None = None
    num_partitions: int = 3
    host: str = "127.0.0.1"
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log_fh: IO[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        self.kafka_dir = Path(self.kafka_dir).resolve()
        if self.log_file is None:
            self.log_file = self.data_dir / "kafka.log"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log_dirs(self) -> Path:
        return self.data_dir / "data"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    @property
    def lib_dir(self) -> Path:
        return self.kafka_dir / "lib"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def exited(self) -> bool:
        """True when the broker this object started has died on its own."""
        return self._proc is not None and self._proc.poll() is not None

    # ------------------------------------------------------------------ config
    def cluster_id(self) -> str:
        path = self.data_dir / "cluster.id"
        if path.exists():
            return path.read_text().strip()
        cid = new_cluster_id()
        path.write_text(cid + "\n")
        return cid

    def write_properties(self) -> None:
        h, p, c = self.host, self.port, self.controller_port
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{h}:{c}",
            "listeners": f"PLAINTEXT://{h}:{p},CONTROLLER://{h}:{c}",
            "advertised.listeners": f"PLAINTEXT://{h}:{p}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.log_dirs),
            "num.partitions": str(self.num_partitions),
            "auto.create.topics.enable": "true",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "share.coordinator.state.topic.num.partitions": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.cleaner.dedupe.buffer.size": "16777216",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "num.recovery.threads.per.data.dir": "1",
            "log.retention.hours": "168",
            "log.segment.bytes": "67108864",
        }
        text = "# generated by hopen_common.devstack.kafka; edits are overwritten\n"
        text += "".join(f"{k}={v}\n" for k, v in props.items())
        self.properties_file.write_text(text)

    def _java_cmd(self, main: str, *args: str) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise KafkaError("java (17+) is not on PATH")
        log_flags: list[str] = []
        if any(self.lib_dir.glob("log4j-slf4j-impl-*.jar")):
            log_flags = [f"-Dlog4j2.configurationFile={self.kafka_dir / 'log4j2.properties'}"]
        elif any(self.lib_dir.glob("reload4j-*.jar")):
            log_flags = [f"-Dlog4j.configuration=file:{self.kafka_dir / 'log4j.properties'}"]
        return [java, *JVM_FLAGS, *log_flags, "-cp", f"{self.lib_dir}/*", main, *args]

    def format_storage(self) -> None:
        """Format the KRaft log dir once (meta.properties marks it formatted)."""
        if (self.log_dirs / "meta.properties").exists():
            return
        self.log_dirs.mkdir(parents=True, exist_ok=True)
        cmd = self._java_cmd(
            "kafka.tools.StorageTool", "format", f"--cluster-id={self.cluster_id()}",
            "-c", str(self.properties_file), "--ignore-formatted",
        )
        result = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise KafkaError(f"kafka storage format failed:\n{result.stdout}\n{result.stderr}")

    # ------------------------------------------------------------------ lifecycle
    def _kill_stale(self) -> None:
        """A broker left by a crashed runner still holds the data dir lock: stop it."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            cmdline = b""
        if pid_alive(pid) and b"kafka.Kafka" in cmdline and str(self.data_dir).encode() in cmdline:
            _log.warning("stopping a leftover Kafka broker (pid %s)", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if pid_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)

    def start(self, timeout: float = 90.0) -> None:
        """Fetch jars if needed, write config, format once, start and wait until ready."""
        if self._proc is not None and self._proc.poll() is None:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ensure_kafka_jars(self.kafka_dir)
        self._kill_stale()
        for port in (self.port, self.controller_port):
            if port_in_use(port):
                raise KafkaError(f"port {port} is already in use; cannot start Kafka")
        self.write_properties()
        self.format_storage()
        assert self.log_file is not None
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_fh = self.log_file.open("ab")
        self._proc = subprocess.Popen(
            self._java_cmd("kafka.Kafka", str(self.properties_file)),
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.data_dir,
            start_new_session=True,
        )
        self.pid_file.write_text(f"{self._proc.pid}\n")
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        assert self.log_file is not None
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise KafkaError(
                    f"Kafka exited with code {self._proc.returncode}\n"
                    f"--- {self.log_file} ---\n{tail(self.log_file)}"
                )
            if port_in_use(self.port) and self._client_ready():
                return
            if time.monotonic() >= deadline:
                raise KafkaError(
                    f"Kafka not ready after {timeout:.0f}s\n"
                    f"--- {self.log_file} ---\n{tail(self.log_file)}"
                )
            time.sleep(0.3)

    def _client_ready(self) -> bool:
        try:
            run_async(list_topics(self.bootstrap, request_timeout_s=3.0))
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            _log.debug("kafka not ready yet: %r", exc)
            return False
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (clean shutdown), SIGKILL after ``timeout`` seconds."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    _log.warning("Kafka did not stop in %ss; killing it", timeout)
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        self.pid_file.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- clients
async def list_topics(bootstrap: str, request_timeout_s: float = 10.0) -> list[str]:
    """Bootstrap a real aiokafka admin client and list the topics."""
    import asyncio

    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(request_timeout_s * 1000)
    )
    try:
        async with asyncio.timeout(request_timeout_s * 2):
            await admin.start()
            topics: list[str] = await admin.list_topics()
        return topics
    finally:
        await admin.close()


async def ensure_topics_async(
    bootstrap: str, names: Iterable[str], *, partitions: int = 3, replication: int = 1
) -> None:
    """Create the topics that do not exist yet (already existing ones are fine)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    wanted = list(dict.fromkeys(names))
    if not wanted:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in wanted if n not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [NewTopic(name=n, num_partitions=partitions, replication_factor=replication)
             for n in missing]
        )
        errors = [
            (err[0], err[1], err[2] if len(err) > 2 else "")
            for err in response.topic_errors
            if err[1] not in (0, TOPIC_ALREADY_EXISTS)
        ]
        if errors:
            raise KafkaError(f"could not create topics: {errors}")
    finally:
        await admin.close()


def ensure_topics(
    bootstrap: str, names: Iterable[str], *, partitions: int = 3, replication: int = 1
) -> None:
    """Sync wrapper of :func:`ensure_topics_async` (safe from sync code and fixtures)."""
    run_async(
        ensure_topics_async(bootstrap, names, partitions=partitions, replication=replication)
    )

"""A real S3-compatible server for the dev stack and tests: SeaweedFS's ``weed`` (Apache-2.0).

``weed`` is built once from the Go module proxy by ``go build`` in ``deploy/seaweedfs`` (a
tiny module whose go.mod/go.sum pin SeaweedFS and every dependency; ``go install pkg@version``
is refused because SeaweedFS's go.mod has a replace directive) into ``deploy/seaweedfs/bin``,
cached and keyed on the sha256 of go.mod + go.sum. The server is ``weed server -s3`` (master,
volume, filer, S3 gateway in one process) on free ports, data under a folder of ours,
credentials from an S3 identities file, in its own process group.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import quote

import httpx

from hopen_common.devstack._util import free_port, pid_alive, port_in_use, stop_process_group, tail
from hopen_common.devstack.kafka import _file_lock

_log = logging.getLogger(__name__)

STAMP_NAME = ".go.sha256"
GO_CANDIDATES = ("go", "/usr/local/go/bin/go")
WEED_PACKAGE = "github.com/seaweedfs/seaweedfs/weed"
DEV_ACCESS_KEY = "hopen-dev"
DEV_SECRET_KEY = "hopen-dev-secret-0123456789"
REGION = "us-east-1"


class SeaweedError(RuntimeError):
    pass


# ---------------------------------------------------------------------------- binary
def module_digest(seaweed_dir: Path) -> str:
    h = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        h.update((seaweed_dir / name).read_bytes())
    return h.hexdigest()


def weed_binary(seaweed_dir: Path) -> Path:
    return seaweed_dir.resolve() / "bin" / "weed"


def weed_ready(seaweed_dir: Path) -> bool:
    stamp = seaweed_dir / "bin" / STAMP_NAME
    try:
        fresh = stamp.read_text().strip() == module_digest(seaweed_dir)
    except FileNotFoundError:
        return False
    return fresh and os.access(weed_binary(seaweed_dir), os.X_OK)


def find_go() -> str:
    for candidate in GO_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise SeaweedError("Go (1.26+) is needed once to build SeaweedFS's weed; install it")


def ensure_weed(seaweed_dir: Path) -> Path:
    """Make ``<seaweed_dir>/bin/weed`` exist for the pinned go.mod; return its path.

    Serialised with a file lock so parallel sessions build once. The Go module and build
    caches (~/go/pkg/mod, ~/.cache/go-build) make a rebuild on the same machine quick.
    """
    seaweed_dir = seaweed_dir.resolve()
    binary = weed_binary(seaweed_dir)
    if weed_ready(seaweed_dir):
        return binary
    go = find_go()
    key = hashlib.sha256(str(seaweed_dir).encode()).hexdigest()[:16]
    with _file_lock(Path(tempfile.gettempdir()) / f"hopen-weed-build-{key}.lock"):
        if weed_ready(seaweed_dir):
            return binary
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(".partial")
        env = dict(os.environ, CGO_ENABLED="0", GOTOOLCHAIN="local", GOFLAGS="-mod=readonly")
        cmd = [go, "build", "-trimpath", "-ldflags", "-s -w", "-o", str(partial), WEED_PACKAGE]
        _log.info("building weed: %s", " ".join(cmd))
        result = subprocess.run(
            cmd, cwd=seaweed_dir, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise SeaweedError(
                f"go build of weed failed ({result.returncode}):\n{result.stdout[-4000:]}\n"
                f"{result.stderr[-4000:]}"
            )
        os.replace(partial, binary)
        (binary.parent / STAMP_NAME).write_text(module_digest(seaweed_dir) + "\n")
    return binary


# ---------------------------------------------------------------------------- SigV4
def _signer(
    method: str, url: str, *, access_key: str, secret_key: str, region: str = REGION,
    query: dict[str, str] | None = None, body: bytes = b"",
) -> dict[str, str]:
    """AWS Signature V4 headers for one request (creating a bucket, listing uploads: what
    obstore does not offer)."""
    parsed = httpx.URL(url)
    now = dt.datetime.now(dt.UTC)
    amz_date, date = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(body).hexdigest()
    host = parsed.host + (f":{parsed.port}" if parsed.port else "")
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted((query or {}).items())
    )
    headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([
        method, quote(parsed.path or "/", safe="/-_.~"), canonical_query,
        "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed, payload,
    ])
    scope = f"{date}/{region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + secret_key).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, "
        f"Signature={signature}"
    )
    del headers["host"]
    return headers


def s3_request(
    method: str, endpoint: str, path: str, *, access_key: str, secret_key: str,
    query: dict[str, str] | None = None, region: str = REGION, timeout: float = 10.0,
) -> httpx.Response:
    url = endpoint.rstrip("/") + path
    headers = _signer(method, url, access_key=access_key, secret_key=secret_key, region=region,
                      query=query)
    return httpx.request(method, url, params=query, headers=headers, timeout=timeout)


# ---------------------------------------------------------------------------- server
@dataclass
class SeaweedServer:
    """``weed server -s3`` on 127.0.0.1: master, volume, filer and S3 gateway."""

    data_dir: Path
    seaweed_dir: Path
    s3_port: int = 0
    access_key: str = DEV_ACCESS_KEY
    secret_key: str = DEV_SECRET_KEY
    log_file: Path | None = None
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=dict)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log_fh: IO[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        self.seaweed_dir = Path(self.seaweed_dir).resolve()
        if self.log_file is None:
            self.log_file = self.data_dir / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.s3_port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "weed.pid"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def exited(self) -> bool:
        return self._proc is not None and self._proc.poll() is not None

    def _choose_ports(self) -> None:
        # Every listener gets an explicit free port: weed's default gRPC port is the HTTP
        # port + 10000, which may be taken or past 65535 for a random port.
        names = ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc",
                 "s3.grpc")
        taken = {self.s3_port} if self.s3_port else set()
        if not self.s3_port:
            self.s3_port = free_port()
            taken.add(self.s3_port)
        for name in names:
            port = free_port()
            while port in taken:
                port = free_port()
            taken.add(port)
            self.ports[name] = port

    def _write_s3_config(self) -> Path:
        path = self.data_dir / "s3.json"
        identities = {"identities": [{
            "name": "hopen",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }]}
        path.write_text(json.dumps(identities, indent=2))
        path.chmod(0o600)
        return path

    def command(self, weed: Path) -> list[str]:
        p = self.ports
        return [
            str(weed), "server", f"-dir={self.data_dir / 'data'}",
            f"-ip={self.host}", f"-ip.bind={self.host}",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master.grpc']}",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume.grpc']}",
            "-volume.max=0",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer.grpc']}",
            "-s3", f"-s3.port={self.s3_port}", f"-s3.port.grpc={p['s3.grpc']}",
            f"-s3.config={self._write_s3_config()}",
            # Listeners we do not use: off, so that nothing binds a fixed port (8181, 9101).
            "-s3.port.iceberg=0", "-s3.port.lance=0",
        ]

    def sockets(self) -> list[Path]:
        """The Unix sockets weed 4.53 makes in /tmp whatever TMPDIR says (command/server.go,
        filer.go, s3.go), named by port, left behind when it is killed."""
        paths = [Path(f"/tmp/seaweedfs-{n}-grpc-{self.ports[n + '.grpc']}.sock")
                 for n in ("master", "volume", "filer", "s3") if n + ".grpc" in self.ports]
        if "filer" in self.ports:
            paths.append(Path(f"/tmp/seaweedfs-filer-{self.ports['filer']}.sock"))
        if self.s3_port:
            paths.append(Path(f"/tmp/seaweedfs-s3-{self.s3_port}.sock"))
        return paths

    def _remove_grpc_sockets(self) -> None:
        for path in self.sockets():  # the ports were free when we took them: ours
            path.unlink(missing_ok=True)

    def _kill_stale(self) -> None:
        """A server left by a crashed runner still holds the data dir: stop it."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            cmdline = b""
        if pid_alive(pid) and b"weed" in cmdline and str(self.data_dir).encode() in cmdline:
            _log.warning("stopping a leftover weed server (pid %s)", pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)

    def start(self, timeout: float = 60.0) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        weed = ensure_weed(self.seaweed_dir)
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        self._kill_stale()
        self._choose_ports()
        for port in (self.s3_port, *self.ports.values()):
            if port_in_use(port):
                raise SeaweedError(f"port {port} is already in use; cannot start SeaweedFS")
        assert self.log_file is not None
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_fh = self.log_file.open("ab")
        self._proc = subprocess.Popen(
            self.command(weed), stdout=self._log_fh, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=self.data_dir, start_new_session=True,
        )
        self.pid_file.write_text(f"{self._proc.pid}\n")
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _s3(self, method: str, path: str, query: dict[str, str] | None = None) -> httpx.Response:
        return s3_request(method, self.endpoint, path, access_key=self.access_key,
                          secret_key=self.secret_key, query=query)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Ready when a signed ListBuckets answers 200 (the gateway has its filer and
        identities) and a volume is writable (checked by creating then deleting a bucket)."""
        deadline = time.monotonic() + timeout
        assert self.log_file is not None
        last = ""
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise SeaweedError(
                    f"weed exited with code {self._proc.returncode}\n"
                    f"--- {self.log_file} ---\n{tail(self.log_file)}"
                )
            try:
                if port_in_use(self.s3_port) and self._s3("GET", "/").status_code == 200:
                    return
            except httpx.HTTPError as exc:
                last = repr(exc)
            if time.monotonic() >= deadline:
                raise SeaweedError(
                    f"SeaweedFS S3 not ready after {timeout:.0f}s ({last})\n"
                    f"--- {self.log_file} ---\n{tail(self.log_file)}"
                )
            time.sleep(0.3)

    def create_bucket(self, name: str) -> None:
        response = self._s3("PUT", f"/{name}")
        if response.status_code not in (200, 409):  # 409: BucketAlreadyOwnedByYou
            raise SeaweedError(f"cannot create bucket {name}: {response.status_code} {response.text}")

    def multipart_uploads(self, bucket: str) -> str:
        """The raw ListMultipartUploads answer (tests: an aborted write leaves no parts)."""
        response = self._s3("GET", f"/{bucket}", query={"uploads": ""})
        response.raise_for_status()
        return response.text

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, SIGKILL after ``timeout`` s: weed 4.53 takes ~25 s to leave on its own
        (its parts retry each other once the volume server is down); an S3 write is durable
        once answered, so nothing we keep is lost."""
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_process_group(proc, timeout=timeout)
            self._remove_grpc_sockets()
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        self.pid_file.unlink(missing_ok=True)

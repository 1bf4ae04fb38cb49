"""A real OpenID Connect provider for the dev stack and the tests: node's `oidc-provider` (OpenID
Certified, npm, pinned by deploy/oidc/package-lock.json) run by deploy/oidc/provider.js (ADR 0019).

`hopen oidc-install` (make install) runs `npm ci` once into deploy/oidc/node_modules (cached on the
lock's sha256). `OidcProvider` writes the provider's config (issuer, port, signing keys, the one
public client), starts node in its own process group and obtains real access tokens by driving the
authorization code + PKCE flow with httpx (the development login form accepts any login: it becomes
the token's `sub`). A key rotation writes the new key first, keeps the old one published, and
restarts the provider on the same port; the services are not restarted, they refetch the JWKS.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from hopen_common.devstack._util import port_in_use, stop_process_group, tail

STAMP_NAME = ".lock.sha256"
CLIENT_ID = "hopen-dev-cli"
RESOURCE = "urn:hopen"
AUDIENCE = "hopen"
SCOPE = "openid hopen"


class OidcError(RuntimeError):
    pass


# ---------------------------------------------------------------------------- npm ci
def lock_digest(oidc_dir: Path) -> str:
    return hashlib.sha256((oidc_dir / "package-lock.json").read_bytes()).hexdigest()


def modules_ready(oidc_dir: Path) -> bool:
    try:
        return (oidc_dir / "node_modules" / STAMP_NAME).read_text().strip() == lock_digest(oidc_dir)
    except FileNotFoundError:
        return False


def ensure_node_modules(oidc_dir: Path) -> Path:
    """`npm ci` into `<oidc_dir>/node_modules` unless its stamp holds the lock's sha256."""
    from hopen_common.devstack.kafka import _file_lock

    oidc_dir = oidc_dir.resolve()
    modules = oidc_dir / "node_modules"
    if modules_ready(oidc_dir):
        return modules
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise OidcError("node (20.19+) and npm are needed for the development OIDC provider")
    key = hashlib.sha256(str(oidc_dir).encode()).hexdigest()[:16]
    with _file_lock(Path(tempfile.gettempdir()) / f"hopen-oidc-npm-{key}.lock"):
        if modules_ready(oidc_dir):
            return modules
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=oidc_dir,
                                capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise OidcError(f"npm ci failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
                            f"{result.stderr[-3000:]}")
        (modules / STAMP_NAME).write_text(lock_digest(oidc_dir) + "\n")
    return modules


# ---------------------------------------------------------------------------- keys
def nouvelle_cle_rsa(kid: str | None = None) -> dict[str, Any]:
    """A private RSA signing key as a JWK (what oidc-provider's `jwks` takes)."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    cle = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(cle, as_dict=True)
    jwk.update({"kid": kid or f"k-{uuid.uuid4().hex[:12]}", "use": "sig", "alg": "RS256"})
    return jwk


def cle_privee_pem(jwk: dict[str, Any]) -> bytes:
    """The PEM of a private JWK: tests sign tokens with the provider's own key (wrong claims)."""
    from cryptography.hazmat.primitives import serialization
    from jwt.algorithms import RSAAlgorithm

    cle = RSAAlgorithm.from_jwk(jwk)
    return cle.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,  # type: ignore[union-attr]
                             serialization.NoEncryption())


def cle_publique_pem(jwk: dict[str, Any]) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from jwt.algorithms import RSAAlgorithm

    publique = {k: v for k, v in jwk.items() if k in ("kty", "n", "e", "kid")}
    cle = RSAAlgorithm.from_jwk(publique)
    return cle.public_bytes(serialization.Encoding.PEM,  # type: ignore[union-attr]
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# ---------------------------------------------------------------------------- provider
class OidcProvider:
    """One oidc-provider process on 127.0.0.1:`port`, its state under `data_dir`."""

    def __init__(self, data_dir: Path, port: int, oidc_dir: Path, *, node: str | None = None,
                 log_file: Path | None = None, host: str = "127.0.0.1",
                 access_token_ttl: int = 3600) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.host = host
        self.oidc_dir = Path(oidc_dir).resolve()
        self.node = node or shutil.which("node") or "node"
        self.log_file = log_file or self.data_dir / "oidc.log"
        self.access_token_ttl = access_token_ttl
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # contracts
    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"

    @property
    def redirect_uri(self) -> str:
        # A native client's loopback redirect (RFC 8252): nothing listens there, the code is read
        # from the Location header.
        return f"http://{self.host}:{self.port}/cb"

    @property
    def keys_file(self) -> Path:
        """The signing keys, a private JWKS: the first key signs, all are published."""
        return self.data_dir / "keys.json"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "provider.json"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "oidc.pid"

    def cles(self) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = json.loads(self.keys_file.read_text())["keys"]
        return keys

    def _ecrire_cles(self, keys: list[dict[str, Any]]) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.keys_file.write_text(json.dumps({"keys": keys}))
        self.keys_file.chmod(0o600)

    def _ecrire_config(self) -> None:
        config = {
            "issuer": self.issuer, "host": self.host, "port": self.port, "jwks": {"keys": self.cles()},
            "cookie_key": secrets.token_hex(16), "resource": RESOURCE, "audience": AUDIENCE,
            "access_token_ttl": self.access_token_ttl,
            "clients": [{
                "client_id": CLIENT_ID, "application_type": "native",
                "token_endpoint_auth_method": "none", "redirect_uris": [self.redirect_uri],
                "grant_types": ["authorization_code"], "response_types": ["code"],
            }],
        }
        self.config_file.write_text(json.dumps(config))
        self.config_file.chmod(0o600)

    # lifecycle
    def start(self, timeout: float = 20.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        ensure_node_modules(self.oidc_dir)
        if not self.keys_file.exists():
            self._ecrire_cles([nouvelle_cle_rsa()])
        self._ecrire_config()
        if port_in_use(self.port, self.host):
            raise OidcError(f"port {self.port} already in use; cannot start the OIDC provider")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_file.open("ab")
        self.proc = subprocess.Popen(
            [self.node, str(self.oidc_dir / "provider.js"), str(self.config_file)],
            cwd=self.oidc_dir, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        self.pid_file.write_text(f"{self.proc.pid}\n")
        limite = time.monotonic() + timeout
        while not self._pret():
            if self.proc.poll() is not None or time.monotonic() > limite:
                self.stop()
                raise OidcError(f"oidc-provider did not start on {self.port}:\n{tail(self.log_file)}")
            time.sleep(0.1)

    def _pret(self) -> bool:
        if not port_in_use(self.port, self.host):
            return False
        try:
            return httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def stop(self) -> None:
        if self.proc is not None:
            stop_process_group(self.proc, timeout=10)
            self.proc = None
        self.pid_file.unlink(missing_ok=True)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        self.stop()
        self.start()

    # key rotation
    def tourner_cles(self) -> dict[str, Any]:
        """Step 1 of a rotation: a new key signs from now on, the old ones stay published (tokens
        they signed remain verifiable). Restarts the provider; returns the new key."""
        nouvelle = nouvelle_cle_rsa()
        self._ecrire_cles([nouvelle, *self.cles()])
        self.restart()
        return nouvelle

    def retirer_cle(self, kid: str) -> None:
        """Step 2: the old key is no longer published (its tokens stop being accepted once the
        services' JWKS cache has expired)."""
        restantes = [k for k in self.cles() if k["kid"] != kid]
        if not restantes:
            raise OidcError("the provider needs at least one signing key")
        self._ecrire_cles(restantes)
        self.restart()

    # tokens
    def jeton(self, sujet: str) -> str:
        """A real access token (JWT, aud hopen) for `sujet`: authorization code + PKCE, the provider's
        login and consent interactions posted as a browser would."""
        verifier = _b64url(secrets.token_bytes(32))
        challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
        with httpx.Client(base_url=self.issuer, timeout=10, follow_redirects=False) as client:
            reponse = client.get("/auth", params={
                "client_id": CLIENT_ID, "response_type": "code", "redirect_uri": self.redirect_uri,
                "scope": SCOPE, "resource": RESOURCE, "code_challenge": challenge,
                "code_challenge_method": "S256", "state": secrets.token_urlsafe(8),
            })
            for _ in range(8):
                if reponse.status_code not in (302, 303):
                    raise OidcError(f"authorization: {reponse.status_code} {reponse.text[:500]}")
                location = urljoin(self.issuer + "/", reponse.headers["location"])
                if location.startswith(self.redirect_uri):
                    query = parse_qs(urlsplit(location).query)
                    if "code" not in query:
                        raise OidcError(f"authorization refused: {query}")
                    code = query["code"][0]
                    break
                page = client.get(location)
                if page.status_code in (302, 303):
                    reponse = page
                    continue
                invite = re.search(r'name="prompt" value="(\w+)"', page.text)
                if page.status_code != 200 or invite is None:
                    raise OidcError(f"interaction: {page.status_code} {page.text[:500]}")
                donnees = {"prompt": invite.group(1)}
                if donnees["prompt"] == "login":
                    donnees.update({"login": sujet, "password": "dev"})
                reponse = client.post(location, data=donnees)
            else:
                raise OidcError("authorization: too many redirects")
            jeton = client.post("/token", data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "client_id": CLIENT_ID, "code_verifier": verifier, "resource": RESOURCE,
            })
            if jeton.status_code != 200:
                raise OidcError(f"token: {jeton.status_code} {jeton.text[:500]}")
            access_token: str = jeton.json()["access_token"]
            return access_token


def kill_stale(data_dir: Path) -> None:
    """A provider left by a crashed `hopen up` (pid file + node provider.js) is stopped."""
    import os
    import signal

    from hopen_common.devstack._util import pid_alive

    pid_file = data_dir / "oidc.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(OSError):
        if pid_alive(pid) and b"provider.js" in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.killpg(pid, signal.SIGTERM)
    pid_file.unlink(missing_ok=True)

"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only signing key: refused in production by the validator below.
DEV_JWT_SECRET = "hopen-dev-only-secret-change-me-0123456789abcdef"


class ServiceSettings(BaseSettings):
    """Base settings. Subclasses set ``model_config = SettingsConfigDict(env_prefix="NAME_")``."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "hopen"
    # Production unless told otherwise (hostile review): outside production the development issuer
    # hopen-dev (HS256, a key in this repository) is trusted, so a deploy that forgot the variable
    # must not fall into it. Forgotten, the production checks below refuse to start without the
    # identity providers, the storage and the audit key. `hopen up` (devstack.stack.service_env),
    # docker-compose.yml and the test plugin set development / test explicitly.
    environment: Literal["development", "test", "production"] = "production"
    database_url: str = "postgresql+asyncpg://hopen:hopen@127.0.0.1:54329/hopen"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    # Tokens (ADR 0019). The development issuer hopen-dev (HS256, jwt_secret) is trusted outside
    # production only. The identity providers trusted: issuer -> its JWKS URL, or issuer ->
    # {"jwks_url": ..., "algorithmes": [...]} to narrow its algorithms (JSON in the environment:
    # <NAME>_JWT_EMETTEURS='{"https://auth.agentconnect.gouv.fr/api/v2": "https://.../jwks"}').
    jwt_secret: str = DEV_JWT_SECRET
    jwt_emetteurs: dict[str, str | dict[str, Any]] = {}
    # Kept from before issue 10: one identity provider's JWKS, for the issuer `jwt_emetteur`.
    jwks_url: str = ""
    jwt_emetteur: str = ""
    jwt_audience: str = "hopen"
    jwt_duree_max_secondes: int = 12 * 3600  # exp - iat at most
    jwt_marge_secondes: int = 30  # clock leeway on exp, nbf, iat
    # An issuer's JWKS is cached this long: a key it stops publishing is refused after at most that.
    jwks_cache_secondes: float = 300.0
    # An unknown kid refetches the JWKS at most once per this many seconds (a flood of made-up kids).
    jwks_refetch_min_secondes: float = 10.0
    workers_in_process: bool = True
    # Demo switch: every programme window is considered open today (make up sets it).
    calendrier_ouvert: bool = False
    # "Today" for the deadlines and reminders (ADR 0016): None is the real Paris date; tests pin it.
    date_du_jour: date | None = None
    # Consumer: attempts before an event is parked in the dead letters.
    consumer_max_attempts: int = 5
    consumer_retry_backoff_seconds: float = 0.5
    relay_poll_interval_seconds: float = 1.0
    kafka_send_timeout_seconds: float = 10.0
    # Pieces storage (ADR 0011): "file:///abs/dir" or "s3://bucket/prefix". Empty: files under
    # <repo>/.hopen/stockage/<service_name> (development only; the dev stack sets it).
    stockage_url: str = ""
    stockage_s3_endpoint: str = ""  # e.g. http://127.0.0.1:8333; empty: AWS for the region
    stockage_s3_region: str = "us-east-1"
    stockage_s3_access_key: str = ""
    stockage_s3_secret_key: SecretStr = SecretStr("")
    stockage_taille_max: int = 20 * 1024 * 1024  # per uploaded file; past it: 413
    # Request bodies (hopen_common.garde_fous): past these, 413 before parsing. JSON (and anything not a
    # form) is small; a multipart form carries a piece or an import file: None is stockage_taille_max
    # plus 1 MiB for the form's framing and text fields.
    corps_json_taille_max: int = 1024 * 1024
    corps_formulaire_taille_max: int | None = None
    stockage_orphelins_grace_heures: float = 24.0
    # Audit checkpoints (ADR 0024): the service's Ed25519 private key, base64 of its 32-byte seed.
    # Empty: a development key derived from the service's name (refused in production).
    audit_cle_privee: SecretStr = SecretStr("")
    audit_intervalle_point_secondes: float = 60.0

    def limite_formulaire(self) -> int:
        return self.corps_formulaire_taille_max or self.stockage_taille_max + 1024 * 1024

    def emetteurs_de_confiance(self) -> dict[str, tuple[str, frozenset[str]]]:
        """Issuer -> (JWKS URL, algorithms) of the identity providers trusted (not the dev issuer)."""
        from hopen_common.auth.jetons import ALGORITHMES_IDP

        emetteurs: dict[str, tuple[str, frozenset[str]]] = {}
        if self.jwks_url and self.jwt_emetteur:
            emetteurs[self.jwt_emetteur] = (self.jwks_url, ALGORITHMES_IDP)
        for iss, valeur in self.jwt_emetteurs.items():
            if isinstance(valeur, str):
                emetteurs[iss] = (valeur, ALGORITHMES_IDP)
                continue
            jwks = valeur.get("jwks_url")
            algorithmes = frozenset(valeur.get("algorithmes") or ALGORITHMES_IDP)
            if not isinstance(jwks, str) or not jwks:
                raise ValueError(f"jwt_emetteurs[{iss!r}] : jwks_url attendu")
            if not algorithmes <= ALGORITHMES_IDP:
                raise ValueError(f"jwt_emetteurs[{iss!r}] : algorithmes parmi {sorted(ALGORITHMES_IDP)}"
                                 f" (reçu {sorted(algorithmes)})")
            emetteurs[iss] = (jwks, algorithmes)
        return emetteurs

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> ServiceSettings:
        from hopen_common.auth.tokens import ISSUER_DEV

        emetteurs = self.emetteurs_de_confiance()  # raises on a malformed entry, in every environment
        if ISSUER_DEV in emetteurs:
            raise ValueError(f"{ISSUER_DEV} is the development issuer (HS256): never a trusted identity"
                             " provider")
        if self.jwks_url and not self.jwt_emetteur:
            raise ValueError("jwks_url needs jwt_emetteur (the issuer whose keys it publishes)")
        if self.environment == "production" and not emetteurs:
            raise ValueError("production needs jwt_emetteurs (the identity providers trusted; the"
                             " development issuer hopen-dev is refused in production)")
        if self.environment == "production" and self.jwt_duree_max_secondes > 24 * 3600:
            raise ValueError("production: jwt_duree_max_secondes at most 24 h")
        if self.environment == "production" and self.date_du_jour is not None:
            raise ValueError("production runs on the real date: date_du_jour must not be set")
        if self.environment == "production" and not self.stockage_url:
            raise ValueError("production needs stockage_url (s3://bucket/prefix or file:///dir)")
        if self.environment == "production" and not self.audit_cle_privee.get_secret_value():
            raise ValueError("production needs audit_cle_privee (its own Ed25519 key, base64 of 32 bytes)")
        return self

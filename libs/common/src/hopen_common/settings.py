"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only signing key: refused in production by the validator below.
DEV_JWT_SECRET = "hopen-dev-only-secret-change-me-0123456789abcdef"


class ServiceSettings(BaseSettings):
    """Base settings. Subclasses set ``model_config = SettingsConfigDict(env_prefix="NAME_")``."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "hopen"
    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "postgresql+asyncpg://hopen:hopen@127.0.0.1:54329/hopen"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    jwt_secret: str = DEV_JWT_SECRET
    jwks_url: str = ""
    jwt_audience: str = "hopen"
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
    stockage_orphelins_grace_heures: float = 24.0
    # Audit checkpoints (ADR 0024): the service's Ed25519 private key, base64 of its 32-byte seed.
    # Empty: a development key derived from the service's name (refused in production).
    audit_cle_privee: SecretStr = SecretStr("")
    audit_intervalle_point_secondes: float = 60.0

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> ServiceSettings:
        if self.environment == "production" and (self.jwt_secret == DEV_JWT_SECRET or not self.jwks_url):
            raise ValueError("production needs jwks_url and must not use the development JWT secret")
        if self.environment == "production" and self.date_du_jour is not None:
            raise ValueError("production runs on the real date: date_du_jour must not be set")
        if self.environment == "production" and not self.stockage_url:
            raise ValueError("production needs stockage_url (s3://bucket/prefix or file:///dir)")
        if self.environment == "production" and not self.audit_cle_privee.get_secret_value():
            raise ValueError("production needs audit_cle_privee (its own Ed25519 key, base64 of 32 bytes)")
        return self

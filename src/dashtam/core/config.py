"""Settings from the environment or a ``.env`` file (names fixed by the handbook)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./dashtam.db"
_DEVELOPMENT_SECRET = "dashtam-development-secret-change-me"  # noqa: S105 - refused in production


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Process-wide configuration; read once, then passed explicitly."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    db_echo: bool = Field(default=False, validation_alias="DB_ECHO")
    db_pool_size: int = Field(default=20, ge=1, validation_alias="DB_POOL_SIZE")
    db_max_overflow: int = Field(default=0, ge=0, validation_alias="DB_MAX_OVERFLOW")
    db_sqlite_busy_timeout_ms: int = Field(
        default=5000, ge=0, validation_alias="DB_SQLITE_BUSY_TIMEOUT_MS"
    )
    # Bounds on every wait for PostgreSQL, in seconds (0 turns the server-side ones off).
    db_connect_timeout: float = Field(default=5.0, gt=0, validation_alias="DB_CONNECT_TIMEOUT")
    db_pool_timeout: float = Field(default=5.0, gt=0, validation_alias="DB_POOL_TIMEOUT")
    db_statement_timeout: float = Field(default=15.0, ge=0, validation_alias="DB_STATEMENT_TIMEOUT")
    # Client side, per round trip: what ends a request during a silent network partition.
    db_command_timeout: float = Field(default=20.0, gt=0, validation_alias="DB_COMMAND_TIMEOUT")
    db_idle_in_transaction_timeout: float = Field(
        default=60.0, ge=0, validation_alias="DB_IDLE_IN_TRANSACTION_TIMEOUT"
    )
    db_tcp_keepalives_idle: int = Field(default=30, ge=0, validation_alias="DB_TCP_KEEPALIVES_IDLE")
    environment: Environment = Field(
        default=Environment.DEVELOPMENT, validation_alias="DASHTAM_ENV"
    )
    secret_key: SecretStr = Field(
        default=SecretStr(_DEVELOPMENT_SECRET), validation_alias="DASHTAM_SECRET_KEY"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", validation_alias="LOG_LEVEL"
    )
    log_format: Literal["console", "json"] | None = Field(
        default=None, validation_alias="LOG_FORMAT"
    )
    event_broker_url: str = Field(default="", validation_alias="EVENT_BROKER_URL")
    # The JetStream stream and subject prefix (docs/events.md); a shared NATS may host several.
    event_broker_stream: str = Field(
        default="DASHTAM_EVENTS",
        pattern=r"^[A-Za-z0-9_-]+$",
        validation_alias="EVENT_BROKER_STREAM",
    )
    event_broker_subject_prefix: str = Field(
        default="dashtam.events",
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        validation_alias="EVENT_BROKER_SUBJECT_PREFIX",
    )
    import_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, validation_alias="DASHTAM_IMPORT_MAX_BYTES"
    )
    audit_seal_interval_seconds: float = Field(
        default=5.0, ge=0, validation_alias="DASHTAM_AUDIT_SEAL_INTERVAL"
    )
    import_max_rows: int = Field(default=200_000, ge=1, validation_alias="DASHTAM_IMPORT_MAX_ROWS")
    # The API's background delivery loop: pending and failed events are retried this often.
    event_retry_interval_seconds: float = Field(
        default=5.0, ge=0, validation_alias="DASHTAM_EVENT_RETRY_INTERVAL"
    )
    # Webhooks (docs/webhooks.md). Private, loopback and link-local destinations are refused
    # unless allowed (tests, a trusted LAN). The interval is the API's sender loop (0: off).
    webhooks_allow_private: bool = Field(
        default=False, validation_alias="DASHTAM_WEBHOOKS_ALLOW_PRIVATE"
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, validation_alias="DASHTAM_WEBHOOK_TIMEOUT"
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=20, validation_alias="DASHTAM_WEBHOOK_MAX_ATTEMPTS"
    )
    webhook_backoff_seconds: float = Field(
        default=30.0, gt=0, validation_alias="DASHTAM_WEBHOOK_BACKOFF"
    )
    webhook_disable_after: int = Field(
        default=20, ge=1, validation_alias="DASHTAM_WEBHOOK_DISABLE_AFTER"
    )
    webhook_interval_seconds: float = Field(
        default=2.0, ge=0, validation_alias="DASHTAM_WEBHOOK_INTERVAL"
    )
    # Audit keys never enter the database. Unset, they are derived from the secret key (HKDF).
    # DASHTAM_AUDIT_KEY: comma-separated MAC keys, the first signs new records, all verify.
    audit_key: SecretStr | None = Field(default=None, validation_alias="DASHTAM_AUDIT_KEY")
    # An Ed25519 private key: 32 bytes as hex or urlsafe base64 (a seed), or a PEM block.
    audit_signing_key: SecretStr | None = Field(
        default=None, validation_alias="DASHTAM_AUDIT_SIGNING_KEY"
    )
    audit_checkpoint_interval_seconds: float = Field(
        default=300.0, ge=0, validation_alias="DASHTAM_AUDIT_CHECKPOINT_INTERVAL"
    )
    audit_checkpoint_path: str = Field(
        default="./audit-checkpoints.jsonl", validation_alias="DASHTAM_AUDIT_CHECKPOINT_PATH"
    )
    # Read audit records wait in a bounded buffer, written every flush interval in one INSERT;
    # a full buffer makes reads wait up to max-wait seconds, then answer 503 (docs/audit.md).
    read_audit_capacity: int = Field(
        default=500, ge=1, le=2000, validation_alias="DASHTAM_READ_AUDIT_CAPACITY"
    )
    read_audit_flush_interval_seconds: float = Field(
        default=0.2, gt=0, validation_alias="DASHTAM_READ_AUDIT_FLUSH_INTERVAL"
    )
    read_audit_max_wait_seconds: float = Field(
        default=2.0, gt=0, validation_alias="DASHTAM_READ_AUDIT_MAX_WAIT"
    )
    # Sessions (docs/security.md): a session ends after the idle timeout without a refresh,
    # and in any case its lifetime after log-in; "remember me" has its own, longer, bounds.
    session_idle_timeout_seconds: int = Field(
        default=3600, ge=60, validation_alias="DASHTAM_SESSION_IDLE_TIMEOUT"
    )
    session_lifetime_seconds: int = Field(
        default=24 * 3600, ge=60, validation_alias="DASHTAM_SESSION_LIFETIME"
    )
    session_remember_me_idle_timeout_seconds: int = Field(
        default=7 * 24 * 3600, ge=60, validation_alias="DASHTAM_SESSION_REMEMBER_ME_IDLE_TIMEOUT"
    )
    session_remember_me_lifetime_seconds: int = Field(
        default=30 * 24 * 3600, ge=60, validation_alias="DASHTAM_SESSION_REMEMBER_ME_LIFETIME"
    )
    # Administrators reach admin routes only from a session opened with a second factor.
    require_mfa_for_admins: bool = Field(
        default=False, validation_alias="DASHTAM_REQUIRE_MFA_FOR_ADMINS"
    )
    # Provider credentials are sealed (AES-256-GCM) under these keys; unset, one is derived from
    # the secret key. Comma-separated 32-byte keys (base64url or hex), the first seals, all open.
    # Checked where the cipher is built, like the audit keys: pydantic's errors echo the input.
    credentials_key: SecretStr | None = Field(
        default=None, validation_alias="DASHTAM_CREDENTIALS_KEY"
    )

    # Live sync (docs/sync.md). Loopback http claim URLs are for tests and local bridges only.
    sync_interval_seconds: float = Field(
        default=4 * 3600, ge=60, validation_alias="DASHTAM_SYNC_INTERVAL"
    )
    sync_first_days: int = Field(
        default=90, ge=1, le=730, validation_alias="DASHTAM_SYNC_FIRST_DAYS"
    )
    sync_overlap_days: int = Field(
        default=7, ge=0, le=60, validation_alias="DASHTAM_SYNC_OVERLAP_DAYS"
    )
    sync_max_requests_per_day: int = Field(
        default=24, ge=1, validation_alias="DASHTAM_SYNC_MAX_REQUESTS_PER_DAY"
    )
    sync_timeout_seconds: float = Field(default=30.0, gt=0, validation_alias="DASHTAM_SYNC_TIMEOUT")
    sync_allow_loopback_http: bool = Field(
        default=False, validation_alias="DASHTAM_SYNC_ALLOW_LOOPBACK_HTTP"
    )
    # A SimpleFIN server on a private network (a self-hosted bridge on the LAN).
    sync_allow_private: bool = Field(default=False, validation_alias="DASHTAM_SYNC_ALLOW_PRIVATE")
    # The scheduler: how often a worker looks for due syncs; whether the API process runs one.
    worker_poll_seconds: float = Field(default=30.0, gt=0, validation_alias="DASHTAM_WORKER_POLL")
    sync_in_api: bool = Field(default=False, validation_alias="DASHTAM_SYNC_IN_API")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalize_database_url(value)

    @property
    def effective_log_format(self) -> Literal["console", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment is Environment.PRODUCTION else "console"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def check_production_safety(self) -> list[str]:
        """Problems that make this configuration unsafe to serve real users."""
        problems: list[str] = []
        if self.environment is Environment.PRODUCTION:
            secret = self.secret_key.get_secret_value()
            if secret == _DEVELOPMENT_SECRET or len(secret) < 32:
                problems.append("DASHTAM_SECRET_KEY must be set to at least 32 random characters")
        return problems


def normalize_database_url(url: str) -> str:
    """Accept the plain URLs operators type and pick the async driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.removeprefix("sqlite://")
    return url


@lru_cache
def get_settings() -> Settings:
    """The settings of this process (cached; tests build their own ``Settings``)."""
    return Settings()

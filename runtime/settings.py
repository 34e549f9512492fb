"""All configuration, read in one place (environment variables prefixed ``KIM_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "kim-development-secret-change-me-0123456789"  # noqa: S105 - development only
DEV_AUDIT_PSEUDONYM_SECRET = "kim-development-audit-pseudonyms-change-me"  # noqa: S105
DEV_IDEMPOTENCY_SECRET = "kim-development-idempotency-change-me"  # noqa: S105
MIN_SECRET_LENGTH = 32
"""Production secrets are at least this long (characters)."""


class Settings(BaseSettings):
    """Settings of every KIM process. The README lists them."""

    model_config = SettingsConfigDict(env_prefix="KIM_", env_file=".env", extra="ignore")

    event_store: str = Field(
        default="sqlite:///kim-data",
        description="sqlite:///<dir or file> (embedded) or postgresql://... (production)",
    )
    pg_schema: str = Field(default="kim", description="PostgreSQL schema of the event store")
    pg_max_connections: int = Field(default=20, ge=2, le=100)
    # Database faults: bounded waits on every database call; an outage answers 503.
    db_statement_timeout: float = Field(
        default=5.0, gt=0, le=600, description="seconds a statement may run (statement_timeout)"
    )
    db_connect_timeout: float = Field(
        default=3.0, gt=0, le=60, description="seconds to open a connection (at least 2)"
    )
    db_pool_timeout: float = Field(
        default=5.0, gt=0, le=60, description="seconds to wait for a free pooled connection"
    )
    db_retry_after: int = Field(
        default=5, ge=1, le=3600, description="Retry-After seconds of a 503 in a database outage"
    )
    bus: str = Field(default="memory", description="memory or nats://host:4222[,nats://...]")
    nats_stream: str = Field(default="KIM", description="JetStream stream holding kim.> subjects")
    relay_poll_interval: float = Field(default=0.1, gt=0, description="seconds between log polls")
    # Bus faults and readiness: bounded waits on the bus, a bounded stop, honest /readyz.
    bus_ack_timeout: float = Field(
        default=5.0, gt=0, description="seconds a batch of publishes may wait for its acks"
    )
    bus_request_timeout: float = Field(
        default=5.0, gt=0, description="seconds a bus request (connect, stream, consumer) may take"
    )
    nats_replicas: int = Field(
        default=1, ge=1, le=5, description="replicas of the JetStream stream it creates"
    )
    stop_timeout: float = Field(
        default=5.0, gt=0, description="seconds the platform's stop may take in all"
    )
    ready_max_lag: int = Field(
        default=10_000, ge=0, description="events a log may be behind the relay/a consumer (0: off)"
    )
    ready_stall_seconds: float = Field(
        default=30.0, ge=0, description="seconds behind without progress that count as a stall"
    )
    ready_retry_after: int = Field(
        default=5, ge=1, description="Retry-After seconds of a 503 from /readyz"
    )
    jwt_secret: str = Field(default=DEV_SECRET, description="HS256 secret (development)")
    jwt_algorithms: list[str] = Field(default=["HS256"])
    jwt_issuer: str = Field(default="kim-dev")
    jwt_audience: str = Field(default="kim")
    jwks_url: str | None = Field(default=None, description="OIDC JWKS URL (production)")
    token_max_lifetime: int = Field(
        default=12 * 3600,
        gt=0,
        description="seconds a token may be valid at most (exp - iat; without iat, exp - now)",
    )
    audit_pseudonym_secret: str = Field(
        default=DEV_AUDIT_PSEUDONYM_SECRET,
        description="HMAC secret of the auditors' person pseudonyms; required in production",
    )
    idempotency_secret: str = Field(
        default=DEV_IDEMPOTENCY_SECRET,
        description="HMAC secret of the idempotency table's digests; required in production",
    )
    key_file: str | None = Field(
        default=None,
        description="key-encryption key file (kim keys init); required with PostgreSQL, "
        "embedded default ./kim-keys/<store>.kek.json",
    )
    signing_key_file: str | None = Field(
        default=None,
        description="Ed25519 key signing the chain's checkpoints (kim audit checkpoint "
        "--init-key); with PostgreSQL nothing is signed without it, embedded default "
        "./kim-keys/<store>.signing.json",
    )
    erasure_rotation_hours: float = Field(
        default=24, gt=0, le=24 * 30, description="erasures are final (new key epoch) within"
    )
    key_check_interval: float = Field(
        default=3600, gt=0, description="seconds between the checks for a due key rotation"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    service_name: str = "kim"
    trace_console: bool = Field(default=False, description="print spans to the console")
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="largest request body (413 above it)"
    )
    max_graphql_bytes: int = Field(
        default=64 * 1024, ge=1024, description="largest /graphql body: query and variables"
    )
    max_header_bytes: int = Field(
        default=16 * 1024, ge=1024, description="request headers in all (431 above it)"
    )
    rate_limit: str = Field(
        default="50/second;200/10 seconds",
        description="requests per principal (token subject and tenant): 20/s, bursts of 50",
    )
    address_rate_limit: str = Field(
        default="50/second;200/10 seconds",
        description="requests per client address without a valid token",
    )
    auth_failure_limit: str = Field(
        default="10/minute", description="failed sign-ins (401) per client address before 429"
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="where the counters live (limits storage URL, e.g. redis://host:6379)",
    )
    # Deployment: `kim cluster up` (kim/cluster_cli.py), the separate processes on one machine.
    cluster_base_port: int = Field(
        default=8001,
        ge=1,
        le=65530,
        description="first service port of `kim cluster up`: tenancy, coordination, "
        "case_management, audit, gateway on this port and the next four",
    )
    proxy_port: int = Field(
        default=8000, ge=1, le=65535, description="where `kim cluster up`'s nginx listens"
    )

    @field_validator("event_store")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgres://")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @field_validator("bus")
    @classmethod
    def _known_bus(cls, value: str) -> str:
        if value != "memory" and not value.startswith(("nats://", "tls://")):
            raise ValueError("must be 'memory' or a nats:// URL")
        return value

    @field_validator("rate_limit", "address_rate_limit", "auth_failure_limit")
    @classmethod
    def _rate_limits(cls, value: str) -> str:
        from limits import parse_many

        parse_many(value)  # ValueError names what it cannot read
        return value


class InsecureSettings(Exception):
    """A production process (``KIM_JWKS_URL`` set) refused to start: a secret is missing or
    still a development default. The message is for operators, in German."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "KIM startet nicht: in Produktion (KIM_JWKS_URL gesetzt) fehlen eigene Geheimnisse. "
            + " ".join(problems)
        )


def production_problems(settings: Settings) -> list[str]:
    """What keeps a production process from starting (German, for operators); [] in
    development (no ``KIM_JWKS_URL``), where the development defaults are fine.

    In production the audit pseudonyms and the idempotency digests need secrets of their
    own (not the JWT secret, not a development default, at least ``MIN_SECRET_LENGTH``
    characters), and the public development JWT secret must not be in use.
    """
    if not settings.jwks_url:
        return []
    problems = []
    if settings.jwt_secret == DEV_SECRET:
        problems.append(
            "KIM_JWT_SECRET ist noch das öffentliche Entwicklungsgeheimnis; bitte ein eigenes"
            " Geheimnis setzen."
        )
    own = {
        "KIM_AUDIT_PSEUDONYM_SECRET": (settings.audit_pseudonym_secret, DEV_AUDIT_PSEUDONYM_SECRET),
        "KIM_IDEMPOTENCY_SECRET": (settings.idempotency_secret, DEV_IDEMPOTENCY_SECRET),
    }
    for name, (value, default) in own.items():
        if value in (default, DEV_SECRET, ""):
            problems.append(f"{name} fehlt (oder ist ein Entwicklungsgeheimnis); bitte setzen.")
        elif value == settings.jwt_secret:
            problems.append(f"{name} darf nicht gleich KIM_JWT_SECRET sein.")
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{name} muss mindestens {MIN_SECRET_LENGTH} Zeichen lang sein.")
    if not problems and settings.audit_pseudonym_secret == settings.idempotency_secret:
        problems.append(
            "KIM_AUDIT_PSEUDONYM_SECRET und KIM_IDEMPOTENCY_SECRET müssen verschieden sein."
        )
    return problems


def check_production(settings: Settings) -> None:
    """Refuse to start a production process with development secrets (``InsecureSettings``)."""
    problems = production_problems(settings)
    if problems:
        raise InsecureSettings(problems)


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""All configuration, read in one place (environment variables prefixed ``KIM_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "kim-development-secret-change-me-0123456789"  # noqa: S105 - development only


class Settings(BaseSettings):
    """Settings of every KIM process. The README lists them."""

    model_config = SettingsConfigDict(env_prefix="KIM_", env_file=".env", extra="ignore")

    event_store: str = Field(
        default="sqlite:///kim-data",
        description="sqlite:///<dir or file> (embedded) or postgresql://... (production)",
    )
    pg_schema: str = Field(default="kim", description="PostgreSQL schema of the event store")
    pg_max_connections: int = Field(default=20, ge=2, le=100)
    bus: str = Field(default="memory", description="memory or nats://host:4222[,nats://...]")
    nats_stream: str = Field(default="KIM", description="JetStream stream holding kim.> subjects")
    relay_poll_interval: float = Field(default=0.1, gt=0, description="seconds between log polls")
    jwt_secret: str = Field(default=DEV_SECRET, description="HS256 secret (development)")
    jwt_algorithms: list[str] = Field(default=["HS256"])
    jwt_issuer: str = Field(default="kim-dev")
    jwt_audience: str = Field(default="kim")
    jwks_url: str | None = Field(default=None, description="OIDC JWKS URL (production)")
    host: str = "127.0.0.1"
    port: int = 8000
    service_name: str = "kim"
    trace_console: bool = Field(default=False, description="print spans to the console")

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


@lru_cache
def get_settings() -> Settings:
    return Settings()

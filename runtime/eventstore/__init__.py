"""Per-tenant event logs on SQLite (embedded), PostgreSQL (production) or in memory (tests)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from runtime.eventstore.base import (
    PLATFORM_TENANT,
    EventLogStore,
    IdempotencyKeyTaken,
    LogNotEmpty,
)
from runtime.eventstore.outage import DbTimeouts, StoreUnavailable, unavailable
from runtime.eventstore.recorder import TenantLogRecorder
from runtime.eventstore.records import LogRecord

__all__ = [
    "PLATFORM_TENANT",
    "DbTimeouts",
    "EventLogStore",
    "IdempotencyKeyTaken",
    "LogNotEmpty",
    "LogRecord",
    "StoreUnavailable",
    "TenantLogRecorder",
    "open_store",
    "unavailable",
]


def open_store(
    url: str,
    *,
    pg_schema: str = "kim",
    pg_max_connections: int = 20,
    timeouts: DbTimeouts | None = None,
) -> EventLogStore:
    """Open the store named by ``KIM_EVENT_STORE`` (PostgreSQL: without touching it yet;
    ``timeouts`` default to the ``KIM_DB_*`` settings).

    ``sqlite:///relative/dir``, ``sqlite:////absolute/dir`` or a path ending in ``.db``
    for a single file; ``postgresql://user@host:port/db`` for PostgreSQL; ``memory://``
    for a new, empty store in this process (tests only: nothing survives the process).
    """
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        from runtime.eventstore.sqlite import SqliteEventLogStore

        raw = unquote(url[len("sqlite://") :])
        # sqlite:///rel -> "/rel" is relative (three slashes), sqlite:////abs is absolute.
        path = raw[1:] if raw.startswith("/") else raw
        if not path:
            raise ValueError("sqlite URL needs a path, e.g. sqlite:///kim-data")
        return SqliteEventLogStore(Path(path))
    if parsed.scheme in {"postgresql", "postgres"}:
        from runtime.eventstore.postgres import PostgresEventLogStore

        if timeouts is None:
            from runtime.settings import get_settings

            timeouts = DbTimeouts.of(get_settings())
        return PostgresEventLogStore(
            url, schema=pg_schema, max_connections=pg_max_connections, timeouts=timeouts
        )
    if parsed.scheme == "memory":
        if url != "memory://":
            raise ValueError(f"a memory store has no name or path: memory://, got {url!r}")
        from runtime.eventstore.memory import MemoryEventLogStore

        return MemoryEventLogStore()
    raise ValueError(
        f"KIM_EVENT_STORE must be sqlite:///<path>, postgresql://... or memory://, got {url!r}"
    )

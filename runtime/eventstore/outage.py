"""Database faults: what counts as an outage, the bounds on every wait, one warning per outage.

``unavailable`` is the one place that tells a fault of the database (it is down, a
connection broke, no pooled connection came in time, a statement ran past its timeout,
SQLite's file is locked) from a bug. The edge answers the first with 503 and
``Retry-After`` (``runtime.http.problems``, the gateway), the relay retries it quietly.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtime.settings import Settings

log = logging.getLogger("runtime.eventstore")


class StoreUnavailable(Exception):
    """The database cannot be used right now; the request may be retried later."""


class DatabaseRolesMissing(StoreUnavailable):
    """The DSN's role lacks what the store needs (roles, schema); the message (German) names
    what is missing and the SQL a database administrator runs once."""


@dataclass(frozen=True)
class DbTimeouts:
    """Bounds on every database wait, in seconds (``KIM_DB_*``, see ``runtime.settings``)."""

    statement: float = 5.0
    """PostgreSQL ``statement_timeout`` of every pooled connection."""
    connect: float = 3.0
    """Opening a connection (libpq rounds up to whole seconds, at least 2)."""
    pool: float = 5.0
    """Waiting for a pooled connection."""
    retry_after: int = 5
    """The ``Retry-After`` of a 503 during an outage."""

    @classmethod
    def of(cls, settings: Settings) -> DbTimeouts:
        return cls(
            statement=settings.db_statement_timeout,
            connect=settings.db_connect_timeout,
            pool=settings.db_pool_timeout,
            retry_after=settings.db_retry_after,
        )

    @property
    def statement_ms(self) -> int:
        return max(1, int(self.statement * 1000))

    def connection_kwargs(self) -> dict[str, Any]:
        """libpq parameters: the connect timeout, and TCP keepalives plus a user timeout so
        that a peer gone without a word (no FIN) fails a statement instead of hanging it."""
        bound = max(2, int(self.statement + self.connect + 0.999))
        return {
            "connect_timeout": max(2, int(self.connect + 0.999)),
            "keepalives": 1,
            "keepalives_idle": bound,
            "keepalives_interval": 1,
            "keepalives_count": 3,
            "tcp_user_timeout": bound * 1000,
        }


def unavailable(exc: BaseException | None) -> bool:
    """True if ``exc`` (or what it was raised from) is a fault of the database, not of the
    request: the client should retry later (HTTP 503 with ``Retry-After``)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, StoreUnavailable):
            return True
        # psycopg's OperationalError covers a refused or lost connection, the pool's
        # PoolTimeout, a statement cancelled by statement_timeout (QueryCanceled), an admin
        # shutdown, lock and serialisation failures; never imported, never raised.
        psycopg = sys.modules.get("psycopg")
        if psycopg is not None and isinstance(exc, psycopg.OperationalError):
            return True
        if isinstance(exc, sqlite3.OperationalError) and (
            "locked" in str(exc) or "busy" in str(exc)
        ):
            return True
        exc = exc.__cause__
    return False


class OutageLog:
    """One warning when an outage begins, one when it ends; nothing per failed attempt."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._lock = threading.Lock()
        self._since: float | None = None
        self.last_connect_error: str | None = None

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        cause = f"{type(exc).__name__}: {str(exc).strip() or '-'}"
        if self.last_connect_error:
            cause += f" (last connection error: {self.last_connect_error})"
        log.warning("%s unavailable, requests answer 503 until it returns: %s", self.what, cause)

    def recovered(self) -> None:
        if self._since is None:
            return
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            log.warning("%s available again after %.1f s", self.what, time.monotonic() - since)


def log_failure(logger: logging.Logger, exc: BaseException, message: str, *args: object) -> None:
    """Log a failed attempt of a background task that retries: a bug with its traceback; a
    database fault only at debug level (the store logs its outage once, as a warning)."""
    if unavailable(exc):
        logger.debug(message + " (database unavailable: %s)", *args, exc)
    else:
        logger.error(message, *args, exc_info=exc)

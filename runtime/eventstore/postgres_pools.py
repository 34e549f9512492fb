"""Connection pools of the PostgreSQL stores: bounded waits, stale connections dropped.

Every pooled connection runs with ``statement_timeout`` set, opens within the connect
timeout and waits at most the pool timeout for a free connection (``DbTimeouts``). Pools
are opened lazily, after the schema's migration, so constructing a store touches no
database. A pool gives up reconnecting at once (``reconnect_timeout=0``) and connects again
when a request asks: once PostgreSQL returns, the next request gets a fresh connection.
After a restart the idle connections are dead; a checkout notices it without a round trip
(the socket is readable while idle) and drains the pool.
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg.pq import ConnStatus
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from runtime.eventstore.outage import DbTimeouts, OutageLog, StoreUnavailable, unavailable

log = logging.getLogger("runtime.eventstore")
Pool = ConnectionPool[psycopg.Connection[TupleRow]]
_OUTAGES: dict[str, OutageLog] = {}
"""Pool name -> the outage log its connection errors are noted in."""


class _QuietReconnects(logging.Filter):
    """The pool logs a warning per failed connection attempt; during an outage that is a
    line per request. The store logs the outage once (``OutageLog``) and names the last
    connection error there."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith("error connecting in"):
            name = str(record.args[0]) if isinstance(record.args, tuple) and record.args else ""
            outage = _OUTAGES.get(name)
            if outage is not None:
                outage.last_connect_error = record.getMessage().split(": ", 1)[-1].strip()
                return False
        return not message.startswith(("reconnection attempt in pool", "discarding closed"))


logging.getLogger("psycopg.pool").addFilter(_QuietReconnects())


def open_pool(
    dsn: str,
    *,
    name: str,
    timeouts: DbTimeouts,
    outage: OutageLog,
    min_size: int,
    max_size: int,
    role: str | None = None,
) -> Pool:
    """A pool (not yet open) whose connections have the statement timeout and, with
    ``role``, are that role from the start."""
    setting = str(timeouts.statement_ms)

    def configure(conn: psycopg.Connection[TupleRow]) -> None:
        conn.execute("SELECT set_config('statement_timeout', %s, false)", (setting,))
        if role is not None:
            conn.execute(f"SET ROLE {role}")

    _OUTAGES[name] = outage
    return ConnectionPool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        open=False,
        name=name,
        kwargs={"autocommit": True, **timeouts.connection_kwargs()},
        configure=configure,
        timeout=timeouts.pool,
        reconnect_timeout=0,
    )


def _stale(conn: psycopg.Connection[TupleRow]) -> bool:
    """An idle connection whose server went away: its socket is readable (the server's
    goodbye, then EOF), and reading it breaks the connection. No round trip."""
    if conn.closed or conn.broken:
        return True
    for _ in range(3):  # the goodbye is read as a notice; the EOF after it breaks it
        try:
            readable, _, _ = select.select([conn.fileno()], [], [], 0)
        except (OSError, ValueError):
            return True
        if not readable:
            return False
        try:
            conn.pgconn.consume_input()
            conn.pgconn.is_busy()  # parse what came, so that a next read sees the EOF
        except psycopg.OperationalError:
            return True
        if conn.pgconn.status != ConnStatus.OK:
            return True
    return False


class Checkout:
    """Takes connections from a store's pools, noting faults in its ``OutageLog``.

    Before the first checkout ``ready`` runs ``prepare`` (the migration) and opens the
    pools; until it has succeeded once, every caller tries again (at most one at a time).
    """

    def __init__(
        self, what: str, timeouts: DbTimeouts, prepare: Callable[[], None], pools: list[Pool]
    ) -> None:
        self.outage = OutageLog(what)
        self.timeouts = timeouts
        self._prepare = prepare
        self.pools = pools
        self._lock = threading.Lock()
        self.opened = False

    def ready(self) -> None:
        """Raises what the database raised (``unavailable``), ``DatabaseRolesMissing``, or
        ``StoreUnavailable`` while another thread's attempt takes longer than the pool wait."""
        if self.opened:
            return
        if not self._lock.acquire(timeout=self.timeouts.pool):
            raise StoreUnavailable(f"{self.outage.what}: the migration is still running")
        try:
            if self.opened:
                return
            try:
                self._prepare()
            except Exception as e:
                self.outage.failed(e)
                raise
            for pool in self.pools:
                pool.open()
            self.opened = True
        finally:
            self._lock.release()

    def wait(self) -> float:
        # While the database is known to be down, fail fast: threads do not pile up.
        return min(self.timeouts.pool, 1.0) if self.outage.down else self.timeouts.pool

    def get(self, pool: Pool, timeout: float | None = None) -> psycopg.Connection[TupleRow]:
        if not self.opened:
            self.ready()
        wait = self.wait() if timeout is None else timeout
        try:
            conn = pool.getconn(wait)
            if _stale(conn):
                pool.putconn(conn)  # discarded: it is broken
                pool.drain()  # the other idle ones are from before the restart too
                # Down, or restarted: a fresh connection comes at once or not in time.
                self.outage.failed(StoreUnavailable("the server closed an idle connection"))
                conn = pool.getconn(self.wait() if timeout is None else timeout)
        except PoolTimeout as e:
            self.outage.failed(e)
            raise
        return conn

    @contextmanager
    def connection(
        self, pool: Pool, timeout: float | None = None
    ) -> Iterator[psycopg.Connection[TupleRow]]:
        conn = self.get(pool, timeout)
        try:
            yield conn
        except BaseException as e:
            if conn.broken or conn.closed:  # lost mid-statement: an outage
                self.outage.failed(e)
                pool.drain()
            elif unavailable(e):  # e.g. cancelled by statement_timeout: this request only
                log.warning("database statement failed: %s: %s", type(e).__name__, e)
            raise
        else:
            self.outage.recovered()
        finally:
            pool.putconn(conn)

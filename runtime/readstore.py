"""Where read models live: rows (JSON documents) and tracking positions, written together.

A projection writes its rows and the log position they reflect in one transaction, so a
redelivered event is skipped and a crash loses nothing (exactly-once effect). Rows are
documents keyed by (projection, tenant, key) with a ``kind``; the read side filters them by
tenant before anything else. SQLite (embedded: one file beside the event store) or
PostgreSQL (tables in the store's schema; reads run as the role ``kim_tenant`` under a
row-level security policy that admits only the tenants the session names).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

Doc = dict[str, Any]


@dataclass(frozen=True)
class Row:
    tenant: str
    key: str
    kind: str
    doc: Doc


class ReadTx(ABC):
    """One transaction of one projection."""

    @abstractmethod
    def get(self, tenant: str, key: str) -> Doc | None: ...

    @abstractmethod
    def put(self, tenant: str, key: str, kind: str, doc: Doc) -> None: ...

    @abstractmethod
    def delete(self, tenant: str, key: str) -> None: ...

    @abstractmethod
    def set_position(self, tenant: str, context: str, position: int) -> None: ...


class ReadStore(ABC):
    @abstractmethod
    def transaction(self, projection: str) -> AbstractContextManager[ReadTx]: ...

    @abstractmethod
    def positions(self, projection: str) -> dict[tuple[str, str], int]: ...

    @abstractmethod
    def rows(
        self, projection: str, tenants: Iterable[str], kind: str | None = None
    ) -> list[Row]: ...

    @abstractmethod
    def page(
        self,
        projection: str,
        tenant: str,
        kind: str,
        *,
        match: dict[str, list[str | None]] | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[Row]:
        """One page of a tenant's rows of ``kind`` in key order, after the key ``after``.

        ``match`` keeps rows whose document field (one of ``PAGE_FIELDS``) has one of the
        values (``None``: the field is null or missing); the fields have indexes, so a page
        costs the same however many rows the tenant has.
        """

    @abstractmethod
    def all_rows(self, projection: str) -> Iterator[Row]:
        """Every row of the projection, ordered by tenant and key (for checksums)."""

    @abstractmethod
    def replace_tenant(
        self,
        projection: str,
        tenant: str,
        rows: Iterable[tuple[str, str, Doc]],
        positions: dict[tuple[str, str], int],
    ) -> None:
        """In one transaction: the tenant's rows of the projection become ``rows``
        (key, kind, doc) and its positions ``positions`` (a rebuild's bulk write; readers
        see the old rows or the new ones, never an empty tenant)."""  # fmt: skip

    @abstractmethod
    def close(self) -> None: ...

    def position(self, projection: str, tenant: str, context: str) -> int:
        return self.positions(projection).get((tenant, context), 0)

    def checksum(self, projection: str) -> str:
        digest = hashlib.sha256()
        for row in self.all_rows(projection):
            digest.update(
                json.dumps([row.tenant, row.key, row.kind, row.doc], sort_keys=True).encode()
            )
        return digest.hexdigest()


ANALYZE_FROM = 5000
"""Rows of one rebuilt tenant from which the PostgreSQL read store refreshes its statistics."""

PAGE_FIELDS = ("position_id", "state")
"""Document fields a page may be filtered by (each has an index with the key behind it)."""


def _page_fields(
    match: dict[str, list[str | None]] | None,
) -> list[tuple[str, list[str], bool]]:
    """(field, values, also null) per filter, checked against ``PAGE_FIELDS``."""
    found = sorted((match or {}).items())
    unknown = [f for f, _ in found if f not in PAGE_FIELDS]
    if unknown:
        raise ValueError(f"rows can be filtered by {', '.join(PAGE_FIELDS)}, not {unknown}")
    return [(f, [v for v in values if v is not None], None in values) for f, values in found]


def page_query(
    table: str,
    expr: Callable[[str], str],
    mark: str,
    hint: Callable[[str | None], str],
    projection: str,
    tenant: str,
    kind: str,
    match: dict[str, list[str | None]] | None,
    after: str | None,
    limit: int,
) -> tuple[str, list[Any]] | None:
    """The SQL of ``page`` (None: nothing can match), the same shape on both stores.

    The first filter field leads: one sub-select per wanted value, each an equality on the
    field's index followed by the key (so it reads at most ``limit`` index entries), merged
    in key order. Planners choose that index without statistics, which a freshly rebuilt
    read model does not have yet.
    """
    fields = _page_fields(match)
    lead, rest = (fields[0], fields[1:]) if fields else (None, [])
    where = f"projection={mark} AND tenant={mark} AND kind={mark}"
    args: list[Any] = [projection, tenant, kind]
    for field, values, null in rest:
        if not values and not null:
            return None
        alternatives = [f"{expr(field)} IN ({','.join([mark] * len(values))})"] if values else []
        alternatives += [f"{expr(field)} IS NULL"] if null else []
        where += f" AND ({' OR '.join(alternatives)})"
        args += values
    if after is not None:
        where += f" AND key > {mark}"
        args.append(after)
    if lead is None:
        conditions: list[tuple[str, list[Any]]] = [("", [])]
    else:
        field, values, null = lead
        conditions = [(f" AND {expr(field)} = {mark}", [v]) for v in values]
        conditions += [(f" AND {expr(field)} IS NULL", [])] if null else []
    if not conditions:
        return None
    selects, all_args = [], []
    source = f"{table}{hint(lead[0] if lead else None)}"
    for number, (condition, values) in enumerate(conditions):
        selects.append(
            f"SELECT * FROM (SELECT tenant, key, kind, doc FROM {source} WHERE {where}{condition}"
            f" ORDER BY key LIMIT {mark}) AS page_{number}"
        )
        all_args += [*args, *values, limit]
    return " UNION ALL ".join(selects) + f" ORDER BY key LIMIT {mark}", [*all_args, limit]


def _dump(doc: Doc) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# -- SQLite --------------------------------------------------------------------------------
SQLITE_DDL = """
CREATE TABLE IF NOT EXISTS rows (
    projection TEXT NOT NULL, tenant TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL,
    doc TEXT NOT NULL, PRIMARY KEY (projection, tenant, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rows_kind ON rows (projection, tenant, kind);
CREATE INDEX IF NOT EXISTS rows_position_id ON rows
    (projection, tenant, kind, json_extract(doc, '$.position_id'), key);
CREATE INDEX IF NOT EXISTS rows_state ON rows
    (projection, tenant, kind, json_extract(doc, '$.state'), key);
CREATE TABLE IF NOT EXISTS positions (
    projection TEXT NOT NULL, tenant TEXT NOT NULL, context TEXT NOT NULL,
    position INTEGER NOT NULL, PRIMARY KEY (projection, tenant, context)
) WITHOUT ROWID;
"""


class _SqliteTx(ReadTx):
    def __init__(self, conn: sqlite3.Connection, projection: str) -> None:
        self.conn = conn
        self.projection = projection

    def get(self, tenant: str, key: str) -> Doc | None:
        row = self.conn.execute(
            "SELECT doc FROM rows WHERE projection=? AND tenant=? AND key=?",
            (self.projection, tenant, key),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, tenant: str, key: str, kind: str, doc: Doc) -> None:
        self.conn.execute(
            "INSERT INTO rows (projection, tenant, key, kind, doc) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (projection, tenant, key) DO UPDATE SET kind=excluded.kind,"
            " doc=excluded.doc",
            (self.projection, tenant, key, kind, _dump(doc)),
        )

    def delete(self, tenant: str, key: str) -> None:
        self.conn.execute(
            "DELETE FROM rows WHERE projection=? AND tenant=? AND key=?",
            (self.projection, tenant, key),
        )

    def set_position(self, tenant: str, context: str, position: int) -> None:
        self.conn.execute(
            "INSERT INTO positions (projection, tenant, context, position) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (projection, tenant, context) DO UPDATE SET position=excluded.position",
            (self.projection, tenant, context, position),
        )


class SqliteReadStore(ReadStore):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=60.0
        )  # a parallel rebuild's processes take turns writing
        # Another process (a parallel rebuild's worker) may be setting up the same file.
        deadline = time.monotonic() + 60.0
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.executescript(SQLITE_DDL)
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self, projection: str) -> Iterator[ReadTx]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(self._conn, projection)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def positions(self, projection: str) -> dict[tuple[str, str], int]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT tenant, context, position FROM positions WHERE projection=?",
                (projection,),
            ).fetchall()
        return {(t, c): int(p) for t, c, p in rows}

    def position(self, projection: str, tenant: str, context: str) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT position FROM positions WHERE projection=? AND tenant=? AND context=?",
                (projection, tenant, context),
            ).fetchone()
        return int(row[0]) if row else 0

    def rows(self, projection: str, tenants: Iterable[str], kind: str | None = None) -> list[Row]:
        wanted = sorted(set(tenants))
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        # By kind through its index: without statistics SQLite would scan every row of each
        # tenant by the primary key (a district's few summary rows among 100,000 cases).
        source = "rows" if kind is None else "rows INDEXED BY rows_kind"
        sql = (
            f"SELECT tenant, key, kind, doc FROM {source}"
            f" WHERE projection=? AND tenant IN ({marks})"
        )
        args: list[Any] = [projection, *wanted]
        if kind is not None:
            sql += " AND kind=?"
            args.append(kind)
        with self._lock:
            found = self._conn.execute(sql + " ORDER BY tenant, key", args).fetchall()
        return [Row(t, k, kd, json.loads(d)) for t, k, kd, d in found]

    def page(
        self,
        projection: str,
        tenant: str,
        kind: str,
        *,
        match: dict[str, list[str | None]] | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[Row]:
        query = page_query(
            "rows", lambda f: f"json_extract(doc, '$.{f}')", "?",
            lambda lead: f" INDEXED BY rows_{lead or 'kind'}",
            projection, tenant, kind, match, after, limit,
        )  # fmt: skip
        if query is None:
            return []
        with self._lock:
            found = self._conn.execute(*query).fetchall()
        return [Row(t, k, kd, json.loads(d)) for t, k, kd, d in found]

    def all_rows(self, projection: str) -> Iterator[Row]:
        with self._lock:
            found = self._conn.execute(
                "SELECT tenant, key, kind, doc FROM rows WHERE projection=? ORDER BY tenant, key",
                (projection,),
            ).fetchall()
        for t, k, kd, d in found:
            yield Row(t, k, kd, json.loads(d))

    def replace_tenant(
        self, projection: str, tenant: str, rows: Iterable[tuple[str, str, Doc]],
        positions: dict[tuple[str, str], int],
    ) -> None:  # fmt: skip
        with self.transaction(projection) as tx:
            self._conn.execute(
                "DELETE FROM rows WHERE projection=? AND tenant=?", (projection, tenant)
            )
            self._conn.execute(
                "DELETE FROM positions WHERE projection=? AND tenant=?", (projection, tenant)
            )
            self._conn.executemany(
                "INSERT INTO rows (projection, tenant, key, kind, doc) VALUES (?, ?, ?, ?, ?)",
                ((projection, tenant, key, kind, _dump(doc)) for key, kind, doc in rows),
            )
            for (t, context), position in positions.items():
                tx.set_position(t, context, position)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


# -- PostgreSQL ----------------------------------------------------------------------------
PG_DDL = """
CREATE TABLE IF NOT EXISTS {schema}.rm_rows (
    projection TEXT NOT NULL, tenant TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL,
    doc JSONB NOT NULL, PRIMARY KEY (projection, tenant, key)
);
CREATE INDEX IF NOT EXISTS rm_rows_kind ON {schema}.rm_rows (projection, tenant, kind);
-- Page filters as generated columns: under row-level security only leakproof operators may
-- be index conditions, and jsonb's ->> is not, so an expression index would go unused.
ALTER TABLE {schema}.rm_rows ADD COLUMN IF NOT EXISTS position_id TEXT
    GENERATED ALWAYS AS (doc->>'position_id') STORED;
ALTER TABLE {schema}.rm_rows ADD COLUMN IF NOT EXISTS state TEXT
    GENERATED ALWAYS AS (doc->>'state') STORED;
CREATE INDEX IF NOT EXISTS rm_rows_by_position_id ON {schema}.rm_rows
    (projection, tenant, kind, position_id, key);
CREATE INDEX IF NOT EXISTS rm_rows_by_state ON {schema}.rm_rows
    (projection, tenant, kind, state, key);
CREATE TABLE IF NOT EXISTS {schema}.rm_positions (
    projection TEXT NOT NULL, tenant TEXT NOT NULL, context TEXT NOT NULL,
    position BIGINT NOT NULL, PRIMARY KEY (projection, tenant, context)
);
-- Reads for the gateway run as kim_tenant and see only the tenants their session names.
ALTER TABLE {schema}.rm_rows ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON {schema}.rm_rows TO kim_tenant;
DROP POLICY IF EXISTS tenant_reads ON {schema}.rm_rows;
CREATE POLICY tenant_reads ON {schema}.rm_rows FOR SELECT TO kim_tenant
    USING (tenant = ANY (string_to_array(current_setting('kim.tenants', true), ',')));
"""


class _PgTx(ReadTx):
    def __init__(self, conn: psycopg.Connection[TupleRow], schema: str, projection: str) -> None:
        self.conn = conn
        self.schema = schema
        self.projection = projection

    def get(self, tenant: str, key: str) -> Doc | None:
        row = self.conn.execute(
            f"SELECT doc FROM {self.schema}.rm_rows"
            " WHERE projection=%s AND tenant=%s AND key=%s".encode(),
            (self.projection, tenant, key),
            prepare=True,
        ).fetchone()
        return dict(row[0]) if row else None

    def put(self, tenant: str, key: str, kind: str, doc: Doc) -> None:
        self.conn.execute(
            f"INSERT INTO {self.schema}.rm_rows (projection, tenant, key, kind, doc)"
            " VALUES (%s, %s, %s, %s, %s::jsonb) ON CONFLICT (projection, tenant, key)"
            " DO UPDATE SET kind=excluded.kind, doc=excluded.doc".encode(),
            (self.projection, tenant, key, kind, _dump(doc)),
            prepare=True,
        )

    def delete(self, tenant: str, key: str) -> None:
        self.conn.execute(
            f"DELETE FROM {self.schema}.rm_rows"
            " WHERE projection=%s AND tenant=%s AND key=%s".encode(),
            (self.projection, tenant, key),
        )

    def set_position(self, tenant: str, context: str, position: int) -> None:
        self.conn.execute(
            f"INSERT INTO {self.schema}.rm_positions (projection, tenant, context, position)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (projection, tenant, context)"
            " DO UPDATE SET position=excluded.position".encode(),
            (self.projection, tenant, context, position),
            prepare=True,
        )


class PostgresReadStore(ReadStore):
    """Read models in the event store's schema, on a pool of their own (two connections)."""

    def __init__(self, dsn: str, schema: str, max_connections: int = 2) -> None:
        self.schema = schema
        with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('kim-migrate'))")
            conn.execute(PG_DDL.format(schema=schema).encode())
        self.pool: ConnectionPool[psycopg.Connection[TupleRow]] = ConnectionPool(
            dsn,
            min_size=1,
            max_size=max_connections,
            open=True,
            name=f"kim-{schema}-read",
            kwargs={"autocommit": True},
            timeout=30.0,
        )

    @contextmanager
    def transaction(self, projection: str) -> Iterator[ReadTx]:
        with self.pool.connection() as conn, conn.pipeline(), conn.transaction():
            # Pipeline mode: the writes of a batch go out without waiting for each answer.
            # Read models are rebuilt from the log: their commit need not wait for the disk.
            # Rows and position stay in one transaction, so a crash loses a consistent tail
            # that the projection applies again from its last durable position.
            conn.execute("SET LOCAL synchronous_commit = off", prepare=True)
            yield _PgTx(conn, self.schema, projection)

    def position(self, projection: str, tenant: str, context: str) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT position FROM {self.schema}.rm_positions"
                " WHERE projection=%s AND tenant=%s AND context=%s".encode(),
                (projection, tenant, context),
            ).fetchone()
        return int(row[0]) if row else 0

    def positions(self, projection: str) -> dict[tuple[str, str], int]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT tenant, context, position FROM {self.schema}.rm_positions"
                " WHERE projection=%s".encode(),
                (projection,),
            ).fetchall()
        return {(t, c): int(p) for t, c, p in rows}

    def rows(self, projection: str, tenants: Iterable[str], kind: str | None = None) -> list[Row]:
        wanted = sorted(set(tenants))
        if not wanted:
            return []
        sql = (
            f"SELECT tenant, key, kind, doc FROM {self.schema}.rm_rows"
            " WHERE projection=%s AND tenant = ANY(%s)"
        )
        args: list[Any] = [projection, wanted]
        if kind is not None:
            sql += " AND kind=%s"
            args.append(kind)
        with self.pool.connection() as conn, conn.transaction():
            # Below the gateway's own filter: the session may only see the named tenants.
            conn.execute("SET LOCAL ROLE kim_tenant")
            conn.execute("SELECT set_config('kim.tenants', %s, true)", (",".join(wanted),))
            found = conn.execute((sql + " ORDER BY tenant, key").encode(), args).fetchall()
        return [Row(t, k, kd, dict(d)) for t, k, kd, d in found]

    def page(
        self,
        projection: str,
        tenant: str,
        kind: str,
        *,
        match: dict[str, list[str | None]] | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[Row]:
        query = page_query(
            f"{self.schema}.rm_rows", lambda f: f, "%s", lambda lead: "",
            projection, tenant, kind, match, after, limit,
        )  # fmt: skip
        if query is None:
            return []
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SET LOCAL ROLE kim_tenant")
            conn.execute("SELECT set_config('kim.tenants', %s, true)", (tenant,))
            found = conn.execute(query[0].encode(), query[1]).fetchall()
        return [Row(t, k, kd, dict(d)) for t, k, kd, d in found]

    def all_rows(self, projection: str) -> Iterator[Row]:
        with self.pool.connection() as conn:
            found = conn.execute(
                f"SELECT tenant, key, kind, doc FROM {self.schema}.rm_rows"
                " WHERE projection=%s ORDER BY tenant, key".encode(),
                (projection,),
            ).fetchall()
        for t, k, kd, d in found:
            yield Row(t, k, kd, dict(d))

    def replace_tenant(
        self, projection: str, tenant: str, rows: Iterable[tuple[str, str, Doc]],
        positions: dict[tuple[str, str], int],
    ) -> None:  # fmt: skip
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SET LOCAL synchronous_commit = off")
            for table in ("rm_rows", "rm_positions"):
                conn.execute(
                    f"DELETE FROM {self.schema}.{table} WHERE projection=%s AND tenant=%s".encode(),
                    (projection, tenant),
                )
            with conn.cursor().copy(
                f"COPY {self.schema}.rm_rows (projection, tenant, key, kind, doc)"
                " FROM STDIN".encode()
            ) as copy:
                written = 0
                for key, kind, doc in rows:
                    copy.write_row((projection, tenant, key, kind, _dump(doc)))
                    written += 1
            tx = _PgTx(conn, self.schema, projection)
            for (t, context), position in positions.items():
                tx.set_position(t, context, position)
        if written >= ANALYZE_FROM:
            # A large tenant just rebuilt: statistics now, so pages use their indexes at
            # once rather than after autovacuum's next round.
            with self.pool.connection() as conn:
                conn.execute(f"ANALYZE {self.schema}.rm_rows".encode())

    def close(self) -> None:
        self.pool.close()

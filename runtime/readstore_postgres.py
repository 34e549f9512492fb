"""The read store on PostgreSQL: tables in the store's schema, reads as ``kim_tenant`` under
a row-level security policy that admits only the tenants the session names (see ``readstore``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import TupleRow

from runtime.eventstore.outage import DbTimeouts
from runtime.eventstore.postgres_pools import Checkout, open_pool
from runtime.eventstore.postgres_roles import migrate
from runtime.readstore import (
    ANALYZE_FROM,
    Doc,
    ReadStore,
    ReadTx,
    Row,
    dump_doc,
    page_query,
)

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
            (self.projection, tenant, key, kind, dump_doc(doc)),
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
    """Read models in the event store's schema, on a pool of their own (two connections).

    Nothing is touched on construction: the tables are made before the first statement,
    after ``ready`` (the event store's migration, which creates the schema and the role);
    without it, this store applies the event store's schema itself.
    """

    def __init__(
        self,
        dsn: str,
        schema: str,
        max_connections: int = 2,
        *,
        timeouts: DbTimeouts | None = None,
        ready: Callable[[], None] | None = None,
    ) -> None:
        self.dsn = dsn
        self.schema = schema
        self.timeouts = timeouts or DbTimeouts()
        self._store_ready = ready
        self._checkout = Checkout(
            f"PostgreSQL read store ({schema})", self.timeouts, self._migrate, []
        )
        self.pool = open_pool(
            dsn, name=f"kim-{schema}-read", timeouts=self.timeouts, outage=self._checkout.outage,
            min_size=1, max_size=max_connections,
        )  # fmt: skip
        self._checkout.pools = [self.pool]

    def _migrate(self) -> None:
        if self._store_ready is not None:
            self._store_ready()
            migrate(self.dsn, self.schema, self.timeouts, PG_DDL)
        else:
            from runtime.eventstore.postgres import DDL

            migrate(self.dsn, self.schema, self.timeouts, DDL, PG_DDL)

    @contextmanager
    def transaction(self, projection: str) -> Iterator[ReadTx]:
        with self._checkout.connection(self.pool) as conn, conn.pipeline(), conn.transaction():
            # Pipeline mode: the writes of a batch go out without waiting for each answer.
            # Read models are rebuilt from the log: their commit need not wait for the disk.
            # Rows and position stay in one transaction, so a crash loses a consistent tail
            # that the projection applies again from its last durable position.
            conn.execute("SET LOCAL synchronous_commit = off", prepare=True)
            yield _PgTx(conn, self.schema, projection)

    def position(self, projection: str, tenant: str, context: str) -> int:
        with self._checkout.connection(self.pool) as conn:
            row = conn.execute(
                f"SELECT position FROM {self.schema}.rm_positions"
                " WHERE projection=%s AND tenant=%s AND context=%s".encode(),
                (projection, tenant, context),
            ).fetchone()
        return int(row[0]) if row else 0

    def positions(self, projection: str) -> dict[tuple[str, str], int]:
        with self._checkout.connection(self.pool) as conn:
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
        with self._checkout.connection(self.pool) as conn, conn.transaction():
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
        with self._checkout.connection(self.pool) as conn, conn.transaction():
            conn.execute("SET LOCAL ROLE kim_tenant")
            conn.execute("SELECT set_config('kim.tenants', %s, true)", (tenant,))
            found = conn.execute(query[0].encode(), query[1]).fetchall()
        return [Row(t, k, kd, dict(d)) for t, k, kd, d in found]

    def all_rows(self, projection: str) -> Iterator[Row]:
        with self._checkout.connection(self.pool) as conn:
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
        with self._checkout.connection(self.pool) as conn, conn.transaction():
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
                    copy.write_row((projection, tenant, key, kind, dump_doc(doc)))
                    written += 1
            tx = _PgTx(conn, self.schema, projection)
            for (t, context), position in positions.items():
                tx.set_position(t, context, position)
        if written >= ANALYZE_FROM:
            # A large tenant just rebuilt: statistics now, so pages use their indexes at
            # once rather than after autovacuum's next round.
            with self._checkout.connection(self.pool) as conn:
                conn.execute(f"ANALYZE {self.schema}.rm_rows".encode())

    def close(self) -> None:
        self.pool.close()

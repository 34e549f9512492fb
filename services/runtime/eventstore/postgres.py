"""Production store: PostgreSQL, one shared table set with row-level security.

Every tenant-scoped statement runs as the role ``kim_tenant`` with ``kim.tenant`` set for
the transaction, so the policies make other tenants' rows invisible and unwritable even
to buggy platform code. Positions come from a per-(tenant, context) head row whose row
lock is held to commit: appends of one log serialise and commit in position order,
appends of different tenants never wait for each other (no table lock). See ADR 0001.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg import sql
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from services.runtime.eventstore.base import (
    EventLogStore,
    IdempotencyKeyTaken,
    LogNotEmpty,
    check_log_address,
    outcome_of,
)
from services.runtime.eventstore.records import EventMetadata, IdempotencyRecord, LogRecord

TENANT_ROLE = "kim_tenant"
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

DDL = """
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.events (
    tenant text NOT NULL,
    context text NOT NULL,
    position bigint NOT NULL,
    event_id uuid NOT NULL,
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text NOT NULL,
    state bytea NOT NULL,
    actor text NOT NULL,
    correlation_id text NOT NULL,
    causation_id text,
    traceparent text,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant, context, position)
);
CREATE UNIQUE INDEX IF NOT EXISTS events_aggregate
    ON {schema}.events (tenant, context, originator_id, originator_version);
CREATE TABLE IF NOT EXISTS {schema}.log_heads (
    tenant text NOT NULL,
    context text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (tenant, context)
);
CREATE TABLE IF NOT EXISTS {schema}.idempotency (
    tenant text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    status int NOT NULL,
    outcome jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, key)
);
CREATE TABLE IF NOT EXISTS {schema}.relay_positions (
    relay text NOT NULL,
    tenant text NOT NULL,
    context text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (relay, tenant, context)
);
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kim_tenant') THEN
        CREATE ROLE kim_tenant NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
GRANT kim_tenant TO CURRENT_USER;
GRANT USAGE ON SCHEMA {schema} TO kim_tenant;
GRANT SELECT, INSERT ON {schema}.events TO kim_tenant;
GRANT SELECT, INSERT, UPDATE ON {schema}.log_heads TO kim_tenant;
GRANT SELECT, INSERT ON {schema}.idempotency TO kim_tenant;
ALTER TABLE {schema}.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE {schema}.log_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE {schema}.idempotency ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON {schema}.events;
CREATE POLICY tenant_isolation ON {schema}.events
    USING (tenant = current_setting('kim.tenant', true))
    WITH CHECK (tenant = current_setting('kim.tenant', true));
DROP POLICY IF EXISTS tenant_isolation ON {schema}.log_heads;
CREATE POLICY tenant_isolation ON {schema}.log_heads
    USING (tenant = current_setting('kim.tenant', true))
    WITH CHECK (tenant = current_setting('kim.tenant', true));
DROP POLICY IF EXISTS tenant_isolation ON {schema}.idempotency;
CREATE POLICY tenant_isolation ON {schema}.idempotency
    USING (tenant = current_setting('kim.tenant', true))
    WITH CHECK (tenant = current_setting('kim.tenant', true));
"""

COLUMNS = (
    "tenant, context, position, event_id, originator_id, originator_version, topic, state, "
    "actor, correlation_id, causation_id, traceparent, recorded_at"
)


class PostgresEventLogStore(EventLogStore):
    kind = "postgresql"

    def __init__(self, dsn: str, *, schema: str = "kim", max_connections: int = 20) -> None:
        super().__init__()
        if not SCHEMA_NAME.match(schema):
            raise ValueError(f"invalid schema name {schema!r}")
        self.dsn = dsn
        self.schema = schema
        self.pool: ConnectionPool[psycopg.Connection[TupleRow]] = ConnectionPool(
            dsn,
            min_size=1,
            max_size=max_connections,
            open=True,
            name=f"kim-{schema}",
            kwargs={"autocommit": False},
            timeout=30.0,
        )
        self.migrate()
        s = schema
        self._sql_append = (
            f"WITH head AS ("
            f" INSERT INTO {s}.log_heads (tenant, context, position) VALUES (%(t)s, %(c)s, %(n)s)"
            f" ON CONFLICT (tenant, context) DO UPDATE"
            f" SET position = {s}.log_heads.position + EXCLUDED.position"
            f" RETURNING position)"
            f" INSERT INTO {s}.events (tenant, context, position, event_id, originator_id,"
            f" originator_version, topic, state, actor, correlation_id, causation_id, traceparent)"
            f" SELECT %(t)s, %(c)s, head.position - %(n)s + e.ord, e.eid, e.oid, e.ver, e.topic,"
            f" e.state, %(actor)s, %(corr)s, %(cause)s, %(tp)s"
            f" FROM head, unnest(%(eids)s::uuid[], %(oids)s::uuid[], %(vers)s::bigint[],"
            f" %(topics)s::text[], %(states)s::bytea[]) WITH ORDINALITY"
            f" AS e(eid, oid, ver, topic, state, ord)"
            f" RETURNING position"
        )

    def migrate(self) -> None:
        with self.pool.connection() as conn:
            # One migration at a time, even with several service processes starting.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('kim-migrate'))")
            conn.execute(DDL.format(schema=self.schema).encode())

    @contextmanager
    def _tenant_tx(self, tenant: str) -> Iterator[psycopg.Connection[TupleRow]]:
        """A transaction that can only see and write rows of ``tenant``."""
        with self.pool.connection() as conn:
            with conn.pipeline():
                conn.execute(f"SET LOCAL ROLE {TENANT_ROLE}")
                conn.execute("SELECT set_config('kim.tenant', %s, true)", (tenant,))
            yield conn

    def _append(
        self,
        tenant: str,
        context: str,
        events: Sequence[StoredEvent],
        event_ids: Sequence[str],
        meta: EventMetadata,
        idempotency: tuple[str, str, int] | None,
    ) -> list[int]:
        params: dict[str, Any] = {
            "t": tenant,
            "c": context,
            "n": len(events),
            "actor": meta.actor,
            "corr": meta.correlation_id,
            "cause": meta.causation_id,
            "tp": meta.traceparent,
            "eids": list(event_ids),
            "oids": [e.originator_id for e in events],
            "vers": [e.originator_version for e in events],
            "topics": [e.topic for e in events],
            "states": [e.state for e in events],
        }
        try:
            with self.pool.connection() as conn:
                with conn.pipeline():
                    conn.execute(f"SET LOCAL ROLE {TENANT_ROLE}")
                    conn.execute("SELECT set_config('kim.tenant', %s, true)", (tenant,))
                    cur = conn.execute(self._sql_append, params)
                positions = sorted(int(r[0]) for r in cur.fetchall())
                if idempotency is not None:
                    key, request_hash, status = idempotency
                    outcome = outcome_of(tenant, context, events, positions).to_json()
                    try:
                        conn.execute(
                            f"INSERT INTO {self.schema}.idempotency"
                            " (tenant, key, request_hash, status, outcome)"
                            " VALUES (%s, %s, %s, %s, %s)",
                            (tenant, key, request_hash, status, json.dumps(outcome)),
                        )
                    except psycopg.errors.UniqueViolation as e:
                        raise IdempotencyKeyTaken(str(e)) from e
        except IdempotencyKeyTaken:
            raise
        except psycopg.errors.UniqueViolation as e:
            raise IntegrityError(str(e)) from e
        return positions

    def select_events(
        self,
        tenant: str,
        context: str,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        query = (
            f"SELECT originator_id, originator_version, topic, state FROM {self.schema}.events"
            " WHERE tenant=%s AND context=%s AND originator_id=%s"
        )
        params: list[object] = [tenant, context, originator_id]
        if gt is not None:
            query += " AND originator_version > %s"
            params.append(gt)
        if lte is not None:
            query += " AND originator_version <= %s"
            params.append(lte)
        query += " ORDER BY originator_version" + (" DESC" if desc else "")
        if limit is not None:
            query += " LIMIT %s"
            params.append(limit)
        with self._tenant_tx(tenant) as conn:
            rows = conn.execute(query.encode(), params).fetchall()
        return [StoredEvent(r[0], int(r[1]), r[2], bytes(r[3])) for r in rows]

    def read_log(
        self,
        tenant: str,
        context: str,
        *,
        after: int = 0,
        upto: int | None = None,
        limit: int | None = None,
        topics: Sequence[str] = (),
    ) -> list[LogRecord]:
        check_log_address(tenant, context)
        query = (
            f"SELECT {COLUMNS} FROM {self.schema}.events"
            " WHERE tenant=%s AND context=%s AND position > %s"
        )
        params: list[object] = [tenant, context, after]
        if upto is not None:
            query += " AND position <= %s"
            params.append(upto)
        if topics:
            query += " AND topic = ANY(%s)"
            params.append(list(topics))
        query += " ORDER BY position"
        if limit is not None:
            query += " LIMIT %s"
            params.append(limit)
        with self._tenant_tx(tenant) as conn:
            rows = conn.execute(query.encode(), params).fetchall()
        return [_record(r) for r in rows]

    def head(self, tenant: str, context: str) -> int:
        with self._tenant_tx(tenant) as conn:
            row = conn.execute(
                f"SELECT position FROM {self.schema}.log_heads"
                " WHERE tenant=%s AND context=%s".encode(),
                (tenant, context),
            ).fetchone()
        return int(row[0]) if row else 0

    def heads(self) -> dict[tuple[str, str], int]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT tenant, context, position FROM {self.schema}.log_heads".encode()
            ).fetchall()
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def find_idempotency(self, tenant: str, key: str) -> IdempotencyRecord | None:
        with self._tenant_tx(tenant) as conn:
            row = conn.execute(
                f"SELECT request_hash, status, outcome FROM {self.schema}.idempotency"
                " WHERE tenant=%s AND key=%s".encode(),
                (tenant, key),
            ).fetchone()
        if row is None:
            return None
        return IdempotencyRecord(tenant, key, row[0], int(row[1]), dict(row[2]))

    def relay_positions(self, relay: str) -> dict[tuple[str, str], int]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT tenant, context, position FROM {self.schema}.relay_positions"
                " WHERE relay=%s".encode(),
                (relay,),
            ).fetchall()
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def set_relay_position(self, relay: str, tenant: str, context: str, position: int) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                f"INSERT INTO {self.schema}.relay_positions VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (relay, tenant, context) DO UPDATE"
                f" SET position = GREATEST({self.schema}.relay_positions.position,"
                " EXCLUDED.position)".encode(),
                (relay, tenant, context, position),
            )

    def import_records(self, records: Iterable[LogRecord]) -> int:
        count = 0
        batch: list[LogRecord] = []
        checked: set[tuple[str, str]] = set()

        def flush() -> None:
            if not batch:
                return
            by_tenant: dict[tuple[str, str], list[LogRecord]] = {}
            for r in batch:
                by_tenant.setdefault((r.tenant, r.context), []).append(r)
            for (tenant, context), rows in by_tenant.items():
                with self._tenant_tx(tenant) as conn:
                    with conn.cursor() as cur:
                        cur.executemany(
                            f"INSERT INTO {self.schema}.events ({COLUMNS}) VALUES"
                            " (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)".encode(),
                            [_row(r) for r in rows],
                        )
                    conn.execute(
                        f"INSERT INTO {self.schema}.log_heads VALUES (%s, %s, %s)"
                        " ON CONFLICT (tenant, context) DO UPDATE"
                        f" SET position = GREATEST({self.schema}.log_heads.position,"
                        " EXCLUDED.position)".encode(),
                        (tenant, context, max(r.position for r in rows)),
                    )
            batch.clear()

        for r in records:
            check_log_address(r.tenant, r.context)
            if (r.tenant, r.context) not in checked:
                if self.head(r.tenant, r.context):
                    raise LogNotEmpty(f"log {r.tenant}/{r.context} already holds events")
                checked.add((r.tenant, r.context))
            batch.append(r)
            count += 1
            if len(batch) >= 1000:
                flush()
        flush()
        return count

    def ping(self) -> None:
        with self.pool.connection(timeout=5.0) as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        self.pool.close()

    def drop_schema(self) -> None:
        """Remove every table of this store (tests and benchmarks only)."""
        with self.pool.connection() as conn:
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )


def _record(r: Sequence[Any]) -> LogRecord:
    return LogRecord(
        tenant=r[0],
        context=r[1],
        position=int(r[2]),
        event_id=str(r[3]),
        originator_id=r[4],
        originator_version=int(r[5]),
        topic=r[6],
        state=bytes(r[7]),
        actor=r[8],
        correlation_id=r[9],
        causation_id=r[10],
        traceparent=r[11],
        recorded_at=r[12].astimezone(UTC).isoformat(timespec="microseconds"),
    )


def _row(r: LogRecord) -> tuple[object, ...]:
    return (
        r.tenant,
        r.context,
        r.position,
        r.event_id,
        r.originator_id,
        r.originator_version,
        r.topic,
        r.state,
        r.actor,
        r.correlation_id,
        r.causation_id,
        r.traceparent,
        r.recorded_at,
    )

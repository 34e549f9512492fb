"""Production store: PostgreSQL, one shared table set with row-level security.

Every tenant-scoped statement runs as the role ``kim_tenant`` with ``kim.tenant`` set for
the transaction, so the policies make other tenants' rows invisible and unwritable even
to buggy platform code. Positions come from a per-(tenant, context) head row whose row
lock is held to commit: appends of one log serialise and commit in position order,
appends of different tenants never wait for each other (no table lock). See ADR 0001.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg import sql
from psycopg.rows import TupleRow

from contexts.shared.indexes import IndexBound, IndexChange
from runtime.eventstore import chain
from runtime.eventstore.base import (
    EventLogStore,
    LogNotEmpty,
    check_log_address,
)
from runtime.eventstore.groupcommit import GroupCommitter
from runtime.eventstore.outage import DbTimeouts
from runtime.eventstore.postgres_batch import BatchWriter, batch_arguments, integrity_error
from runtime.eventstore.postgres_idempotency import IdempotencyTables
from runtime.eventstore.postgres_index import IndexTables, write_index
from runtime.eventstore.postgres_keys import SubjectKeyTables
from runtime.eventstore.postgres_platform import PlatformTables
from runtime.eventstore.postgres_pools import Checkout, open_pool
from runtime.eventstore.postgres_roles import TENANT_ROLE, migrate
from runtime.eventstore.postgres_sql import (
    batch_append_sql,
    single_append_params,
    single_append_sql,
)
from runtime.eventstore.records import (
    COLUMNS,
    REPLAY_COLUMNS,
    EventMetadata,
    LogRecord,
    ReplayRecord,
    record_of,
    row_of,
)

SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

DDL = (Path(__file__).parent / "postgres_schema.sql").read_text(encoding="utf-8")


class PostgresEventLogStore(
    PlatformTables, SubjectKeyTables, IdempotencyTables, IndexTables, EventLogStore
):
    kind = "postgresql"

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "kim",
        max_connections: int = 20,
        timeouts: DbTimeouts | None = None,
    ) -> None:
        """No database is touched here: the migration runs before the first statement
        (``ready``), so a service starts while PostgreSQL is down and catches up later."""
        super().__init__()
        if not SCHEMA_NAME.match(schema):
            raise ValueError(f"invalid schema name {schema!r}")
        self.dsn = dsn
        self.schema = schema
        self.timeouts = timeouts or DbTimeouts()
        # Pools within the process's connection budget: tenant work runs on sessions that
        # are the role kim_tenant from the start (row-level security applies to every
        # statement); the platform's own work (relay, log heads) on a small pool; two more
        # stay free for the read models (``runtime.readstore``).
        self._checkout = Checkout(
            f"PostgreSQL event store ({schema})", self.timeouts, self.migrate, []
        )
        self.outage = self._checkout.outage
        self.admin_pool = open_pool(
            dsn, name=f"kim-{schema}-platform", timeouts=self.timeouts, outage=self.outage,
            min_size=1, max_size=2,
        )  # fmt: skip
        self.pool = open_pool(
            dsn, name=f"kim-{schema}-tenants", timeouts=self.timeouts, outage=self.outage,
            min_size=1, max_size=max(1, max_connections - 4), role=TENANT_ROLE,
        )  # fmt: skip
        self._checkout.pools = [self.admin_pool, self.pool]
        # One command, one event, no idempotency key (the common case): one prepared
        # statement, one round trip, one transaction. It sets the tenant before any row is
        # produced (the inserts read from cfg), so the policies check every row.
        self._sql_single = single_append_sql(schema)
        self._sql_batch = batch_append_sql(schema)
        self._batches = BatchWriter(self._conn, self._sql_batch)
        self._committer: GroupCommitter[dict[str, Any]] = GroupCommitter(
            self._batches.flush, max_in_flight=3
        )

    def ready(self) -> None:
        """Migrate (once; until it has succeeded, the next statement tries again) and open
        the pools. Raises what the database raised or ``DatabaseRolesMissing``."""
        self._checkout.ready()

    def migrate(self) -> None:
        # One migration at a time, even with several service processes starting.
        migrate(self.dsn, self.schema, self.timeouts, DDL)

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[TupleRow]]:
        """A pooled autocommit connection.

        Unlike ``pool.connection()`` this does not enter the connection's own context,
        whose commit on exit costs a round trip even in autocommit mode.
        """
        with self._checkout.connection(self.pool) as conn:
            yield conn

    @contextmanager
    def _tenant_tx(self, tenant: str) -> Iterator[psycopg.Connection[TupleRow]]:
        """A transaction that can only see and write rows of ``tenant``."""
        with self._conn() as conn, conn.transaction():
            conn.execute("SELECT set_config('kim.tenant', %s, true)", (tenant,), prepare=True)
            yield conn

    @contextmanager
    def _admin(self) -> Iterator[psycopg.Connection[TupleRow]]:
        """A connection of the platform itself (not tenant-scoped)."""
        with self._checkout.connection(self.admin_pool) as conn:
            yield conn

    def _append(
        self,
        tenant: str,
        context: str,
        events: Sequence[StoredEvent],
        event_ids: Sequence[str],
        meta: EventMetadata,
        idempotency: tuple[str, str, int] | None,
        index_changes: Sequence[IndexChange] = (),
        bounds: Sequence[IndexBound] = (),
    ) -> list[int]:
        digests = [
            chain.content_digest_v2(
                tenant=tenant,
                context=context,
                event_id=eid,
                originator_id=str(e.originator_id),
                originator_version=e.originator_version,
                topic=e.topic,
                state=e.state,
                actor=meta.actor,
                correlation_id=meta.correlation_id,
                causation_id=meta.causation_id,
                traceparent=meta.traceparent,
            )
            for e, eid in zip(events, event_ids, strict=True)
        ]
        if idempotency is None and len(events) == 1 and not (index_changes or bounds):
            return [self._append_single(tenant, context, events[0], event_ids[0], meta, digests[0])]
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
            "digests": digests,
        }
        if idempotency is not None:
            params["key"], params["hash"], params["status"] = idempotency
        if index_changes or bounds:
            return self._append_indexed(params, index_changes, bounds)
        positions: list[int] = self._committer.submit(params)
        return positions

    def _append_indexed(
        self, params: dict[str, Any], changes: Sequence[IndexChange], bounds: Sequence[IndexBound]
    ) -> list[int]:
        """A command with index changes: its own transaction, the index after the head lock.

        append_batch locks the log's head row, so the counts checked afterwards in the same
        transaction cannot change under it until commit.
        """
        tenant, context = params["t"], params["c"]
        table = f"{self.schema}.index_entries"
        try:
            with self._tenant_tx(tenant) as conn:
                rows = conn.execute(
                    self._sql_batch, batch_arguments([params]), prepare=True
                ).fetchall()
                write_index(conn, table, tenant, context, changes, bounds)
        except psycopg.errors.UniqueViolation as e:
            raise integrity_error(e) from e
        return sorted(int(pos) for _req, pos in rows)

    def _append_single(
        self,
        tenant: str,
        context: str,
        event: StoredEvent,
        event_id: str,
        meta: EventMetadata,
        digest: bytes,
    ) -> int:
        params = single_append_params(
            tenant,
            context,
            event_id=event_id,
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=event.topic,
            state=event.state,
            actor=meta.actor,
            correlation_id=meta.correlation_id,
            causation_id=meta.causation_id,
            traceparent=meta.traceparent,
            digest=digest,
        )
        try:  # the checkout itself, not through _conn: one context manager less per command
            with self._checkout.connection(self.pool) as conn:
                row = conn.execute(self._sql_single, params, prepare=True).fetchone()
        except psycopg.errors.UniqueViolation as e:
            raise IntegrityError(str(e)) from e
        assert row is not None
        return int(row[0])

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
        return [record_of(r) for r in rows]

    def read_replay(
        self, tenant: str, context: str, *, after: int = 0, upto: int | None = None,
        limit: int | None = None,
    ) -> list[ReplayRecord]:  # fmt: skip
        check_log_address(tenant, context)
        query = (
            f"SELECT {REPLAY_COLUMNS} FROM {self.schema}.events"
            " WHERE tenant=%s AND context=%s AND position > %s AND position <= %s"
            " ORDER BY position LIMIT %s"
        )
        bounds = (after, upto if upto is not None else 2**62, limit or 2**62)
        with self._tenant_tx(tenant) as conn:
            rows = conn.execute(query.encode(), (tenant, context, *bounds)).fetchall()
        return [ReplayRecord(*row) for row in rows]

    def head(self, tenant: str, context: str) -> int:
        with self._tenant_tx(tenant) as conn:
            row = conn.execute(
                f"SELECT position FROM {self.schema}.log_heads"
                " WHERE tenant=%s AND context=%s".encode(),
                (tenant, context),
            ).fetchone()
        return int(row[0]) if row else 0

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
                            " (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)".encode(),
                            [row_of(r) for r in rows],
                        )
                    last = max(rows, key=lambda r: r.position)
                    conn.execute(
                        f"INSERT INTO {self.schema}.log_heads (tenant, context, position, hash)"
                        " VALUES (%s, %s, %s, %s) ON CONFLICT (tenant, context) DO UPDATE"
                        f" SET position = GREATEST({self.schema}.log_heads.position,"
                        " EXCLUDED.position), hash = CASE WHEN EXCLUDED.position >="
                        f" {self.schema}.log_heads.position THEN EXCLUDED.hash"
                        f" ELSE {self.schema}.log_heads.hash END".encode(),
                        (tenant, context, last.position, last.hash),
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
        """Readiness: one ``SELECT 1`` within at most 2 s (after the migration, which a
        probe thereby retries while PostgreSQL is away)."""
        self.ready()
        with self._checkout.connection(self.admin_pool, min(self._checkout.wait(), 2.0)) as c:
            c.execute("SELECT 1")

    def close(self) -> None:
        self.pool.close()
        self.admin_pool.close()

    def drop_schema(self) -> None:
        """Remove every table of this store (tests and benchmarks only)."""
        kwargs = self.timeouts.connection_kwargs()
        with psycopg.connect(self.dsn, autocommit=True, **kwargs) as conn:
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )

"""The PostgreSQL store's idempotency records (written by ``append_batch`` inside the
append's transaction): read for a retry, forgotten with an erased person; and the positions a
replayed answer names. Tenant-scoped like the events, under row-level security."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from uuid import UUID

import psycopg
from psycopg.rows import TupleRow

from runtime.eventstore.records import IdempotencyRecord


class IdempotencyTables:
    """Mixed into ``PostgresEventLogStore``, which provides ``schema`` and ``_tenant_tx``."""

    schema: str
    _tenant_tx: Callable[[str], AbstractContextManager[psycopg.Connection[TupleRow]]]

    def find_idempotency(self, tenant: str, key: str) -> IdempotencyRecord | None:
        with self._tenant_tx(tenant) as conn:
            row = conn.execute(
                f"SELECT request_hash, status, outcome, subjects FROM {self.schema}.idempotency"
                " WHERE tenant=%s AND key=%s".encode(),
                (tenant, key),
            ).fetchone()
        if row is None:
            return None
        subjects = frozenset(str(s) for s in row[3] or ())
        return IdempotencyRecord(tenant, key, row[0], int(row[1]), dict(row[2]), subjects)

    def forget_idempotency(self, tenant: str, subjects: Iterable[UUID]) -> int:
        wanted = sorted(set(subjects))
        if not wanted:
            return 0
        with self._tenant_tx(tenant) as conn:
            cur = conn.execute(
                f"DELETE FROM {self.schema}.idempotency"
                " WHERE tenant=%s AND subjects && %s::uuid[]".encode(),
                (tenant, wanted),
            )
            return cur.rowcount

    def position_of(
        self, tenant: str, context: str, originator_id: UUID, version: int
    ) -> int | None:
        with self._tenant_tx(tenant) as conn:
            row = conn.execute(
                f"SELECT position FROM {self.schema}.events WHERE tenant=%s AND context=%s"
                " AND originator_id=%s AND originator_version=%s".encode(),
                (tenant, context, originator_id, version),
            ).fetchone()
        return None if row is None else int(row[0])

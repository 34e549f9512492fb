"""The PostgreSQL store's index entries (``contexts/shared/indexes.py``): reads and rebuilds,
under row-level security like every tenant table."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager

import psycopg
from psycopg.rows import TupleRow

from contexts.shared.indexes import IndexBound, IndexBoundExceeded, IndexChange
from runtime.eventstore.base import check_log_address


class IndexTables:
    """Mixed into ``PostgresEventLogStore``, which provides ``schema`` and ``_tenant_tx``."""

    schema: str
    _tenant_tx: Callable[[str], AbstractContextManager[psycopg.Connection[TupleRow]]]

    def index_count(self, tenant: str, context: str, index: str, key: str) -> int:
        with self._tenant_tx(tenant) as conn:
            row = conn.execute(
                f"SELECT count(*) FROM {self.schema}.index_entries WHERE tenant=%s"
                " AND context=%s AND index_name=%s AND key=%s".encode(),
                (tenant, context, index, key),
                prepare=True,
            ).fetchone()
        return int(row[0]) if row else 0

    def index_members(self, tenant: str, context: str, index: str, key: str) -> list[str]:
        with self._tenant_tx(tenant) as conn:
            rows = conn.execute(
                f"SELECT member FROM {self.schema}.index_entries WHERE tenant=%s"
                " AND context=%s AND index_name=%s AND key=%s ORDER BY member".encode(),
                (tenant, context, index, key),
            ).fetchall()
        return [str(r[0]) for r in rows]

    def index_range(
        self, tenant: str, context: str, index: str, low: str, high: str, limit: int
    ) -> list[tuple[str, str]]:
        with self._tenant_tx(tenant) as conn:
            rows = conn.execute(
                f"SELECT key, member FROM {self.schema}.index_entries WHERE tenant=%s"
                " AND context=%s AND index_name=%s AND key BETWEEN %s AND %s"
                " ORDER BY key, member LIMIT %s".encode(),
                (tenant, context, index, low, high, limit),
            ).fetchall()
        return [(str(k), str(m)) for k, m in rows]

    def replace_index(
        self, tenant: str, context: str, entries: Iterable[tuple[str, str, str]]
    ) -> None:
        check_log_address(tenant, context)
        table = f"{self.schema}.index_entries"
        with self._tenant_tx(tenant) as conn:
            conn.execute(
                f"DELETE FROM {table} WHERE tenant=%s AND context=%s".encode(), (tenant, context)
            )
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s)"
                    " ON CONFLICT DO NOTHING".encode(),
                    [(tenant, context, i, k, m) for i, k, m in entries],
                )


def write_index(
    conn: psycopg.Connection[TupleRow],
    table: str,
    tenant: str,
    context: str,
    changes: Sequence[IndexChange],
    bounds: Sequence[IndexBound],
) -> None:
    """Inside the append's transaction, after the head row is locked: apply, then check."""
    with conn.cursor() as cur:
        for c in changes:
            cur.execute(
                f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING".encode()
                if c.present
                else f"DELETE FROM {table} WHERE tenant=%s AND context=%s"
                " AND index_name=%s AND key=%s AND member=%s".encode(),
                (tenant, context, c.index, c.key, c.member),
            )
        for b in bounds:
            found = cur.execute(
                f"SELECT count(*) FROM {table} WHERE tenant=%s AND context=%s"
                " AND index_name=%s AND key=%s".encode(),
                (tenant, context, b.index, b.key),
            ).fetchone()
            assert found is not None
            if int(found[0]) > b.at_most:
                raise IndexBoundExceeded(b, int(found[0]))

"""The embedded store's index entries (``contexts/shared/indexes.py``): reads, rebuilds, and
the writes an append makes inside its transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence

from contexts.shared.indexes import IndexBound, IndexBoundExceeded, IndexChange
from runtime.eventstore.base import check_log_address
from runtime.eventstore.sqlite_file import TenantFile


class IndexFiles:
    """Mixed into ``SqliteEventLogStore``, which provides ``_file`` and ``_must``."""

    _file: Callable[..., TenantFile | None]
    _must: Callable[[str], TenantFile]

    def index_count(self, tenant: str, context: str, index: str, key: str) -> int:
        db = self._file(tenant, create=False)
        if db is None:
            return 0
        with db.read() as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM index_entries"
                " WHERE tenant=? AND context=? AND index_name=? AND key=?",
                (tenant, context, index, key),
            ).fetchone()
        return int(count)

    def index_members(self, tenant: str, context: str, index: str, key: str) -> list[str]:
        db = self._file(tenant, create=False)
        if db is None:
            return []
        with db.read() as conn:
            rows = conn.execute(
                "SELECT member FROM index_entries"
                " WHERE tenant=? AND context=? AND index_name=? AND key=? ORDER BY member",
                (tenant, context, index, key),
            ).fetchall()
        return [str(r[0]) for r in rows]

    def index_range(
        self, tenant: str, context: str, index: str, low: str, high: str, limit: int
    ) -> list[tuple[str, str]]:
        db = self._file(tenant, create=False)
        if db is None:
            return []
        with db.read() as conn:
            rows = conn.execute(
                "SELECT key, member FROM index_entries WHERE tenant=? AND context=?"
                " AND index_name=? AND key BETWEEN ? AND ? ORDER BY key, member LIMIT ?",
                (tenant, context, index, low, high, limit),
            ).fetchall()
        return [(str(k), str(m)) for k, m in rows]

    def replace_index(
        self, tenant: str, context: str, entries: Iterable[tuple[str, str, str]]
    ) -> None:
        check_log_address(tenant, context)
        with self._must(tenant).write() as conn:
            conn.execute(
                "DELETE FROM index_entries WHERE tenant=? AND context=?", (tenant, context)
            )
            conn.executemany(
                "INSERT OR IGNORE INTO index_entries VALUES (?, ?, ?, ?, ?)",
                ((tenant, context, i, k, m) for i, k, m in entries),
            )


def write_index(
    conn: sqlite3.Connection,
    tenant: str,
    context: str,
    changes: Sequence[IndexChange],
    bounds: Sequence[IndexBound],
) -> None:
    """Inside the append's write transaction (the file's lock is held): apply, then check."""
    for c in changes:
        conn.execute(
            "INSERT OR IGNORE INTO index_entries VALUES (?, ?, ?, ?, ?)"
            if c.present
            else "DELETE FROM index_entries WHERE tenant=? AND context=? AND index_name=?"
            " AND key=? AND member=?",
            (tenant, context, c.index, c.key, c.member),
        )
    for b in bounds:
        (count,) = conn.execute(
            "SELECT count(*) FROM index_entries"
            " WHERE tenant=? AND context=? AND index_name=? AND key=?",
            (tenant, context, b.index, b.key),
        ).fetchone()
        if count > b.at_most:
            raise IndexBoundExceeded(b, int(count))

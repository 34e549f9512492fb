"""The embedded read store: one SQLite file beside the event store (see ``readstore``)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runtime.readstore import (
    Doc,
    ReadStore,
    ReadTx,
    Row,
    dump_doc,
    page_query,
)

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
            (self.projection, tenant, key, kind, dump_doc(doc)),
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
                ((projection, tenant, key, kind, dump_doc(doc)) for key, kind, doc in rows),
            )
            for (t, context), position in positions.items():
                tx.set_position(t, context, position)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

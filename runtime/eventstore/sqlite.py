"""Embedded store: SQLite, one database file per tenant in a directory (or one file).

Directory mode gives each tenant its own file, so isolation holds in the file system and
writes of different tenants never share a lock. Single-file mode (a path ending in
``.db``/``.sqlite``) keeps every tenant in one file, filtered by the tenant column.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent

from contexts.shared.indexes import IndexBound, IndexBoundExceeded, IndexChange
from runtime.eventstore import chain
from runtime.eventstore.base import (
    EventLogStore,
    IdempotencyKeyTaken,
    LogNotEmpty,
    check_log_address,
)
from runtime.eventstore.records import (
    COLUMNS,
    EventMetadata,
    LogRecord,
    record_of,
    row_of,
)
from runtime.eventstore.sqlite_file import TenantFile, log_heads, utcnow, write_head
from runtime.eventstore.sqlite_idempotency import IdempotencyFiles, write_idempotency
from runtime.eventstore.sqlite_index import IndexFiles, write_index
from runtime.eventstore.sqlite_keys import SubjectKeyFiles
from runtime.signing import SignedHead


class SqliteEventLogStore(SubjectKeyFiles, IdempotencyFiles, IndexFiles, EventLogStore):
    kind = "sqlite"

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.single_file = self.path.suffix in {".db", ".sqlite", ".sqlite3"}
        if self.single_file:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        else:
            self.path.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, TenantFile] = {}
        self._files_lock = threading.Lock()
        self._heads_seen: dict[Path, tuple[tuple[int, int], dict[tuple[str, str], int]]] = {}

    def _file(self, tenant: str, create: bool = True) -> TenantFile | None:
        name = "" if self.single_file else tenant
        with self._files_lock:
            found = self._files.get(name)
            if found is None:
                file_path = self.path if self.single_file else self.path / f"{tenant}.sqlite"
                if not create and not file_path.exists():
                    return None
                found = TenantFile(file_path)
                self._files[name] = found
            return found

    def _must(self, tenant: str) -> TenantFile:
        found = self._file(tenant)
        assert found is not None
        return found

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
        db = self._must(tenant)
        now = utcnow()
        try:
            with db.write() as conn:
                last = conn.execute(
                    "SELECT position, hash FROM events WHERE tenant=? AND context=?"
                    " ORDER BY position DESC LIMIT 1",
                    (tenant, context),
                ).fetchone()
                head, previous = (int(last[0]), last[1]) if last else (0, None)
                if previous is None:
                    previous = chain.genesis(tenant, context)
                positions = [head + i + 1 for i in range(len(events))]
                records = []
                for e, eid, pos in zip(events, event_ids, positions, strict=True):
                    unsealed = LogRecord(
                        tenant,
                        context,
                        pos,
                        eid,
                        UUID(str(e.originator_id)),
                        e.originator_version,
                        e.topic,
                        e.state,
                        meta.actor,
                        meta.correlation_id,
                        meta.causation_id,
                        meta.traceparent,
                        now,
                    )
                    previous = chain.seal(unsealed, bytes(previous))
                    records.append(replace(unsealed, hash=previous))
                conn.executemany(
                    f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [_sqlite_row(r) for r in records],
                )
                write_head(conn, tenant, context, positions[-1], previous)
                if idempotency is not None:
                    write_idempotency(conn, tenant, context, events, positions, idempotency, now)
                if index_changes or bounds:
                    write_index(conn, tenant, context, index_changes, bounds)
        except (IdempotencyKeyTaken, IndexBoundExceeded):
            raise
        except sqlite3.IntegrityError as e:
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
        db = self._file(tenant, create=False)
        if db is None:
            return []
        sql = (
            "SELECT originator_id, originator_version, topic, state FROM events "
            "WHERE tenant=? AND context=? AND originator_id=?"
        )
        params: list[object] = [tenant, context, str(originator_id)]
        if gt is not None:
            sql += " AND originator_version > ?"
            params.append(gt)
        if lte is not None:
            sql += " AND originator_version <= ?"
            params.append(lte)
        sql += " ORDER BY originator_version" + (" DESC" if desc else "")
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with db.read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [StoredEvent(UUID(r[0]), r[1], r[2], bytes(r[3])) for r in rows]

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
        db = self._file(tenant, create=False)
        if db is None:
            return []
        sql = f"SELECT {COLUMNS} FROM events WHERE tenant=? AND context=? AND position > ?"
        params: list[object] = [tenant, context, after]
        if upto is not None:
            sql += " AND position <= ?"
            params.append(upto)
        if topics:
            sql += f" AND topic IN ({','.join('?' * len(topics))})"
            params.extend(topics)
        sql += " ORDER BY position"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with db.read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [record_of(r) for r in rows]

    def head(self, tenant: str, context: str) -> int:
        db = self._file(tenant, create=False)
        if db is None:
            return 0
        with db.read() as conn:
            (head,) = conn.execute(
                "SELECT COALESCE(MAX(position), 0) FROM events WHERE tenant=? AND context=?",
                (tenant, context),
            ).fetchone()
        return int(head)

    def _all_files(self) -> list[TenantFile]:
        if self.single_file:
            return [self._must("")] if self.path.exists() else []
        return [self._must(p.stem) for p in sorted(self.path.glob("*.sqlite"))]

    def heads(self) -> dict[tuple[str, str], int]:
        """Heads of every log; a file unchanged since its last scan is not read again.

        The relay asks for all heads several times a second (appends of other processes show
        up only there); reading hundreds of tenant files each time would keep it busy.
        """
        found: dict[tuple[str, str], int] = {}
        for db in self._all_files():
            with db.read() as conn:
                # Commits of other connections change data_version, this one's count writes.
                stamp = (conn.execute("PRAGMA data_version").fetchone()[0], db.writes)
                cached = self._heads_seen.get(db.path)
                if cached is not None and cached[0] == stamp:
                    found.update(cached[1])
                    continue
                file_heads = log_heads(conn)
            self._heads_seen[db.path] = (stamp, file_heads)
            found.update(file_heads)
        return found

    def relay_positions(self, relay: str) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        for db in self._all_files():
            with db.read() as conn:
                for tenant, context, position in conn.execute(
                    "SELECT tenant, context, position FROM relay_positions WHERE relay=?",
                    (relay,),
                ):
                    found[(tenant, context)] = int(position)
        return found

    def set_relay_position(self, relay: str, tenant: str, context: str, position: int) -> None:
        with self._must(tenant).write() as conn:
            conn.execute(
                "INSERT INTO relay_positions VALUES (?,?,?,?) ON CONFLICT (relay, tenant, context)"
                " DO UPDATE SET position=MAX(position, excluded.position)",
                (relay, tenant, context, position),
            )

    def import_records(self, records: Iterable[LogRecord]) -> int:
        count = 0
        checked: set[tuple[str, str]] = set()
        batch: list[LogRecord] = []

        def flush() -> None:
            by_tenant: dict[str, list[LogRecord]] = {}
            for r in batch:
                by_tenant.setdefault(r.tenant, []).append(r)
            for tenant, rows in by_tenant.items():
                with self._must(tenant).write() as conn:
                    conn.executemany(
                        f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        [_sqlite_row(r) for r in rows],
                    )
                    for t, c in {(r.tenant, r.context) for r in rows}:
                        last = max((r for r in rows if (r.tenant, r.context) == (t, c)),
                                   key=lambda r: r.position)  # fmt: skip
                        write_head(conn, t, c, last.position, last.hash)
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

    def add_checkpoint(self, tenant: str, context: str, position: int, hash_: bytes) -> None:
        with self._must(tenant).write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO checkpoints (tenant, context, position, hash, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (tenant, context, position, hash_, utcnow()),
            )

    def recorded_heads(self) -> dict[tuple[str, str], tuple[int, bytes | None]]:
        found: dict[tuple[str, str], tuple[int, bytes | None]] = {}
        for db in self._all_files():
            with db.read() as conn:
                for t, c, p, h in conn.execute(
                    "SELECT tenant, context, position, hash FROM log_heads"
                ):
                    found[(t, c)] = (int(p), None if h is None else bytes(h))
        return found

    def add_signed_checkpoints(self, signed: Sequence[SignedHead]) -> None:
        by_tenant: dict[str, list[SignedHead]] = {}
        for head in signed:
            by_tenant.setdefault(head.tenant, []).append(head)
        for tenant, heads in sorted(by_tenant.items()):
            with self._must(tenant).write() as conn:
                conn.executemany(
                    "INSERT INTO checkpoints (tenant, context, position, hash, created_at,"
                    " statement) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
                    " statement = COALESCE(checkpoints.statement, excluded.statement)",
                    [(h.tenant, h.context, h.position, h.hash, utcnow(), h.line()) for h in heads],
                )

    def signed_checkpoints(self, tenant: str | None = None) -> list[SignedHead]:
        files = self._all_files() if tenant is None else [self._file(tenant, create=False)]
        found: list[SignedHead] = []
        for db in files:
            if db is None:
                continue
            with db.read() as conn:
                rows = conn.execute(
                    "SELECT statement FROM checkpoints WHERE statement IS NOT NULL"
                    + (" AND tenant=?" if tenant is not None else "")
                    + " ORDER BY tenant, context, position",
                    (tenant,) if tenant is not None else (),
                ).fetchall()
            found.extend(SignedHead.of_line(r[0]) for r in rows)
        return found

    def checkpoints(self, tenant: str, context: str) -> list[tuple[int, bytes]]:
        db = self._file(tenant, create=False)
        if db is None:
            return []
        with db.read() as conn:
            rows = conn.execute(
                "SELECT position, hash FROM checkpoints WHERE tenant=? AND context=?"
                " ORDER BY position",
                (tenant, context),
            ).fetchall()
        return [(int(p), bytes(h)) for p, h in rows]

    def ping(self) -> None:
        if not self.single_file and not self.path.is_dir():
            raise OSError(f"event store directory {self.path} is missing")

    def close(self) -> None:
        with self._files_lock:
            for db in self._files.values():
                with db.lock:
                    db.conn.close()
            self._files.clear()


def _sqlite_row(r: LogRecord) -> tuple[object, ...]:
    row = list(row_of(r))
    row[4] = str(r.originator_id)  # SQLite keeps ids as text
    return tuple(row)

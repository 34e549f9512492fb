"""One SQLite database file of the embedded store, shared by the threads of a process."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    tenant TEXT NOT NULL,
    context TEXT NOT NULL,
    position INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    originator_id TEXT NOT NULL,
    originator_version INTEGER NOT NULL,
    topic TEXT NOT NULL,
    state BLOB NOT NULL,
    actor TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    causation_id TEXT,
    traceparent TEXT,
    recorded_at TEXT NOT NULL,
    hash BLOB,
    PRIMARY KEY (tenant, context, position)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS events_aggregate
    ON events (tenant, context, originator_id, originator_version);
CREATE TABLE IF NOT EXISTS idempotency (
    tenant TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, key)
);
CREATE TABLE IF NOT EXISTS idempotency_subjects (
    tenant TEXT NOT NULL,
    key TEXT NOT NULL,
    subject TEXT NOT NULL,
    PRIMARY KEY (tenant, key, subject)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_by_subject ON idempotency_subjects (tenant, subject);
CREATE TABLE IF NOT EXISTS subject_keys (
    tenant TEXT NOT NULL,
    key_id TEXT NOT NULL,
    key BLOB NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, key_id)
);
CREATE TABLE IF NOT EXISTS key_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    floor INTEGER NOT NULL DEFAULT 0,
    kek_id TEXT
);
INSERT OR IGNORE INTO key_state (id) VALUES (1);
CREATE TABLE IF NOT EXISTS key_erasures (
    tenant TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    erased_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    tenant TEXT NOT NULL,
    context TEXT NOT NULL,
    position INTEGER NOT NULL,
    hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, context, position)
);
CREATE TABLE IF NOT EXISTS log_heads (
    tenant TEXT NOT NULL,
    context TEXT NOT NULL,
    position INTEGER NOT NULL,
    hash BLOB,
    PRIMARY KEY (tenant, context)
);
CREATE TABLE IF NOT EXISTS index_entries (
    tenant TEXT NOT NULL,
    context TEXT NOT NULL,
    index_name TEXT NOT NULL,
    key TEXT NOT NULL,
    member TEXT NOT NULL,
    PRIMARY KEY (tenant, context, index_name, key, member)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS relay_positions (
    relay TEXT NOT NULL,
    tenant TEXT NOT NULL,
    context TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (relay, tenant, context)
);
"""


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class TenantFile:
    """One SQLite database file, used by many threads under one lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.writes = 0  # commits through this connection (see the store's ``heads``)
        self.conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA secure_delete=ON")  # erased keys are overwritten
        legacy = _unscoped_idempotency(self.conn)  # asked before the schema adds the table
        headless = not _has_table(self.conn, "log_heads")
        self.conn.executescript(SCHEMA)
        if legacy:  # a file from before keyed digests: unsalted hashes under unscoped keys
            self.conn.execute("DELETE FROM idempotency")
        columns = {row[1] for row in self.conn.execute("PRAGMA table_info(events)")}
        if "hash" not in columns:  # a file from before the hash chain
            self.conn.execute("ALTER TABLE events ADD COLUMN hash BLOB")
        if headless:  # a file from before the head rows: take them from the events
            self.conn.execute(
                "INSERT OR IGNORE INTO log_heads SELECT e.tenant, e.context, e.position, e.hash"
                " FROM events e WHERE e.position = (SELECT MAX(position) FROM events m"
                " WHERE m.tenant = e.tenant AND m.context = e.context)"
            )
        checkpoint_columns = {row[1] for row in self.conn.execute("PRAGMA table_info(checkpoints)")}
        if "statement" not in checkpoint_columns:  # signed checkpoints (ADR 0003)
            with contextlib.suppress(sqlite3.OperationalError):  # another process was first
                self.conn.execute("ALTER TABLE checkpoints ADD COLUMN statement TEXT")
        key_columns = {row[1] for row in self.conn.execute("PRAGMA table_info(subject_keys)")}
        if "epoch" not in key_columns:  # raw keys from before key epochs (ADR 0006)
            with contextlib.suppress(sqlite3.OperationalError):  # another process was first
                self.conn.execute(
                    "ALTER TABLE subject_keys ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0"
                )

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
                self.writes += 1

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            yield self.conn


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)
        ).fetchone()
        is not None
    )


def write_head(
    conn: sqlite3.Connection, tenant: str, context: str, position: int, hash_: bytes | None
) -> None:
    """The log's head row (position and hash of its last event), in the append's
    transaction: kept apart from the events, so verify sees a tail deleted or appended
    behind the store's back (ADR 0003)."""
    conn.execute(
        "INSERT INTO log_heads VALUES (?, ?, ?, ?) ON CONFLICT (tenant, context) DO UPDATE"
        " SET position = excluded.position, hash = excluded.hash"
        " WHERE excluded.position >= log_heads.position",
        (tenant, context, position, hash_),
    )


def _unscoped_idempotency(conn: sqlite3.Connection) -> bool:
    """The file keeps idempotency records from before their subjects were recorded: their
    request hashes are unsalted SHA-256 of the bodies, their keys not scoped per principal.
    They can no longer be replayed (the keys differ) and are deleted once."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return "idempotency" in tables and "idempotency_subjects" not in tables


def log_heads(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """The head of every log in a file, one index seek per log.

    A ``GROUP BY tenant, context`` with ``MAX(position)`` reads every event of the file
    (about 190 ms for 600,000 events, under the file's lock); walking the primary key from
    one log to the next costs the same whatever the history.
    """
    found: dict[tuple[str, str], int] = {}
    row = conn.execute(
        "SELECT tenant, context FROM events ORDER BY tenant, context LIMIT 1"
    ).fetchone()
    while row is not None:
        tenant, context = row
        (head,) = conn.execute(
            "SELECT MAX(position) FROM events WHERE tenant=? AND context=?", (tenant, context)
        ).fetchone()
        found[(tenant, context)] = int(head)
        row = (
            conn.execute(
                "SELECT tenant, context FROM events WHERE tenant=? AND context>?"
                " ORDER BY tenant, context LIMIT 1",
                (tenant, context),
            ).fetchone()
            or conn.execute(
                "SELECT tenant, context FROM events WHERE tenant>?"
                " ORDER BY tenant, context LIMIT 1",
                (tenant,),
            ).fetchone()
        )
    return found

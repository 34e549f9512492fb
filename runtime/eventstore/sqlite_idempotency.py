"""The embedded store's idempotency records: written inside an append's transaction, read
for a retry, forgotten with an erased person; and the positions a replayed answer names."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from runtime.eventstore.base import IdempotencyKeyTaken, outcome_of, subjects_of
from runtime.eventstore.records import IdempotencyRecord
from runtime.eventstore.sqlite_file import TenantFile


def write_idempotency(
    conn: sqlite3.Connection,
    tenant: str,
    context: str,
    events: Sequence[StoredEvent],
    positions: Sequence[int],
    idempotency: tuple[str, str, int],
    now: str,
) -> None:
    """The command's answer under its key, with the aggregates it appended to."""
    key, request_hash, status = idempotency
    outcome = outcome_of(tenant, context, events, positions).to_json()
    try:
        conn.execute(
            "INSERT INTO idempotency VALUES (?,?,?,?,?,?)",
            (tenant, key, request_hash, status, json.dumps(outcome), now),
        )
    except sqlite3.IntegrityError as e:
        raise IdempotencyKeyTaken(str(e)) from e
    conn.executemany(
        "INSERT OR IGNORE INTO idempotency_subjects VALUES (?,?,?)",
        [(tenant, key, subject) for subject in subjects_of(events)],
    )


class IdempotencyFiles:
    """Mixed into ``SqliteEventLogStore``, which provides ``_file``."""

    _file: Callable[..., TenantFile | None]

    def find_idempotency(self, tenant: str, key: str) -> IdempotencyRecord | None:
        db = self._file(tenant, create=False)
        if db is None:
            return None
        with db.read() as conn:
            row = conn.execute(
                "SELECT request_hash, status, outcome FROM idempotency WHERE tenant=? AND key=?",
                (tenant, key),
            ).fetchone()
            subjects = conn.execute(
                "SELECT subject FROM idempotency_subjects WHERE tenant=? AND key=?", (tenant, key)
            ).fetchall()
        if row is None:
            return None
        return IdempotencyRecord(
            tenant, key, row[0], int(row[1]), json.loads(row[2]), frozenset(s for (s,) in subjects)
        )

    def forget_idempotency(self, tenant: str, subjects: Iterable[UUID]) -> int:
        wanted = sorted({str(s) for s in subjects})
        db = self._file(tenant, create=False)
        if db is None or not wanted:
            return 0
        marks = ",".join("?" * len(wanted))
        with db.write() as conn:
            keys = [
                (tenant, k)
                for (k,) in conn.execute(
                    "SELECT DISTINCT key FROM idempotency_subjects"
                    f" WHERE tenant=? AND subject IN ({marks})",
                    (tenant, *wanted),
                )
            ]
            conn.executemany("DELETE FROM idempotency WHERE tenant=? AND key=?", keys)
            conn.executemany("DELETE FROM idempotency_subjects WHERE tenant=? AND key=?", keys)
        if keys:  # overwrite the freed pages (secure_delete) in the database file itself
            with db.lock:
                db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(keys)

    def position_of(
        self, tenant: str, context: str, originator_id: UUID, version: int
    ) -> int | None:
        db = self._file(tenant, create=False)
        if db is None:
            return None
        with db.read() as conn:
            row = conn.execute(
                "SELECT position FROM events WHERE tenant=? AND context=? AND originator_id=?"
                " AND originator_version=?",
                (tenant, context, str(originator_id), version),
            ).fetchone()
        return None if row is None else int(row[0])

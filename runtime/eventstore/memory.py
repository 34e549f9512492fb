"""In-memory store: the event store port without SQLite or PostgreSQL, for fast tests.

Domain and application tests run on it without files, servers or fsyncs. It keeps the
promises of the other stores, so what passes here behaves alike there: gapless positions
per (tenant, context) log, one event per aggregate version, idempotency keys and index
entries written with the events (a bound that fails, or a key already taken, appends
nothing), the hash chain of ``chain`` (``kim audit verify`` works on it), imports only
into empty logs.

Not for production: nothing survives the process. Every log, key and checkpoint lives in
dicts of this object behind one lock, so appends of different tenants wait for each other
(which a test does not notice). ``open_store("memory://")`` gives a new, empty store.
"""

from __future__ import annotations

import json
import threading
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent

from contexts.shared.indexes import Entry, IndexBound, IndexChange, apply_changes
from runtime.eventstore import chain
from runtime.eventstore.base import (
    EventLogStore,
    IdempotencyKeyTaken,
    LogNotEmpty,
    check_log_address,
    outcome_of,
    subjects_of,
)
from runtime.eventstore.memory_keys import SubjectKeyMemory
from runtime.eventstore.records import EventMetadata, IdempotencyRecord, LogRecord

Log = tuple[str, str]
"""(tenant, context): the address of one log."""


@dataclass
class _Log:
    """One log: its records in position order, its aggregates' events, its index entries."""

    records: list[LogRecord] = field(default_factory=list)
    versions: dict[UUID, dict[int, LogRecord]] = field(default_factory=dict)
    index: dict[Entry, set[str]] = field(default_factory=dict)

    @property
    def head(self) -> int:
        return self.records[-1].position if self.records else 0

    def add(self, records: Iterable[LogRecord]) -> None:
        for r in records:
            self.records.append(r)
            self.versions.setdefault(r.originator_id, {})[r.originator_version] = r


def _position(r: LogRecord) -> int:
    return r.position


def _utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class MemoryEventLogStore(SubjectKeyMemory, EventLogStore):
    kind = "memory"

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._logs: dict[Log, _Log] = {}
        # (tenant, key) -> (request hash, status, outcome as JSON, subjects)
        self._idempotency: dict[tuple[str, str], tuple[str, int, str, frozenset[str]]] = {}
        self._relays: dict[str, dict[Log, int]] = {}
        self._checkpoints: dict[Log, dict[int, bytes]] = {}

    # -- writing -------------------------------------------------------------------------
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
        now = _utcnow()
        with self._lock:
            # Everything is checked before anything is kept: a refusal leaves the log as it was.
            log = self._logs.get((tenant, context)) or _Log()
            head = log.head
            previous = log.records[-1].hash if log.records else None
            if previous is None:
                previous = chain.genesis(tenant, context)
            positions = [head + i + 1 for i in range(len(events))]
            records: list[LogRecord] = []
            taken: set[tuple[UUID, int]] = set()
            for e, eid, pos in zip(events, event_ids, positions, strict=True):
                oid = UUID(str(e.originator_id))
                version = (oid, e.originator_version)
                if version in taken or e.originator_version in log.versions.get(oid, {}):
                    raise IntegrityError(
                        f"{tenant}/{context}: aggregate {oid} already has version"
                        f" {e.originator_version}"
                    )
                taken.add(version)
                unsealed = LogRecord(
                    tenant, context, pos, eid, oid, e.originator_version, e.topic, e.state,
                    meta.actor, meta.correlation_id, meta.causation_id, meta.traceparent, now,
                )  # fmt: skip
                previous = chain.seal(unsealed, previous)
                records.append(replace(unsealed, hash=previous))
            kept: dict[tuple[str, str], tuple[str, int, str, frozenset[str]]] = {}
            if idempotency is not None:
                key, request_hash, status = idempotency
                if (tenant, key) in self._idempotency:
                    raise IdempotencyKeyTaken(f"idempotency key {key!r} of {tenant} is taken")
                outcome = outcome_of(tenant, context, events, positions).to_json()
                subjects = frozenset(subjects_of(events))
                kept[(tenant, key)] = (request_hash, status, json.dumps(outcome), subjects)
            if index_changes or bounds:
                apply_changes(log.index, index_changes, bounds)  # raises with no effect
            # Nothing can fail from here on: keep the events and the key.
            self._logs[(tenant, context)] = log
            log.add(records)
            self._idempotency.update(kept)
        return positions

    # -- reading -------------------------------------------------------------------------
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
        with self._lock:
            log = self._logs.get((tenant, context))
            by_version = dict(log.versions.get(originator_id, {})) if log else {}
        found = [
            by_version[v]
            for v in sorted(by_version, reverse=desc)
            if (gt is None or v > gt) and (lte is None or v <= lte)
        ]
        if limit is not None:
            found = found[: max(limit, 0)]
        return [r.to_stored_event() for r in found]

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
        with self._lock:
            log = self._logs.get((tenant, context))
            if log is None:
                return []
            start = bisect_right(log.records, after, key=_position)
            stop = (
                len(log.records) if upto is None else bisect_right(log.records, upto, key=_position)
            )
            found = log.records[start:stop]  # a copy; the records themselves are frozen
        if topics:
            wanted = set(topics)
            found = [r for r in found if r.topic in wanted]
        return found if limit is None else found[: max(limit, 0)]

    def head(self, tenant: str, context: str) -> int:
        with self._lock:
            log = self._logs.get((tenant, context))
            return log.head if log else 0

    def heads(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return {address: log.head for address, log in self._logs.items() if log.records}

    # -- indexes written with the events --------------------------------------------------
    def index_count(self, tenant: str, context: str, index: str, key: str) -> int:
        return len(self.index_members(tenant, context, index, key))

    def index_members(self, tenant: str, context: str, index: str, key: str) -> list[str]:
        with self._lock:
            log = self._logs.get((tenant, context))
            return sorted(log.index.get((index, key), ())) if log else []

    def index_range(
        self, tenant: str, context: str, index: str, low: str, high: str, limit: int
    ) -> list[tuple[str, str]]:
        with self._lock:
            log = self._logs.get((tenant, context))
            found = (
                [(k, m) for (i, k), ms in log.index.items() if i == index and low <= k <= high
                 for m in ms]
                if log else []
            )  # fmt: skip
        return sorted(found)[:limit]

    def replace_index(
        self, tenant: str, context: str, entries: Iterable[tuple[str, str, str]]
    ) -> None:
        check_log_address(tenant, context)
        members: dict[Entry, set[str]] = {}
        for index, key, member in entries:
            members.setdefault((index, key), set()).add(member)
        with self._lock:
            self._logs.setdefault((tenant, context), _Log()).index = members

    def find_idempotency(self, tenant: str, key: str) -> IdempotencyRecord | None:
        with self._lock:
            found = self._idempotency.get((tenant, key))
        if found is None:
            return None
        request_hash, status, outcome, subjects = found
        return IdempotencyRecord(tenant, key, request_hash, status, json.loads(outcome), subjects)

    def forget_idempotency(self, tenant: str, subjects: Iterable[UUID]) -> int:
        wanted = {str(s) for s in subjects}
        with self._lock:
            gone = [
                address
                for address, kept in self._idempotency.items()
                if address[0] == tenant and kept[3] & wanted
            ]
            for address in gone:
                del self._idempotency[address]
        return len(gone)

    def position_of(
        self, tenant: str, context: str, originator_id: UUID, version: int
    ) -> int | None:
        with self._lock:
            log = self._logs.get((tenant, context))
            found = log.versions.get(originator_id, {}).get(version) if log else None
        return None if found is None else found.position

    # -- relay bookkeeping and checkpoints ---------------------------------------------------
    def relay_positions(self, relay: str) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._relays.get(relay, {}))

    def set_relay_position(self, relay: str, tenant: str, context: str, position: int) -> None:
        with self._lock:
            saved = self._relays.setdefault(relay, {})
            saved[(tenant, context)] = max(saved.get((tenant, context), position), position)

    def add_checkpoint(self, tenant: str, context: str, position: int, hash_: bytes) -> None:
        with self._lock:
            self._checkpoints.setdefault((tenant, context), {}).setdefault(position, hash_)

    def checkpoints(self, tenant: str, context: str) -> list[tuple[int, bytes]]:
        with self._lock:
            return sorted(self._checkpoints.get((tenant, context), {}).items())

    # -- import / lifecycle ---------------------------------------------------------------
    def import_records(self, records: Iterable[LogRecord]) -> int:
        """All or nothing: every target log must be empty, positions and versions unique."""
        staged: dict[Log, list[LogRecord]] = {}
        for r in records:
            check_log_address(r.tenant, r.context)
            staged.setdefault((r.tenant, r.context), []).append(r)
        with self._lock:
            for (tenant, context), rows in staged.items():
                log = self._logs.get((tenant, context))
                if log is not None and log.records:
                    raise LogNotEmpty(f"log {tenant}/{context} already holds events")
                rows.sort(key=_position)
                positions = [r.position for r in rows]
                versions = {(r.originator_id, r.originator_version) for r in rows}
                if len(set(positions)) != len(rows) or len(versions) != len(rows):
                    raise IntegrityError(f"log {tenant}/{context}: duplicate position or version")
            for address, rows in staged.items():
                self._logs.setdefault(address, _Log()).add(rows)
        return sum(len(rows) for rows in staged.values())

    def ping(self) -> None:
        """Always reachable: the store is this object."""

    def close(self) -> None:
        """Nothing to release; the contents stay until the store is dropped (as the SQLite
        store's files stay after it is closed)."""

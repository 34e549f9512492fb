"""Projections: from a context's events to read-model rows, live from the bus or replayed.

``AggregateProjection`` keeps one row per aggregate of one context: the aggregate's state
after each event, as a document (see ``documents``). It folds each event onto the state
it holds in memory (or, after a restart, onto the aggregate as of the previous version from
the event store), so rows always agree with what the domain computes. Rows and the log
position are written in one transaction; a redelivered event is skipped. Optionally a
projection keeps per-tenant summary counters (one row per tenant), updated by the
difference between a row's old and new contribution, so aggregated views over many towns
read one small row per tenant.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Aggregate

from contexts.shared.application import TenantApplication
from projections.documents import document
from runtime.bus.consumer import TrackedConsumer
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import LogRecord
from runtime.readstore import ReadStore, ReadTx

AppFor = Callable[[str], TenantApplication]
Summarise = Callable[[str, dict[str, Any]], Counter[str]]
"""(kind, document) -> what the document contributes to its tenant's summary counters."""
SUMMARY_KEY = "_summary"
SUMMARY_KIND = "Summary"


class AggregateProjection:
    cache_size = 20_000

    def __init__(
        self,
        name: str,
        context: str,
        read: ReadStore,
        events: EventLogStore,
        app_for: AppFor,
        prefix: str = "kim",
        summarise: Summarise | None = None,
    ) -> None:
        self.name = name
        self.context = context
        self.read = read
        self.events = events
        self.app_for = app_for
        self.summarise = summarise
        self.listeners: list[Callable[[dict[tuple[str, str], int]], None]] = []
        """Called after each commit with the new positions (tenant, context) -> position."""
        self._states: OrderedDict[tuple[str, UUID], Aggregate] = OrderedDict()
        # The document last written per aggregate and the summary per tenant, so a live
        # event costs no read of the read store (only writes, sent in one round trip).
        self._docs: OrderedDict[tuple[str, UUID], dict[str, Any]] = OrderedDict()
        self._summaries: dict[str, Counter[str]] = {}
        self._read_positions: dict[tuple[str, str], int] | None = None  # read on first use
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self.consumer = TrackedConsumer(
            name=f"projection-{name}",
            subject=f"{prefix}.*.{context}.>",
            process=self.process,
            position=lambda t, c: self._positions.get((t, c), 0),
            log_reader=lambda t, c, after, upto: events.read_log(t, c, after=after, upto=upto),
            process_batch=self.apply_batch,
        )

    @property
    def _positions(self) -> dict[tuple[str, str], int]:
        """The read models' positions, read when first needed (not at start: the database
        may be down then; a service starts anyway)."""
        positions = self._read_positions
        if positions is None:
            # Once, under a lock: readiness or the lag gauges loading them beside a batch
            # would replace the positions the batch has just advanced with stale ones.
            with self._load_lock:
                if self._read_positions is None:
                    self._read_positions = self.read.positions(self.name)
                positions = self._read_positions
        return positions

    @_positions.setter
    def _positions(self, positions: dict[tuple[str, str], int]) -> None:
        self._read_positions = positions

    def position(self, tenant: str) -> int:
        return self._positions.get((tenant, self.context), 0)

    # -- live -------------------------------------------------------------------------------
    def process(self, record: LogRecord) -> None:
        self.apply_batch([record])

    def apply_batch(self, records: Iterable[LogRecord]) -> int:
        """Apply records of this context in one transaction; returns how many applied.

        Each touched aggregate's row (and each tenant's summary row) is written once per
        batch, after the last event of the batch that touched it.
        """
        applied = 0
        last: dict[tuple[str, str], int] = {}
        touched: dict[tuple[str, UUID], Aggregate] = {}
        with self._lock:
            try:
                with self.read.transaction(self.name) as tx:
                    for record in records:
                        key = (record.tenant, record.context)
                        if record.position <= last.get(key, self._positions.get(key, 0)):
                            continue
                        agg_key, state = self._apply(record)
                        touched[agg_key] = state
                        last[key] = record.position
                        applied += 1
                    self._write(tx, touched)
                    for (tenant, context), position in last.items():
                        tx.set_position(tenant, context, position)
            except BaseException:
                # The caches may be ahead of what was rolled back: start them afresh.
                self._states.clear()
                self._docs.clear()
                self._summaries.clear()
                raise
        self._positions.update(last)
        if last:
            for listener in self.listeners:
                listener(last)
        return applied

    def _apply(self, record: LogRecord) -> tuple[tuple[str, UUID], Aggregate]:
        app = self.app_for(record.tenant)
        event = app.mapper.to_domain_event(record.to_stored_event())
        key = (record.tenant, UUID(str(record.originator_id)))
        state = self._states.pop(key, None)
        if state is not None and state.version != record.originator_version - 1:
            state = None
        if state is None and record.originator_version > 1:
            state = app.repository.get(key[1], version=record.originator_version - 1)
        mutated = cast(Any, event).mutate(state)
        assert isinstance(mutated, Aggregate)
        self._states[key] = mutated
        if len(self._states) > self.cache_size:
            self._states.popitem(last=False)
        return key, mutated

    def _write(self, tx: ReadTx, touched: dict[tuple[str, UUID], Aggregate]) -> None:
        deltas: dict[str, Counter[str]] = {}
        for key, state in touched.items():
            tenant, aggregate_id = key
            doc = document(state)
            kind = type(state).__name__
            if self.summarise is not None:
                before = self._docs.pop(key, None)
                if before is None and state.version > 1:
                    before = tx.get(tenant, str(aggregate_id))
                delta = deltas.setdefault(tenant, Counter())
                delta.update(self.summarise(kind, doc))
                if before is not None:
                    delta.subtract(self.summarise(kind, before))
                self._docs[key] = doc
                if len(self._docs) > self.cache_size:
                    self._docs.popitem(last=False)
            tx.put(tenant, str(aggregate_id), kind, doc)
        for tenant, delta in deltas.items():
            current = self._summaries.get(tenant)
            if current is None:
                current = Counter(tx.get(tenant, SUMMARY_KEY) or {})
            current.update(delta)  # update/subtract keep zero and negative counts
            current = +current
            self._summaries[tenant] = current
            tx.put(tenant, SUMMARY_KEY, SUMMARY_KIND, _summary_doc(current))

    # -- rebuild ----------------------------------------------------------------------------
    def rebuild(
        self,
        tenants: Iterable[str],
        *,
        batch: int = 5000,
        progress: Callable[[int], None] | None = None,
        upto: int | None = None,
        until: datetime | None = None,
    ) -> int:
        """Replace the rows of ``tenants`` by a replay of their logs; returns the events applied.

        Each tenant's log is folded in memory and its rows written once, in bulk, in one
        transaction with the position (readers see the old rows until then). With ``upto``
        (a log position) or ``until`` (a point in time, by recorded time) the rows show the
        state as of then.
        """
        total = 0
        with self._lock:
            self._states.clear()
            self._docs.clear()
            self._summaries.clear()
            for tenant in tenants:
                total += self._rebuild_tenant(tenant, batch, progress, upto, until)
            self._positions = self.read.positions(self.name)
        return total

    def _rebuild_tenant(
        self,
        tenant: str,
        batch: int,
        progress: Callable[[int], None] | None,
        upto: int | None,
        until: datetime | None,
    ) -> int:
        to_event = self.app_for(tenant).mapper.to_domain_event
        states: dict[UUID, Aggregate] = {}
        after = applied = 0
        while True:
            records = self.events.read_replay(
                tenant, self.context, after=after, upto=upto, limit=batch
            )
            if until is not None:
                records = [r for r in records if r.recorded_at <= until]
            if not records:
                break
            for record in records:
                oid = record.originator_id
                event = cast(Any, to_event(record.to_stored_event()))
                states[oid] = event.mutate(states.get(oid))
            applied += len(records)
            after = records[-1].position
            if progress is not None:
                progress(len(records))
        rows = [(str(oid), type(state).__name__, document(state)) for oid, state in states.items()]
        if self.summarise is not None and rows:
            summary: Counter[str] = Counter()
            for _, kind, doc in rows:
                summary.update(self.summarise(kind, doc))
            rows.append((SUMMARY_KEY, SUMMARY_KIND, _summary_doc(summary)))
        positions = {(tenant, self.context): after} if after else {}
        self.read.replace_tenant(self.name, tenant, rows, positions)
        return applied


def _summary_doc(counts: Counter[str]) -> dict[str, Any]:
    """Counters as stored: without zero or negative counts, keys sorted."""
    return dict(sorted((+counts).items()))

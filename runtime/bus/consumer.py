"""Tracked consumers: at-least-once delivery in, exactly-once effect out.

A consumer keeps, per (tenant, context) log, the last position whose effect it stored,
in the same transaction as the effect. A redelivered or duplicate record is skipped; a
record beyond a gap makes the consumer read the missing records from the log first.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field

from opentelemetry.trace import Span, SpanKind

from runtime import context as request_context
from runtime.bus.base import Message
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import LogRecord
from runtime.telemetry import span_from


class OutOfOrderError(Exception):
    """A record arrived before an earlier one of its log; it must be delivered again."""

    transient = True  # delivered again soon, without a growing delay (runtime.bus.redelivery)


LogReader = Callable[[str, str, int, int], list[LogRecord]]
"""(tenant, context, after, upto) -> the records in between, from the event log."""


@dataclass
class TrackedConsumer:
    name: str
    subject: str
    process: Callable[[LogRecord], None]
    """Applies one record and stores its position atomically with the effect."""
    position: Callable[[str, str], int]
    """The last position processed for a (tenant, context) log."""
    log_reader: LogReader | None = None
    process_batch: Callable[[list[LogRecord]], object] | None = None
    """Applies several records at once (e.g. in one transaction); optional."""
    flush: Callable[[], None] | None = None
    """Saves what the consumer keeps unsaved in memory; called when the platform stops."""
    skipped: int = 0
    processed: int = 0
    gap_filled: int = 0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def _span(self, record: LogRecord, headers: dict[str, str]) -> ContextManager[Span]:
        return span_from(
            f"consume {self.subject} {record.tenant}/{record.context}#{record.position}",
            headers.get("traceparent") or record.traceparent,
            SpanKind.CONSUMER,
            consumer=self.name,
        )

    async def __call__(self, record: LogRecord, headers: dict[str, str]) -> None:
        with self._span(record, headers):
            async with self._lock:
                await asyncio.to_thread(self._handle, record)

    async def handle_batch(self, messages: list[Message]) -> None:
        """Several messages, in delivery order: one consume span each, one worker call."""
        with contextlib.ExitStack() as spans:
            for record, headers in messages:
                spans.enter_context(self._span(record, headers))
            async with self._lock:
                await asyncio.to_thread(self._handle_many, [r for r, _ in messages])

    async def catch_up(self, tenant: str, context: str, upto: int) -> int:
        """Read and apply what is missing of a log up to ``upto`` (``runtime.bus.catch_up``);
        returns how many records were read."""
        if self.log_reader is None:
            return 0
        async with self._lock:
            after = self.position(tenant, context)
            if after >= upto:
                return 0
            records = await asyncio.to_thread(self.log_reader, tenant, context, after, upto)
            await asyncio.to_thread(self._handle_many, records)
            self.gap_filled += len(records)
            return len(records)

    def _handle_many(self, records: list[LogRecord]) -> None:
        if self.process_batch is None or self.log_reader is None:
            for record in records:
                self._handle(record)
            return
        # What is new, with any gap before it filled from the log, then applied at once.
        todo: list[LogRecord] = []
        last: dict[tuple[str, str], int] = {}
        for record in records:
            key = (record.tenant, record.context)
            known = last[key] if key in last else self.position(*key)
            if record.position <= known:
                self.skipped += 1
                continue
            if record.position > known + 1:
                missing = self.log_reader(record.tenant, record.context, known, record.position - 1)
                todo.extend(missing)
                self.gap_filled += len(missing)
            todo.append(record)
            last[key] = record.position
        if todo:
            self.process_batch(todo)
            self.processed += len(todo)

    def _handle(self, record: LogRecord) -> None:
        last = self.position(record.tenant, record.context)
        if record.position <= last:
            self.skipped += 1
            return
        if record.position > last + 1:
            if self.log_reader is None:
                # Refuse it; the bus redelivers it after the earlier records.
                raise OutOfOrderError(
                    f"{self.name}: {record.tenant}/{record.context} position {record.position}"
                    f" arrived before {last + 1}"
                )
            for missing in self.log_reader(
                record.tenant, record.context, last, record.position - 1
            ):
                self._apply(missing)
                self.gap_filled += 1
        self._apply(record)

    def _apply(self, record: LogRecord) -> None:
        with request_context.bound(
            actor=f"consumer:{self.name}",
            tenant=record.tenant,
            correlation_id=record.correlation_id,
            causation_id=record.event_id,
        ):
            self.process(record)
        self.processed += 1


class Intake(ABC):
    """Base of the consumers that react to another context's events idempotently.

    Their effect is idempotent by itself (ids derived from the source), so the processed
    positions need not be written with the effect: they are saved beside the relay's
    (``intake:<name>``) at most every ``SAVE_EVERY`` seconds. After a restart the consumer
    resumes there and repeats at most the unsaved tail, skipping what it finds done, instead
    of reading every log from the start (a cost that would grow with the history).
    Subclasses set ``name`` and implement ``handle``; ``consumer`` is what the platform
    subscribes.
    """

    name = "intake"
    SAVE_EVERY = 0.5

    def __init__(self, store: EventLogStore, subject: str) -> None:
        self._store = store
        self._positions: dict[tuple[str, str], int] | None = None  # read on first use
        self._unsaved: dict[tuple[str, str], int] = {}
        self._saved_at = time.monotonic()
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self.consumer = TrackedConsumer(
            name=self.name,
            subject=subject,
            process=self.process,
            position=lambda t, c: self.positions.get((t, c), 0),
            log_reader=lambda t, c, after, upto: store.read_log(t, c, after=after, upto=upto),
            flush=self.save,
        )

    @abstractmethod
    def handle(self, record: LogRecord) -> None:
        """Apply one record (idempotently)."""

    @property
    def saved_as(self) -> str:
        return f"intake:{self.name}"

    @property
    def positions(self) -> dict[tuple[str, str], int]:
        """The saved positions, read when first needed (not at start: the database may be
        down then; a service starts anyway)."""
        positions = self._positions
        if positions is None:
            # Once, under a lock: a second reader (readiness, the lag gauges) loading them
            # too would replace the dict ``process`` has meanwhile advanced with a stale one.
            with self._load_lock:
                if self._positions is None:
                    self._positions = self._store.relay_positions(self.saved_as)
                positions = self._positions
        return positions

    def process(self, record: LogRecord) -> None:
        self.handle(record)
        key = (record.tenant, record.context)
        with self._lock:
            self.positions[key] = record.position
            self._unsaved[key] = record.position
            if time.monotonic() - self._saved_at < self.SAVE_EVERY:
                return
        self.save()

    def save(self) -> None:
        """Save the positions processed since the last save (also when the platform stops,
        so a restart repeats nothing and finds no consumer behind)."""
        with self._lock:
            unsaved, self._unsaved = self._unsaved, {}
            self._saved_at = time.monotonic()
        if unsaved:
            self._store.set_relay_positions(self.saved_as, unsaved)

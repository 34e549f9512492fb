"""The application base every context uses: one instance per tenant and context.

An instance is bound to exactly one tenant's log for its context. The recorder is
injected by the runtime (SQLite or PostgreSQL), so contexts never see storage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Protocol, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, Notification, Recording, StoredEvent
from eventsourcing.utils import EnvType

from contexts.shared.errors import NotFound, StaleVersion
from contexts.shared.indexes import (
    Entry,
    IndexBound,
    IndexChange,
    Indexed,
    IndexedRecorder,
    changes_between,
)

A = TypeVar("A", bound=Aggregate)

LOADED_ENTRIES = "_kim_index_entries_loaded"
"""Where an indexed aggregate keeps the index entries it stood in when it was loaded."""


class CommandLedger(Protocol):
    """What a recorder keeps about the commands it stored (the runtime's stores): where an
    aggregate's version lies in the log, and the edge's idempotency records."""

    def position_of(self, originator_id: UUID, version: int) -> int | None: ...

    def forget_idempotency(self, subjects: Iterable[UUID]) -> int: ...


def _indexed(aggregate: object) -> bool:
    # A class attribute look-up: cheaper than isinstance of a runtime-checkable protocol.
    return hasattr(type(aggregate), "index_entries")


def _entries(aggregate: object) -> frozenset[Entry]:
    return cast(Indexed, aggregate).index_entries()


def _loaded_entries(aggregate: Aggregate, events: Sequence[Any]) -> frozenset[Entry]:
    found: frozenset[Entry] | None = getattr(aggregate, LOADED_ENTRIES, None)
    if found is not None:
        return found
    if events and events[0].originator_version == 1:
        return frozenset()  # created by this command
    raise RuntimeError(
        f"{type(aggregate).__name__} {aggregate.id} was not loaded through load(): its index"
        " entries before the change are unknown"
    )


class TenantApplication(Application[UUID]):
    """An eventsourcing ``Application`` bound to one tenant's log of one context."""

    context: ClassVar[str] = ""
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "1000"}

    def __init__(
        self, tenant: str, recorder_factory: Callable[[str, str], ApplicationRecorder]
    ) -> None:
        self.tenant = tenant
        self._recorder_factory = recorder_factory
        super().__init__(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})

    def construct_env(self, name: str, env: EnvType | None = None) -> Any:
        # The runtime configures storage; the process environment must not override it.
        from eventsourcing.utils import Environment

        merged = dict(type(self).env)
        if env is not None:
            merged.update(env)
        return Environment(name, merged)

    def construct_recorder(self) -> ApplicationRecorder:
        return self._recorder_factory(self.tenant, self.context)

    def load(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        """Get an aggregate or raise ``NotFound`` (a 404 at the edge)."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(what, aggregate_id) from None
        if not isinstance(aggregate, cls):
            raise NotFound(what, aggregate_id)
        if _indexed(aggregate):
            setattr(aggregate, LOADED_ENTRIES, _entries(aggregate))
        return aggregate

    def load_expecting(
        self, cls: type[A], aggregate_id: UUID, what: str, expected_version: int | None
    ) -> A:
        """Get an aggregate and check the client's expected version (optimistic concurrency)."""
        aggregate = self.load(cls, aggregate_id, what)
        if expected_version is not None and expected_version != aggregate.version:
            raise StaleVersion(what, expected_version, aggregate.version)
        return aggregate

    def save(  # type: ignore[override]
        self, *objs: Aggregate | None, **kwargs: Any
    ) -> list[Recording[UUID]]:
        """``Application.save`` for aggregates, without its per-call protocol checks.

        eventsourcing asks ``isinstance`` of two runtime-checkable protocols for every
        object saved, which on Python 3.11 costs more than the rest of collecting the
        events. Our commands save aggregates only, so a nominal check does, and their
        events go to the recorder in one step (``_record_events``: no processing event, no
        snapshot pass when the application takes none); anything else takes
        eventsourcing's own path.
        """
        events: list[Any] = []
        aggregates: dict[UUID, Aggregate] = {}
        changes: list[IndexChange] = []
        indexed: list[tuple[Aggregate, frozenset[Entry]]] = []
        others: list[Any] = []
        for obj in objs:
            if isinstance(obj, Aggregate):
                collected = obj.collect_events()
                events += collected
                aggregates[obj.id] = obj
                if _indexed(obj):
                    after = _entries(obj)
                    changes += changes_between(str(obj.id), _loaded_entries(obj, collected), after)
                    indexed.append((obj, after))
            elif obj is not None:
                others.append(obj)
        bounds: list[IndexBound] = list(kwargs.pop("bounds", None) or ())
        if changes or bounds:
            kwargs["index_changes"] = changes
            kwargs["bounds"] = bounds
        if others or (self.snapshots and self.snapshotting_intervals) or "tracking" in kwargs:
            recordings = self._save_generic(events, aggregates, others, kwargs)
        else:
            recordings = self._record_events(events, aggregates, kwargs)
        for obj, after in indexed:
            setattr(obj, LOADED_ENTRIES, after)
        self._notify(recordings)
        self.notify(events)  # deprecated in eventsourcing, still called by it
        return recordings

    def _record_events(
        self, events: list[Any], aggregates: dict[UUID, Aggregate], kwargs: dict[str, Any]
    ) -> list[Recording[UUID]]:
        """What eventsourcing's ``_record`` and ``EventStore.put`` do for aggregates, in one
        step: map, insert (one append), a recording per event, the aggregates cached."""
        to_stored = self.mapper.to_stored_event
        stored = [to_stored(e) for e in events]
        positions = self.recorder.insert_events(stored, **kwargs)
        recordings = [
            Recording(
                d,
                Notification(
                    originator_id=s.originator_id,
                    originator_version=s.originator_version,
                    topic=s.topic,
                    state=s.state,
                    id=n,
                ),
            )
            for d, s, n in zip(events, stored, positions or (), strict=bool(positions))
        ]
        cache = self.repository.cache
        if cache and not self.repository.fastforward:
            for aggregate_id, aggregate in aggregates.items():
                cache.put(aggregate_id, aggregate)
        return recordings

    def _save_generic(
        self,
        events: list[Any],
        aggregates: dict[UUID, Aggregate],
        others: list[Any],
        kwargs: dict[str, Any],
    ) -> list[Recording[UUID]]:
        """eventsourcing's own path: other objects than aggregates, snapshots, tracking."""
        processing = ProcessingEvent[UUID](tracking=kwargs.pop("tracking", None))
        processing.events.extend(events)
        processing.aggregates.update(aggregates)
        for obj in others:
            processing.collect_events(obj)
        processing.saved_kwargs.update(kwargs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        return recordings

    # -- indexes kept with the events (see contexts/shared/indexes.py) ---------------------
    @property
    def indexes(self) -> IndexedRecorder:
        recorder = self.recorder
        assert hasattr(recorder, "index_count"), "the recorder keeps no indexes"
        return recorder  # type: ignore[return-value]

    # -- what the store keeps about commands -------------------------------------------------
    @property
    def ledger(self) -> CommandLedger:
        recorder = self.recorder
        assert hasattr(recorder, "forget_idempotency"), "the recorder keeps no command records"
        return recorder  # type: ignore[return-value]

    def recording_of(self, stored: StoredEvent) -> Recording[UUID]:
        """An event stored earlier as ``save`` returned it: for a command that finds its work
        recorded already (a retry) and answers as the first attempt did."""
        originator = UUID(str(stored.originator_id))
        position = self.ledger.position_of(originator, stored.originator_version)
        assert position is not None, f"{originator} v{stored.originator_version} is not stored"
        notification = Notification(
            originator_id=originator,
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=stored.state,
            id=position,
        )
        return Recording(self.mapper.to_domain_event(stored), notification)

    def forget_requests(self, subjects: Iterable[UUID]) -> int:
        """Forget the edge's idempotency records of the commands that appended to
        ``subjects`` (their request digests and answers); how many went."""
        return self.ledger.forget_idempotency(subjects)

    def reindex(self) -> int:
        """Rebuild this log's index entries from its aggregates (after an import); O(log)."""
        ids: dict[UUID, None] = {}
        start: int | None = None
        while True:
            batch = self.recorder.select_notifications(start=start, limit=1000)
            for n in batch:
                ids[UUID(str(n.originator_id))] = None
            if len(batch) < 1000:
                break
            start = batch[-1].id + 1
        entries = []
        for aggregate_id in ids:
            aggregate: Aggregate = self.repository.get(aggregate_id)
            if _indexed(aggregate):
                entries += [(i, k, str(aggregate_id)) for i, k in _entries(aggregate)]
        self.indexes.replace_index(entries)
        return len(entries)

    def save_command(self, *objs: Aggregate, **kwargs: Any) -> list[Recording[UUID]]:
        """Save the pending events of a command; kwargs reach the recorder (idempotency)."""
        return self.save(*objs, **kwargs)

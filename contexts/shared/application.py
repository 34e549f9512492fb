"""The application base every context uses: one instance per tenant and context.

An instance is bound to exactly one tenant's log for its context. The recorder is
injected by the runtime (SQLite or PostgreSQL), so contexts never see storage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, Recording
from eventsourcing.utils import EnvType

from contexts.shared.errors import NotFound, StaleVersion

A = TypeVar("A", bound=Aggregate)


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
        events. Our commands save aggregates only, so a nominal check does; anything else
        takes eventsourcing's own path.
        """
        processing = ProcessingEvent[UUID]()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing.events.extend(obj.collect_events())
                processing.aggregates[obj.id] = obj
            elif obj is not None:
                processing.collect_events(obj)
        processing.saved_kwargs.update(kwargs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)  # deprecated in eventsourcing, still called by it
        return recordings

    def save_command(self, *objs: Aggregate, **kwargs: Any) -> list[Recording[UUID]]:
        """Save the pending events of a command; kwargs reach the recorder (idempotency)."""
        return self.save(*objs, **kwargs)

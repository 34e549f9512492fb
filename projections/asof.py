"""State as of a log position or a point in time, by replay, with the events behind it.

Used by reports that must be reproducible for auditors: the same log, position or date
gives the same aggregates, and every aggregate lists the ids of the events it rests on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Aggregate

from contexts.shared.application import TenantApplication
from runtime.eventstore.base import EventLogStore


@dataclass
class History:
    tenant: str
    context: str
    position: int = 0  # the last position folded
    aggregates: dict[UUID, Aggregate] = field(default_factory=dict)
    evidence: dict[UUID, list[tuple[str, object]]] = field(default_factory=dict)

    def of_type(self, cls: type[Any]) -> list[Any]:
        return [a for a in self.aggregates.values() if isinstance(a, cls)]


def fold(
    store: EventLogStore,
    app: TenantApplication,
    *,
    upto: int | None = None,
    until: datetime | None = None,
    batch: int = 2000,
) -> History:
    """Replay the app's (tenant, context) log up to position ``upto`` and/or up to the events
    recorded at or before ``until``."""
    history = History(app.tenant, app.context)
    after = 0
    while True:
        records = store.read_log(app.tenant, app.context, after=after, upto=upto, limit=batch)
        if not records:
            return history
        for record in records:
            if until is not None and datetime.fromisoformat(record.recorded_at) > until:
                return history
            event = app.mapper.to_domain_event(record.to_stored_event())
            aggregate_id = UUID(str(record.originator_id))
            state = cast(Any, event).mutate(history.aggregates.get(aggregate_id))
            history.aggregates[aggregate_id] = state
            history.evidence.setdefault(aggregate_id, []).append((record.event_id, event))
            history.position = record.position
        after = records[-1].position

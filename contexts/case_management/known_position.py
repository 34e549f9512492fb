"""A case-management position as coordination published it, with its supervision lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event


class KnownPosition(Aggregate):
    """A case-management position as coordination published it (contract PositionCreated)."""

    class Noted(Aggregate.Created):
        fte: str
        work_tenant: str

    class SupervisionNoted(Aggregate.Event):
        post_tenant: str
        valid_from: str

    class SupervisionEndNoted(Aggregate.Event):
        valid_to: str

    @event(Noted)
    def __init__(self, id: UUID, fte: str, work_tenant: str) -> None:
        # The id is the coordination position's, so noting it twice collides.
        self.fte = Decimal(fte)
        self.work_tenant = work_tenant
        self.supervision: list[tuple[str, date, date | None]] = []

    @event(SupervisionNoted)
    def note_supervision(self, post_tenant: str, valid_from: str) -> None:
        self.supervision.append((post_tenant, date.fromisoformat(valid_from), None))

    @event(SupervisionEndNoted)
    def note_supervision_end(self, valid_to: str) -> None:
        self.supervision = [
            (post, start, date.fromisoformat(valid_to) if end is None else end)
            for post, start, end in self.supervision
        ]

    def supervisor_on(self, day: date) -> str | None:
        for post, start, end in self.supervision:
            if start <= day and (end is None or day <= end):
                return post
        return None

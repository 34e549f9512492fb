"""A case-management position as coordination published it, with its supervision lines."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contexts.case_management.access import Supervisor


@dataclass(frozen=True)
class SupervisionLine:
    """Coordination's supervision line, mirrored: the post and, where the line names one, the
    supervising coordination position (None: any coordinator of the post supervises)."""

    post: str
    position: UUID | None
    valid_from: date
    valid_to: date | None

    def active_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class KnownPosition(Aggregate):
    """A case-management position as coordination published it (contract PositionCreated)."""

    class Noted(Aggregate.Created):
        fte: str
        work_tenant: str

    class SupervisionNoted(Aggregate.Event):
        post_tenant: str
        valid_from: str
        supervisor_position_id: UUID | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Lines noted before they named a position: any coordinator of the post."""
            state["supervisor_position_id"] = None

    class SupervisionEndNoted(Aggregate.Event):
        valid_to: str

    @event(Noted)
    def __init__(self, id: UUID, fte: str, work_tenant: str) -> None:
        # The id is the coordination position's, so noting it twice collides.
        self.fte = Decimal(fte)
        self.work_tenant = work_tenant
        self.supervision: list[SupervisionLine] = []

    def note_supervision(
        self, post_tenant: str, valid_from: str, supervisor_position_id: UUID | None = None
    ) -> None:
        self._note_supervision(post_tenant, valid_from, supervisor_position_id)

    @event(SupervisionNoted)
    def _note_supervision(
        self, post_tenant: str, valid_from: str, supervisor_position_id: UUID | None
    ) -> None:
        line = SupervisionLine(
            post_tenant, supervisor_position_id, date.fromisoformat(valid_from), None
        )
        self.supervision.append(line)

    @event(SupervisionEndNoted)
    def note_supervision_end(self, valid_to: str) -> None:
        self.supervision = [
            replace(line, valid_to=date.fromisoformat(valid_to)) if line.valid_to is None else line
            for line in self.supervision
        ]

    def supervisor_on(self, day: date) -> Supervisor | None:
        for line in self.supervision:
            if line.active_on(day):
                return Supervisor(line.post, line.position)
        return None

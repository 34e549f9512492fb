"""Working groups (Arbeitsgruppen) mandated by a resolution, and the submissions coordination
sent to the steering group.

A working group "works on the typical case" (Fallrekonstruktion): the coordination post
gives it pseudonymised case timelines (states, dates, life dimensions, referrals; no
personal data, no person or case ids: each timeline gets a fresh pseudonym). Its results
go back to the steering group as an agenda item (``Reported``).
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from contexts.shared.errors import DomainError


class WorkingGroup(Aggregate):
    class Mandated(Aggregate.Created):
        group_id: UUID
        resolution_id: str
        name: str
        mandate: str
        on: str

    class MemberJoined(Aggregate.Event):
        institution: str
        role: str

    class TimelinesGiven(Aggregate.Event):
        on: str
        chosen_by: str
        timelines: list[dict[str, Any]]

    class Reported(Aggregate.Event):
        group_id: UUID
        meeting_id: str
        item: int
        summary: str
        on: str

    @event(Mandated)
    def __init__(
        self, group_id: UUID, resolution_id: str, name: str, mandate: str, on: str
    ) -> None:
        self.group_id = group_id
        self.resolution_id = resolution_id
        self.name = name
        self.mandate = mandate
        self.mandated_on = on
        self.members: list[dict[str, str]] = []
        self.timelines: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []

    @event(MemberJoined)
    def join(self, institution: str, role: str) -> None:
        self.members.append({"institution": institution, "role": role})

    def give(self, timelines: list[dict[str, Any]], chosen_by: str, on: str) -> None:
        if not timelines:
            raise DomainError("no-timelines", "choose at least one case", field="cases")
        self._give(on, chosen_by, timelines)

    @event(TimelinesGiven)
    def _give(self, on: str, chosen_by: str, timelines: list[dict[str, Any]]) -> None:
        self.timelines.extend(timelines)

    @event(Reported)
    def report(self, group_id: UUID, meeting_id: str, item: int, summary: str, on: str) -> None:
        self.reports.append({"meeting_id": meeting_id, "item": item, "summary": summary, "on": on})


def submission_id(tenant: str, event_id: str) -> UUID:
    """A submission's id derives from coordination's event, so a redelivery collides."""
    return uuid5(NAMESPACE_URL, f"kim:steering-submission:{tenant}:{event_id}")


class Submission(Aggregate):
    """A topic the coordination post of this tenant submitted to the steering group
    (``GapTopicSubmittedToSteering``); a group of this tenant, or one this tenant is a
    member of, puts it on a meeting's agenda."""

    class Received(Aggregate.Created):
        topic_id: str
        summary: str
        submitted_on: str
        source_event_id: str
        tenant: str

    @staticmethod
    def create_id(source_event_id: str, tenant: str = "", **_: object) -> UUID:
        return submission_id(tenant, source_event_id)

    @event(Received)
    def __init__(
        self, topic_id: str, summary: str, submitted_on: str, source_event_id: str, tenant: str
    ) -> None:
        self.topic_id = topic_id
        self.summary = summary
        self.submitted_on = submitted_on
        self.tenant = tenant

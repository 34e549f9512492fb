"""A meeting (Sitzung) of a steering group: scheduled, invited with its agenda, held with
attendance and quorum, result minutes (Ergebnisprotokoll) drafted and approved at a later
meeting; approved minutes are never edited, only amended (``MinutesAmended``)."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contexts.shared.errors import Conflict, DomainError


class ItemSource(StrEnum):
    COORDINATION = "coordination"  # Vorlage der Koordinierungsstelle
    MEMBER = "member"  # Antrag eines Mitglieds
    CARRIED_OVER = "carried_over"  # aus einer früheren Sitzung vertagt
    WORKING_GROUP = "working_group"  # Bericht einer Arbeitsgruppe


class Meeting(Aggregate):
    class Scheduled(Aggregate.Created):
        group_id: UUID
        title: str
        scheduled_for: str

    class AgendaItemAdded(Aggregate.Event):
        group_id: UUID
        item: int
        title: str
        source: str
        carried_from: dict[str, Any] | None
        topic_tenant: str | None
        topic_id: str | None
        submission: str | None

    class InvitationSent(Aggregate.Event):
        group_id: UUID
        sent_on: str
        agenda: list[dict[str, Any]]

    class Held(Aggregate.Event):
        group_id: UUID
        held_on: str
        present: list[str]
        voting_members: int
        present_voting: int
        present_advisory: int
        quorum_reached: bool

    class MinutesDrafted(Aggregate.Event):
        group_id: UUID
        on: str
        text: str

    class MinutesApproved(Aggregate.Event):
        group_id: UUID
        on: str
        approved_at_meeting: str

    class MinutesAmended(Aggregate.Event):
        group_id: UUID
        on: str
        amendment: str
        approved_at_meeting: str

    @event(Scheduled)
    def __init__(self, group_id: UUID, title: str, scheduled_for: str) -> None:
        self.group_id = group_id
        self.title = title
        self.scheduled_for = scheduled_for
        self.agenda: list[dict[str, Any]] = []
        self.invited_on: str | None = None
        self.held_on: str | None = None
        self.present: list[str] = []
        self.attendance: dict[str, Any] | None = None
        self.minutes: str | None = None
        self.minutes_drafted_on: str | None = None
        self.minutes_approved: dict[str, str] | None = None
        self.amendments: list[dict[str, str]] = []

    @property
    def state(self) -> str:
        if self.minutes_approved:
            return "minutes_approved"
        if self.minutes is not None:
            return "minutes_drafted"
        if self.held_on:
            return "held"
        return "invited" if self.invited_on else "scheduled"

    @property
    def quorum_reached(self) -> bool:
        return bool(self.attendance and self.attendance["quorum_reached"])

    def item(self, number: int) -> dict[str, Any]:
        if not 1 <= number <= len(self.agenda):
            raise DomainError("no-such-item", f"the agenda has no item {number}", field="item")
        return self.agenda[number - 1]

    def add_item(
        self,
        *,
        title: str,
        source: ItemSource,
        carried_from: dict[str, Any] | None = None,
        topic_tenant: str | None = None,
        topic_id: str | None = None,
        submission: str | None = None,
    ) -> int:
        if self.held_on:
            raise Conflict("meeting-held", "the meeting was held: its agenda is closed")
        if submission and any(i.get("submission") == submission for i in self.agenda):
            raise Conflict("item-exists", "this submission is on the agenda already")
        number = len(self.agenda) + 1
        self._add(
            self.group_id, number, title, source.value, carried_from, topic_tenant, topic_id,
            submission,
        )  # fmt: skip
        return number

    @event(AgendaItemAdded)
    def _add(
        self,
        group_id: UUID,
        item: int,
        title: str,
        source: str,
        carried_from: dict[str, Any] | None,
        topic_tenant: str | None,
        topic_id: str | None,
        submission: str | None,
    ) -> None:
        self.agenda.append(
            {
                "item": item,
                "title": title,
                "source": source,
                "carried_from": carried_from,
                "topic_tenant": topic_tenant,
                "topic_id": topic_id,
                "submission": submission,
            }
        )

    def invite(self, sent_on: date, invitation_days: int) -> None:
        if self.invited_on:
            raise Conflict("already-invited", f"the invitation went out on {self.invited_on}")
        if not self.agenda:
            raise DomainError("agenda-empty", "an invitation needs an agenda", field="agenda")
        latest = date.fromisoformat(self.scheduled_for) - timedelta(days=invitation_days)
        if sent_on > latest:
            raise DomainError(
                "invitation-too-late",
                f"the rules of procedure ask for the invitation {invitation_days} days ahead,"
                f" by {latest.isoformat()}",
                field="sent_on",
                latest=latest.isoformat(),
            )
        agenda = [
            {"item": i["item"], "title": i["title"], "source": i["source"]} for i in self.agenda
        ]
        self._invite(self.group_id, sent_on.isoformat(), agenda)

    @event(InvitationSent)
    def _invite(self, group_id: UUID, sent_on: str, agenda: list[dict[str, Any]]) -> None:
        self.invited_on = sent_on

    def hold(
        self, held_on: date, present: list[str], voting_members: int, present_voting: int,
        present_advisory: int, quorum: bool,
    ) -> None:  # fmt: skip
        if self.held_on:
            raise Conflict("meeting-already-held", f"the meeting was held on {self.held_on}")
        if not self.invited_on:
            raise DomainError("not-invited", "a meeting is held after its invitation went out")
        if held_on.isoformat() < self.invited_on:
            raise DomainError("invalid-date", "held before the invitation", field="held_on")
        self._hold(
            self.group_id, held_on.isoformat(), sorted(present), voting_members, present_voting,
            present_advisory, quorum,
        )  # fmt: skip

    @event(Held)
    def _hold(
        self, group_id: UUID, held_on: str, present: list[str], voting_members: int,
        present_voting: int, present_advisory: int, quorum_reached: bool,
    ) -> None:  # fmt: skip
        self.held_on = held_on
        self.present = present
        self.attendance = {
            "voting_members": voting_members,
            "present_voting": present_voting,
            "present_advisory": present_advisory,
            "quorum_reached": quorum_reached,
        }

    def draft_minutes(self, text: str, on: date) -> None:
        if not self.held_on:
            raise DomainError("meeting-not-held", "minutes are written of a meeting held")
        if self.minutes_approved:
            raise Conflict(
                "minutes-approved", "approved minutes are never edited: amend them instead"
            )
        self._draft(self.group_id, on.isoformat(), text)

    @event(MinutesDrafted)
    def _draft(self, group_id: UUID, on: str, text: str) -> None:
        self.minutes = text
        self.minutes_drafted_on = on

    def approve_minutes(self, on: date, at: Meeting) -> None:
        if self.minutes_approved:
            raise Conflict("minutes-approved", "the minutes are approved already")
        if self.minutes is None:
            raise DomainError("minutes-not-drafted", "there are no minutes to approve")
        self._check_approving(at)
        self._approve(self.group_id, on.isoformat(), str(at.id))

    def _check_approving(self, at: Meeting) -> None:
        """Minutes are approved at a later meeting of the same group, held with quorum."""
        if at.group_id != self.group_id or at.id == self.id:
            raise DomainError(
                "not-a-later-meeting", "minutes are approved at a later meeting of the group",
                field="at_meeting",
            )  # fmt: skip
        assert self.held_on is not None
        if not at.held_on or at.held_on <= self.held_on:
            raise DomainError(
                "not-a-later-meeting", "the approving meeting must be held after this one",
                field="at_meeting",
            )  # fmt: skip
        if not at.quorum_reached:
            raise DomainError("no-quorum", "the approving meeting had no quorum")

    @event(MinutesApproved)
    def _approve(self, group_id: UUID, on: str, approved_at_meeting: str) -> None:
        self.minutes_approved = {"on": on, "at_meeting": approved_at_meeting}

    def amend(self, amendment: str, on: date, at: Meeting) -> None:
        if not self.minutes_approved:
            raise DomainError("minutes-not-approved", "draft minutes are corrected, not amended")
        self._check_approving(at)
        self._amend(self.group_id, on.isoformat(), amendment, str(at.id))

    @event(MinutesAmended)
    def _amend(self, group_id: UUID, on: str, amendment: str, approved_at_meeting: str) -> None:
        self.amendments.append(
            {"on": on, "amendment": amendment, "at_meeting": approved_at_meeting}
        )

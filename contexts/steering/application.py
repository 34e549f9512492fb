"""Commands of the steering context, one tenant (the group's) at a time.

Each command loads what it changes plus what its rule needs (the group for membership and
the rules of procedure, the meeting for attendance and quorum; bounded by one group, never
by the tenant's history; the one exception, the evaluation's figure, is counted by the
edge's counter from one case management log, once) and ends in one save. Texts that go
to the group carry no personal data (``personal-data-in-text``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Recording

from contexts.shared.application import TenantApplication
from contexts.shared.errors import DomainError
from contexts.shared.personal_data import check_no_personal_data
from contexts.steering.group import SteeringGroup, new_group
from contexts.steering.indicator import CaseFigure
from contexts.steering.meeting import ItemSource, Meeting
from contexts.steering.resolution import Resolution
from contexts.steering.rules import RulesOfProcedure, Vote
from contexts.steering.working_group import Submission, WorkingGroup, submission_id

Recordings = list[Recording[UUID]]


def text(value: str, field: str, limit: int = 10_000) -> str:
    cleaned = " ".join(value.split()) if limit <= 2000 else value.strip()
    if not cleaned or len(cleaned) > limit:
        raise DomainError("text-required", f"{field} needs 1 to {limit} characters", field=field)
    return check_no_personal_data(cleaned, field)


class SteeringApplication(TenantApplication):
    context = "steering"

    def __init__(
        self,
        tenant: str,
        recorder_factory: Callable[[str, str], ApplicationRecorder],
        peer: Callable[[str], SteeringApplication] | None = None,
    ) -> None:
        super().__init__(tenant, recorder_factory)
        self.peer = peer or (lambda t: self)

    # -- loading ----------------------------------------------------------------------------
    def group(self, group_id: UUID) -> SteeringGroup:
        return self.load(SteeringGroup, group_id, "steering group")

    def meeting(self, meeting_id: UUID, expected_version: int | None = None) -> Meeting:
        return self.load_expecting(Meeting, meeting_id, "meeting", expected_version)

    def resolution(self, resolution_id: UUID, expected_version: int | None = None) -> Resolution:
        return self.load_expecting(Resolution, resolution_id, "resolution", expected_version)

    def working_group(self, wg_id: UUID, expected_version: int | None = None) -> WorkingGroup:
        return self.load_expecting(WorkingGroup, wg_id, "working group", expected_version)

    def submission(self, sub_id: UUID) -> Submission:
        return self.load(Submission, sub_id, "submission")

    # -- the group ---------------------------------------------------------------------------
    def found_group(self, *, name: str, founded_on: date, rules: RulesOfProcedure) -> Recordings:
        return self.save(new_group(text(name, "name", 200), founded_on, rules))

    def add_member(
        self, group_id: UUID, *, expected_version: int | None = None, **member: Any
    ) -> Recordings:
        group = self.load_expecting(SteeringGroup, group_id, "steering group", expected_version)
        member["institution"] = text(member["institution"], "institution", 200)
        member["role"] = text(member["role"], "role", 200)
        group.join(**member)
        return self.save(group)

    def member_leaves(
        self, group_id: UUID, member_id: str, on: date, expected_version: int | None = None
    ) -> Recordings:
        group = self.load_expecting(SteeringGroup, group_id, "steering group", expected_version)
        group.leave(member_id, on)
        return self.save(group)

    # -- meetings ----------------------------------------------------------------------------
    def schedule_meeting(self, group_id: UUID, *, title: str, scheduled_for: date) -> Recordings:
        group = self.group(group_id)
        return self.save(
            Meeting(
                group_id=group.id,
                title=text(title, "title", 200),
                scheduled_for=scheduled_for.isoformat(),
            )
        )

    def add_item(
        self, meeting_id: UUID, *, title: str, expected_version: int | None = None
    ) -> Recordings:
        """An item a member asked for (Antrag eines Mitglieds)."""
        meeting = self.meeting(meeting_id, expected_version)
        meeting.add_item(title=text(title, "title", 500), source=ItemSource.MEMBER)
        return self.save(meeting)

    def add_submitted_item(
        self, meeting_id: UUID, *, from_tenant: str, submission: UUID,
        expected_version: int | None = None,
    ) -> Recordings:  # fmt: skip
        """A submission of the coordination post of this tenant, or of a member tenant."""
        meeting = self.meeting(meeting_id, expected_version)
        group = self.group(meeting.group_id)
        if from_tenant != self.tenant and from_tenant not in group.member_tenants():
            raise DomainError(
                "submission-not-for-group",
                f"the group takes submissions of {self.tenant} and of its member tenants,"
                f" not of {from_tenant}",
                field="from_tenant",
            )
        found = self.peer(from_tenant).submission(submission)
        meeting.add_item(
            title=found.summary, source=ItemSource.COORDINATION, topic_tenant=from_tenant,
            topic_id=found.topic_id, submission=f"{from_tenant}:{found.id}",
        )  # fmt: skip
        return self.save(meeting)

    def carry_over(
        self, meeting_id: UUID, *, from_meeting: UUID, item: int,
        expected_version: int | None = None,
    ) -> Recordings:  # fmt: skip
        """An item of an earlier meeting of the group, carried over (vertagt)."""
        meeting, earlier = self.meeting(meeting_id, expected_version), self.meeting(from_meeting)
        if earlier.group_id != meeting.group_id or earlier.id == meeting.id:
            raise DomainError("not-an-earlier-meeting", "carried over from another meeting of"
                              " the group", field="from_meeting")  # fmt: skip
        old = earlier.item(item)
        meeting.add_item(
            title=str(old["title"]), source=ItemSource.CARRIED_OVER,
            carried_from={"meeting_id": str(earlier.id), "item": item},
            topic_tenant=old["topic_tenant"], topic_id=old["topic_id"],
        )  # fmt: skip
        return self.save(meeting)

    def send_invitation(
        self, meeting_id: UUID, *, sent_on: date, expected_version: int | None = None
    ) -> Recordings:
        meeting = self.meeting(meeting_id, expected_version)
        rules = self.group(meeting.group_id).rules_of_procedure
        meeting.invite(sent_on, rules.invitation_days)
        return self.save(meeting)

    def hold_meeting(
        self, meeting_id: UUID, *, held_on: date, present: list[str],
        expected_version: int | None = None,
    ) -> Recordings:  # fmt: skip
        meeting = self.meeting(meeting_id, expected_version)
        group = self.group(meeting.group_id)
        attending = [group.member(m) for m in dict.fromkeys(present)]
        absent = [m.member_id for m in attending if not m.active_on(held_on)]
        if absent:
            raise DomainError("not-a-member", "not a member on that day", field="present",
                              members=absent)  # fmt: skip
        voting = len(group.voting_members(held_on))
        present_voting = sum(1 for m in attending if m.voting)
        quorum = group.rules_of_procedure.quorum_reached(voting, present_voting)
        meeting.hold(held_on, [m.member_id for m in attending], voting, present_voting,
                     len(attending) - present_voting, quorum)  # fmt: skip
        return self.save(meeting)

    def draft_minutes(
        self, meeting_id: UUID, *, minutes: str, on: date, expected_version: int | None = None
    ) -> Recordings:
        meeting = self.meeting(meeting_id, expected_version)
        meeting.draft_minutes(text(minutes, "minutes"), on)
        return self.save(meeting)

    def approve_minutes(
        self, meeting_id: UUID, *, at_meeting: UUID, on: date, expected_version: int | None = None
    ) -> Recordings:
        meeting = self.meeting(meeting_id, expected_version)
        meeting.approve_minutes(on, self.meeting(at_meeting))
        return self.save(meeting)

    def amend_minutes(
        self, meeting_id: UUID, *, amendment: str, at_meeting: UUID, on: date,
        expected_version: int | None = None,
    ) -> Recordings:  # fmt: skip
        meeting = self.meeting(meeting_id, expected_version)
        meeting.amend(text(amendment, "amendment"), on, self.meeting(at_meeting))
        return self.save(meeting)

    # -- resolutions -------------------------------------------------------------------------
    def propose_resolution(self, meeting_id: UUID, *, item: int, title: str) -> Recordings:
        meeting = self.meeting(meeting_id)
        if not meeting.held_on:
            raise DomainError("meeting-not-held", "resolutions are voted at a meeting held")
        found = meeting.item(item)
        return self.save(
            Resolution(
                group_id=meeting.group_id,
                meeting_id=meeting.id,
                item=item,
                title=text(title, "title", 500),
                topic_tenant=found["topic_tenant"],
                topic_id=found["topic_id"],
            )
        )

    def cast_vote(
        self, resolution_id: UUID, *, member_id: str, vote: Vote,
        expected_version: int | None = None,
    ) -> Recordings:  # fmt: skip
        """One vote of a voting member present at the meeting with quorum."""
        resolution = self.resolution(resolution_id, expected_version)
        meeting = self.meeting(resolution.meeting_id)
        member = self.group(resolution.group_id).member(member_id)
        if not member.voting:
            raise DomainError("advisory-member", "an advisory member has no vote",
                              field="member_id")  # fmt: skip
        if member_id not in meeting.present:
            raise DomainError("member-absent", "only members present vote", field="member_id")
        if not meeting.quorum_reached:
            raise DomainError("no-quorum", "the meeting had no quorum: no vote is taken")
        resolution.cast(member_id, vote)
        return self.save(resolution)

    def close_vote(
        self, resolution_id: UUID, *, on: date, expected_version: int | None = None
    ) -> Recordings:
        resolution = self.resolution(resolution_id, expected_version)
        meeting = self.meeting(resolution.meeting_id)
        if not meeting.quorum_reached:
            raise DomainError("no-quorum", "the meeting had no quorum: no vote is taken")
        rules = self.group(resolution.group_id).rules_of_procedure
        assert meeting.attendance is not None
        resolution.close(on, rules, int(meeting.attendance["present_voting"]))
        return self.save(resolution)

    def assign_task(
        self, resolution_id: UUID, *, title: str, owner_institution: str, due_on: date
    ) -> Recordings:
        resolution = self.resolution(resolution_id)
        resolution.assign_task(text(title, "title", 500), text(owner_institution,
                               "owner_institution", 200), due_on)  # fmt: skip
        return self.save(resolution)

    def complete_task(self, resolution_id: UUID, *, task: int, on: date) -> Recordings:
        resolution = self.resolution(resolution_id)
        resolution.complete_task(task, on)
        return self.save(resolution)

    def change_status(
        self, resolution_id: UUID, *, to: str, on: date, expected_version: int | None = None,
        evaluation: dict[str, Any] | None = None,
        figure: Callable[[str], CaseFigure] | None = None, today: date | None = None,
    ) -> Recordings:  # fmt: skip
        """``evaluated`` takes its indicator from case management's figures: ``figure``
        counts them (the edge's counter) in the log of the topic's tenant, else the group's,
        once the resolution is implemented. The fallback: ``evaluation`` as typed in."""
        resolution = self.resolution(resolution_id, expected_version)
        if to == "in_implementation":
            resolution.start_implementation(on)
        elif to == "implemented":
            resolution.finish_implementation(on)
        elif to == "evaluated" and figure is not None:
            resolution.implemented_only()
            counted = figure(resolution.topic_tenant or self.tenant)
            counted.check(on, today or date.today())
            readjust = bool((evaluation or {}).get("readjust", False))
            resolution.evaluate(on, counted.name, str(counted.before.count),
                                str(counted.after.count), counted.source(), readjust)  # fmt: skip
        elif to == "evaluated":
            if evaluation is None or evaluation.get("indicator") is None:
                raise DomainError("indicator-required", "an evaluation states its indicator",
                                  field="evaluation")  # fmt: skip
            resolution.evaluate(
                on, text(evaluation["indicator"], "indicator", 500), str(evaluation["before"]),
                str(evaluation["after"]), text(evaluation["source"], "source", 2000),
                bool(evaluation["readjust"]),
            )  # fmt: skip
        else:
            raise DomainError("status-not-allowed", f"no status {to}", field="status")
        return self.save(resolution)

    # -- working groups ----------------------------------------------------------------------
    def mandate_working_group(
        self, resolution_id: UUID, *, name: str, mandate: str, on: date,
        members: list[tuple[str, str]],
    ) -> Recordings:  # fmt: skip
        resolution = self.resolution(resolution_id)
        if resolution.status in ("open", "rejected"):
            raise DomainError("resolution-not-passed", "a working group is mandated by a"
                              " resolution passed", field="resolution_id")  # fmt: skip
        group = WorkingGroup(group_id=resolution.group_id, resolution_id=str(resolution.id),
                             name=text(name, "name", 200), mandate=text(mandate, "mandate"),
                             on=on.isoformat())  # fmt: skip
        for institution, role in members:
            group.join(text(institution, "institution", 200), text(role, "role", 200))
        return self.save(group)

    def give_timelines(
        self, wg_id: UUID, *, timelines: list[dict[str, Any]], chosen_by: str, on: date
    ) -> Recordings:
        group = self.working_group(wg_id)
        group.give(timelines, chosen_by, on.isoformat())
        return self.save(group)

    def report_back(self, wg_id: UUID, *, meeting_id: UUID, summary: str, on: date) -> Recordings:
        """The working group's results, as an agenda item of a meeting of its group."""
        group, meeting = self.working_group(wg_id), self.meeting(meeting_id)
        if meeting.group_id != group.group_id:
            raise DomainError("not-the-group", "the meeting is of another steering group",
                              field="meeting_id")  # fmt: skip
        summary = text(summary, "summary")
        item = meeting.add_item(title=f"Bericht der Arbeitsgruppe {group.name}",
                                source=ItemSource.WORKING_GROUP)  # fmt: skip
        group.report(group.group_id, str(meeting.id), item, summary, on.isoformat())
        return self.save(meeting, group)

    # -- from coordination -------------------------------------------------------------------
    def receive_submission(
        self, *, topic_id: str, summary: str, on: date, event_id: str
    ) -> Recordings:
        """A topic this tenant's post submitted (idempotent by coordination's event)."""
        try:
            self.submission(submission_id(self.tenant, event_id))
            return []
        except DomainError:
            pass
        try:
            return self.save(
                Submission(
                    topic_id=topic_id,
                    summary=summary,
                    submitted_on=on.isoformat(),
                    source_event_id=event_id,
                    tenant=self.tenant,
                )
            )
        except IntegrityError:
            return []

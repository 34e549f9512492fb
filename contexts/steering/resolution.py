"""A recommending resolution (Beschlussempfehlung): voted at a meeting by the voting members
present (one vote each), then follow-up tasks, implementation and evaluation with an
indicator. Every event names the coordination topic it came from (or None)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contexts.shared.errors import Conflict, DomainError
from contexts.steering.rules import RulesOfProcedure, Vote

STATUSES = ("open", "passed", "rejected", "in_implementation", "implemented", "evaluated")


class Resolution(Aggregate):
    class Proposed(Aggregate.Created):
        group_id: UUID
        meeting_id: UUID
        item: int
        title: str
        topic_tenant: str | None
        topic_id: str | None

    class VoteCast(Aggregate.Event):
        member_id: str
        vote: str

    class Passed(Aggregate.Event):
        group_id: UUID
        meeting_id: str
        item: int
        title: str
        votes_for: int
        votes_against: int
        abstentions: int
        on: str
        topic_tenant: str | None
        topic_id: str | None

    class Rejected(Passed):
        pass

    class TaskAssigned(Aggregate.Event):
        group_id: UUID
        task: int
        title: str
        owner_institution: str
        due_on: str
        topic_tenant: str | None
        topic_id: str | None

    class TaskDone(Aggregate.Event):
        group_id: UUID
        task: int
        title: str
        owner_institution: str
        on: str
        topic_tenant: str | None
        topic_id: str | None

    class ImplementationStarted(Aggregate.Event):
        group_id: UUID
        on: str
        topic_tenant: str | None
        topic_id: str | None

    class Implemented(ImplementationStarted):
        pass

    class Evaluated(Aggregate.Event):
        group_id: UUID
        on: str
        indicator: str
        before: str
        after: str
        source: str
        readjust: bool
        topic_tenant: str | None
        topic_id: str | None

    @event(Proposed)
    def __init__(
        self,
        group_id: UUID,
        meeting_id: UUID,
        item: int,
        title: str,
        topic_tenant: str | None,
        topic_id: str | None,
    ) -> None:
        self.group_id = group_id
        self.meeting_id = meeting_id
        self.item = item
        self.title = title
        self.topic_tenant = topic_tenant
        self.topic_id = topic_id
        self.votes: dict[str, str] = {}
        self.status = "open"
        self.result: dict[str, Any] | None = None
        self.tasks: list[dict[str, Any]] = []
        self.evaluation: dict[str, Any] | None = None
        self.history: list[tuple[str, str]] = []

    def _topic(self) -> dict[str, str | None]:
        return {"topic_tenant": self.topic_tenant, "topic_id": self.topic_id}

    def cast(self, member_id: str, vote: Vote) -> None:
        if self.status != "open":
            raise Conflict("voting-closed", f"the resolution is {self.status}: voting closed")
        if member_id in self.votes:
            raise Conflict("already-voted", "every voting member has one vote", member_id=member_id)
        self._cast(member_id, Vote(vote).value)

    @event(VoteCast)
    def _cast(self, member_id: str, vote: str) -> None:
        self.votes[member_id] = vote

    def close(self, on: date, rules: RulesOfProcedure, present_voting: int) -> bool:
        if self.status != "open":
            raise Conflict("voting-closed", f"the resolution is {self.status} already")
        if not self.votes:
            raise DomainError("no-votes", "no vote was cast")
        counts = {v: sum(1 for x in self.votes.values() if x == v) for v in Vote}
        passed = rules.passes(counts[Vote.FOR], counts[Vote.AGAINST], counts[Vote.ABSTAIN],
                              present_voting)  # fmt: skip
        args = (
            self.group_id, str(self.meeting_id), self.item, self.title, counts[Vote.FOR],
            counts[Vote.AGAINST], counts[Vote.ABSTAIN], on.isoformat(), self.topic_tenant,
            self.topic_id,
        )  # fmt: skip
        if passed:
            self._passed(*args)
        else:
            self._rejected(*args)
        return passed

    def _result(self, status: str, votes_for: int, against: int, abstentions: int, on: str) -> None:
        self.status = status
        self.result = {"for": votes_for, "against": against, "abstain": abstentions, "on": on}
        self.history.append((status, on))

    @event(Passed)
    def _passed(
        self, group_id: UUID, meeting_id: str, item: int, title: str, votes_for: int,
        votes_against: int, abstentions: int, on: str, topic_tenant: str | None,
        topic_id: str | None,
    ) -> None:  # fmt: skip
        self._result("passed", votes_for, votes_against, abstentions, on)

    @event(Rejected)
    def _rejected(
        self, group_id: UUID, meeting_id: str, item: int, title: str, votes_for: int,
        votes_against: int, abstentions: int, on: str, topic_tenant: str | None,
        topic_id: str | None,
    ) -> None:  # fmt: skip
        self._result("rejected", votes_for, votes_against, abstentions, on)

    def _passed_only(self) -> None:
        if self.status in ("open", "rejected"):
            raise DomainError(
                "resolution-not-passed", f"the resolution is {self.status}, not passed"
            )

    def assign_task(self, title: str, owner_institution: str, due_on: date) -> int:
        self._passed_only()
        if self.status == "evaluated":
            raise Conflict("resolution-evaluated", "the resolution was evaluated")
        number = len(self.tasks) + 1
        self._assign(self.group_id, number, title, owner_institution, due_on.isoformat(),
                     self.topic_tenant, self.topic_id)  # fmt: skip
        return number

    @event(TaskAssigned)
    def _assign(
        self, group_id: UUID, task: int, title: str, owner_institution: str, due_on: str,
        topic_tenant: str | None, topic_id: str | None,
    ) -> None:  # fmt: skip
        self.tasks.append(
            {"task": task, "title": title, "owner_institution": owner_institution,
             "due_on": due_on, "done_on": None}
        )  # fmt: skip

    def complete_task(self, task: int, on: date) -> None:
        if not 1 <= task <= len(self.tasks):
            raise DomainError("no-such-task", f"the resolution has no task {task}", field="task")
        if self.tasks[task - 1]["done_on"]:
            raise Conflict("task-done", f"task {task} is done already")
        found = self.tasks[task - 1]
        self._done(self.group_id, task, found["title"], found["owner_institution"],
                   on.isoformat(), self.topic_tenant, self.topic_id)  # fmt: skip

    @event(TaskDone)
    def _done(
        self, group_id: UUID, task: int, title: str, owner_institution: str, on: str,
        topic_tenant: str | None, topic_id: str | None,
    ) -> None:  # fmt: skip
        self.tasks[task - 1]["done_on"] = on

    def _not_before_last_step(self, on: date) -> None:
        """A status step is dated on or after the step before it (passed, implementation
        begun, implemented): an evaluation cannot precede what it evaluates."""
        if self.history and on.isoformat() < self.history[-1][1]:
            raise DomainError("date-before-last-step", f"the resolution was {self.history[-1][0]}"
                              f" on {self.history[-1][1]}", field="on")  # fmt: skip

    def start_implementation(self, on: date) -> None:
        self._passed_only()
        if self.status != "passed":
            raise Conflict("status-not-allowed", f"the resolution is {self.status} already")
        self._not_before_last_step(on)
        if not self.tasks:
            raise DomainError(
                "no-follow-up-task", "implementation starts with follow-up tasks: assign one"
            )
        self._started(self.group_id, on.isoformat(), self.topic_tenant, self.topic_id)

    @event(ImplementationStarted)
    def _started(
        self, group_id: UUID, on: str, topic_tenant: str | None, topic_id: str | None
    ) -> None:
        self.status = "in_implementation"
        self.history.append((self.status, on))

    def finish_implementation(self, on: date) -> None:
        if self.status != "in_implementation":
            raise Conflict("status-not-allowed", f"the resolution is {self.status}")
        open_tasks = [t["task"] for t in self.tasks if not t["done_on"]]
        if open_tasks:
            raise DomainError("tasks-open", "tasks are open", open_tasks=open_tasks)
        self._not_before_last_step(on)
        self._implemented(self.group_id, on.isoformat(), self.topic_tenant, self.topic_id)

    @event(Implemented)
    def _implemented(
        self, group_id: UUID, on: str, topic_tenant: str | None, topic_id: str | None
    ) -> None:
        self.status = "implemented"
        self.history.append((self.status, on))

    def implemented_only(self) -> None:
        if self.status != "implemented":
            raise DomainError(
                "not-implemented", f"a resolution is evaluated once implemented, not {self.status}"
            )

    def evaluate(
        self, on: date, indicator: str, before: str, after: str, source: str, readjust: bool
    ) -> None:
        self.implemented_only()
        self._not_before_last_step(on)
        self._evaluated(self.group_id, on.isoformat(), indicator, before, after, source, readjust,
                        self.topic_tenant, self.topic_id)  # fmt: skip

    @event(Evaluated)
    def _evaluated(
        self, group_id: UUID, on: str, indicator: str, before: str, after: str, source: str,
        readjust: bool, topic_tenant: str | None, topic_id: str | None,
    ) -> None:  # fmt: skip
        self.status = "evaluated"
        self.evaluation = {"indicator": indicator, "before": before, "after": after,
                           "source": source, "readjust": readjust, "on": on}  # fmt: skip
        self.history.append((self.status, on))

"""The rules of procedure are data per group: quorum and majority decide with the counts the
group's own rules name; and the back-flow to coordination moves a topic once per decision.
(Application tests on the in-memory store.)"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest
from eventsourcing.persistence import Recording

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.gaps import CycleStep, LifeDimension
from contexts.steering.application import SteeringApplication
from contexts.steering.rules import Majority, Quorum, RulesOfProcedure, Vote
from contexts.steering.working_group import submission_id
from runtime.eventstore.memory import MemoryEventLogStore
from services.coordination.consumers import SteeringDecisions


@pytest.mark.parametrize(
    ("quorum", "members", "present", "reached"),
    [
        (Quorum.MORE_THAN_HALF, 10, 5, False),
        (Quorum.MORE_THAN_HALF, 10, 6, True),
        (Quorum.AT_LEAST_HALF, 10, 5, True),
        (Quorum.TWO_THIRDS, 9, 5, False),
        (Quorum.TWO_THIRDS, 9, 6, True),
        (Quorum.MORE_THAN_HALF, 0, 0, False),
    ],
)
def test_the_quorum_is_the_groups_own(quorum: Quorum, members: int, present: int,
                                      reached: bool) -> None:  # fmt: skip
    assert RulesOfProcedure(quorum=quorum).quorum_reached(members, present) is reached


@pytest.mark.parametrize(
    ("majority", "abstentions_count", "votes", "present", "passed"),
    [
        (Majority.SIMPLE, False, (3, 2, 5), 10, True),  # abstentions not counted
        (Majority.SIMPLE, True, (3, 2, 5), 10, False),  # counted: 3 of 10 cast
        (Majority.SIMPLE, False, (2, 2, 0), 4, False),  # a tie fails
        (Majority.ABSOLUTE, False, (5, 0, 5), 10, False),  # half of those present is not more
        (Majority.ABSOLUTE, False, (6, 0, 4), 10, True),
        (Majority.TWO_THIRDS, False, (4, 2, 0), 6, True),
        (Majority.TWO_THIRDS, False, (3, 2, 0), 5, False),
    ],
)
def test_the_majority_is_the_groups_own(
    majority: Majority, abstentions_count: bool, votes: tuple[int, int, int], present: int,
    passed: bool,
) -> None:  # fmt: skip
    rules = RulesOfProcedure(majority=majority, abstentions_count=abstentions_count)
    assert rules.passes(*votes, present) is passed


def _oid(recordings: list[Recording[UUID]]) -> UUID:
    return UUID(str(recordings[0].notification.originator_id))


def test_a_decision_moves_the_topic_once_however_often_it_is_delivered() -> None:
    store = MemoryEventLogStore()
    coordination = CoordinationApplication("rheine", store.recorder)
    rheine = SteeringApplication("rheine", store.recorder)
    steering = SteeringApplication("kreis-steinfurt", store.recorder, lambda tenant: rheine)
    topic = _oid(
        coordination.open_topic(title="Kita-Plätze", life_dimension=LifeDimension.EDUCATION)
    )
    coordination.advance_topic(topic, step=CycleStep.ANALYSIS, on=date(2022, 1, 1))
    group = _oid(steering.found_group(name="LG", founded_on=date(2021, 1, 1),
                                      rules=RulesOfProcedure(invitation_days=0)))  # fmt: skip
    steering.add_member(
        group, institution="Stadt Rheine", member_tenant="rheine", role="Koordination",
        voting=True, permanent=True, valid_from=date(2021, 1, 1), valid_until=None,
        subject="s-1", position_id=None,
    )  # fmt: skip
    member_id = next(iter(steering.group(group).members))
    meeting = _oid(steering.schedule_meeting(group, title="S", scheduled_for=date(2022, 2, 1)))
    rheine.receive_submission(topic_id=str(topic), summary="Kita", on=date(2022, 1, 5),
                              event_id="e-1")  # fmt: skip
    steering.add_submitted_item(meeting, from_tenant="rheine",
                                submission=submission_id("rheine", "e-1"))  # fmt: skip
    steering.send_invitation(meeting, sent_on=date(2022, 1, 20))
    steering.hold_meeting(meeting, held_on=date(2022, 2, 1), present=[member_id])
    resolution = _oid(steering.propose_resolution(meeting, item=1, title="Vorrang"))
    steering.cast_vote(resolution, member_id=member_id, vote=Vote.FOR)
    steering.close_vote(resolution, on=date(2022, 2, 1))
    steering.assign_task(resolution, title="Regel", owner_institution="Jugendamt",
                         due_on=date(2022, 6, 1))  # fmt: skip
    steering.change_status(resolution, to="in_implementation", on=date(2022, 3, 1))

    decisions = SteeringDecisions(store, lambda tenant: coordination)
    records = list(store.read_log("kreis-steinfurt", "steering"))
    for _ in range(2):  # delivered twice
        for record in records:
            decisions.handle(record)
    found = coordination.get_topic(topic)
    assert found.step == CycleStep.IMPLEMENTATION
    assert [h[0] for h in found.history] == ["analysis", "planning_and_steering", "implementation"]
    assert [(link["actor"], link["action"]) for link in found.chain] == [("Jugendamt", "Regel")]

    # Evaluated with a readjustment asked for: the topic goes on to evaluation and then
    # readjustment (Nachsteuerung), once however often the events come.
    steering.complete_task(resolution, task=1, on=date(2022, 5, 1))
    steering.change_status(resolution, to="implemented", on=date(2022, 6, 1))
    steering.change_status(resolution, to="evaluated", on=date(2023, 6, 1), evaluation={
        "indicator": "Kita-Plätze vermittelt", "before": "4", "after": "5",
        "source": "caseFigures Bildung 2022 und 2023", "readjust": True,
    })  # fmt: skip
    later = list(store.read_log("kreis-steinfurt", "steering"))[len(records) :]
    for _ in range(2):
        for record in later:
            decisions.handle(record)
    found = coordination.get_topic(topic)
    assert found.step == CycleStep.READJUSTMENT
    assert [h[0] for h in found.history][-2:] == ["evaluation", "readjustment"]
    assert found.chain[0]["done"] == "2022-05-01"

"""The case cycle: every allowed step, every forbidden one refused, replay from the log."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from contexts.case_management.domain import ALLOWED, Case, CaseState, ClosureReason
from contexts.shared.application import TenantApplication
from contexts.shared.errors import DomainError
from runtime.eventstore.base import EventLogStore


class Cases(TenantApplication):
    context = "case_management"


def new_case() -> Case:
    return Case(
        person_id=uuid4(), referral_source="immigration_office", opened_on="2021-10-01",
        catch_up_reason=None,
    )  # fmt: skip


def test_a_case_goes_through_the_whole_cycle_with_a_reassessment_loop(
    store: EventLogStore,
) -> None:
    case = new_case()
    case.assess({"language": "high", "work_and_livelihood": "medium"}, date(2021, 10, 8))
    case.agree_goals({"language": "b1-course"}, date(2021, 10, 15))
    case.start_linking(date(2021, 10, 16))
    case.start_monitoring(date(2021, 11, 1))
    case.start_reassessment(date(2022, 3, 1))
    case.agree_goals(
        {"language": "b2-course", "work_and_livelihood": "apprenticeship"}, date(2022, 3, 5)
    )
    case.start_linking(date(2022, 3, 6))
    case.start_monitoring(date(2022, 4, 1))
    case.close(ClosureReason.GOALS_REACHED, date(2022, 12, 15))
    app = Cases("rheine", store.recorder)
    app.save(case)
    replayed: Case = Cases("rheine", store.recorder).repository.get(case.id)
    assert replayed.state == CaseState.CLOSED
    assert [s for s, _ in replayed.history] == [
        "intake", "assessment", "goal_agreement", "linking", "monitoring", "reassessment",
        "goal_agreement", "linking", "monitoring", "closed",
    ]  # fmt: skip
    assert replayed.goals == {"language": "b2-course", "work_and_livelihood": "apprenticeship"}
    assert replayed.closure == (ClosureReason.GOALS_REACHED, date(2022, 12, 15))


FORBIDDEN = [
    (state, target)
    for state in CaseState
    for target in CaseState
    if target not in ALLOWED[state] and target != CaseState.INTAKE
]


def drive_to(case: Case, state: CaseState) -> None:
    steps = {
        CaseState.ASSESSMENT: lambda: case.assess({"health": "low"}, date(2021, 10, 2)),
        CaseState.GOAL_AGREEMENT: lambda: case.agree_goals({"health": "gp"}, date(2021, 10, 3)),
        CaseState.LINKING: lambda: case.start_linking(date(2021, 10, 4)),
        CaseState.MONITORING: lambda: case.start_monitoring(date(2021, 10, 5)),
        CaseState.REASSESSMENT: lambda: case.start_reassessment(date(2021, 10, 6)),
        CaseState.CLOSED: lambda: case.close(ClosureReason.NO_CONTACT, date(2021, 10, 7)),
    }
    order = list(steps)
    if state == CaseState.INTAKE:
        return
    for step in order[: order.index(state) + 1]:
        steps[step]()


@pytest.mark.parametrize(("state", "target"), FORBIDDEN, ids=[f"{s}->{t}" for s, t in FORBIDDEN])
def test_a_forbidden_transition_is_refused_and_records_nothing(
    state: CaseState, target: CaseState
) -> None:
    case = new_case()
    drive_to(case, state)
    case.collect_events()  # what drive_to recorded
    moves = {
        CaseState.ASSESSMENT: lambda: case.assess({"health": "low"}, date(2021, 12, 1)),
        CaseState.GOAL_AGREEMENT: lambda: case.agree_goals({"health": "gp"}, date(2021, 12, 1)),
        CaseState.LINKING: lambda: case.start_linking(date(2021, 12, 1)),
        CaseState.MONITORING: lambda: case.start_monitoring(date(2021, 12, 1)),
        CaseState.REASSESSMENT: lambda: case.start_reassessment(date(2021, 12, 1)),
        CaseState.CLOSED: lambda: case.close(ClosureReason.NO_CONTACT, date(2021, 12, 1)),
    }
    with pytest.raises(DomainError) as refused:
        moves[target]()
    assert refused.value.rule == "transition-not-allowed"
    assert refused.value.facts["current"] == state
    assert case.collect_events() == []
    assert case.state == state


def test_goals_cannot_be_reached_before_they_are_agreed() -> None:
    case = new_case()
    case.assess({"housing": "high"}, date(2021, 10, 2))
    with pytest.raises(DomainError) as refused:
        case.close(ClosureReason.GOALS_REACHED, date(2021, 10, 3))
    assert refused.value.rule == "no-goals-to-reach"
    case.close(ClosureReason.MOVED_AWAY, date(2021, 10, 3))
    assert case.state == CaseState.CLOSED


def test_unknown_life_dimensions_and_steps_back_in_time_are_refused() -> None:
    case = new_case()
    with pytest.raises(DomainError) as unknown:
        case.assess({"astrology": "high"}, date(2021, 10, 2))
    assert unknown.value.rule == "unknown-life-dimension"
    with pytest.raises(DomainError) as earlier:
        case.assess({"health": "low"}, date(2021, 9, 30))
    assert earlier.value.rule == "date-before-last-step"
    assert case.state == CaseState.INTAKE

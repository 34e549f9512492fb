"""The caseload comes from an index written with the events, not from replaying every case."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import OPEN_CASES_OF_POSITION, ClosureReason
from contexts.case_management.settings import OverLimit
from contexts.shared.indexes import IndexBoundExceeded
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault
from tests.case_management.test_case_caseload import opened_cases
from tests.case_support import all_cases


def app_of(store: EventLogStore) -> CaseManagementApplication:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    app.configure(
        target_group_years=5,
        caseload_limit_per_fte=100,
        over_limit=OverLimit.REFUSE,
        approvals=[],
        retention_years={},
    )
    return app


def replayed_caseload(app: CaseManagementApplication, position: UUID) -> int:
    """What the index must equal: the open cases of the position, counted by replay."""
    return sum(1 for c in all_cases(app) if c.position_id == position and not c.is_closed)


def test_the_index_follows_assignment_reassignment_and_closure(store: EventLogStore) -> None:
    app = app_of(store)
    first, second = uuid4(), uuid4()
    app.note_position(first, Decimal("1"), "rheine")
    app.note_position(second, Decimal("1"), "rheine")
    cases = opened_cases(app, 5)
    for case_id in cases:
        app.assign_case(case_id, position_id=first, on=date(2021, 3, 2))
    app.assign_case(cases[0], position_id=second, on=date(2021, 3, 3))
    app.close_case(cases[1], reason=ClosureReason.MOVED_AWAY, on=date(2021, 4, 1))
    assert app.open_cases_of(first) == replayed_caseload(app, first) == 3
    assert app.open_cases_of(second) == replayed_caseload(app, second) == 1
    assert sorted(store.index_members("rheine", "case_management", OPEN_CASES_OF_POSITION,
                                      str(first))) == sorted(str(c) for c in cases[2:])  # fmt: skip


def test_reindex_rebuilds_the_entries_an_import_does_not_carry(store: EventLogStore) -> None:
    app = app_of(store)
    position = uuid4()
    app.note_position(position, Decimal("1"), "rheine")
    for case_id in opened_cases(app, 3):
        app.assign_case(case_id, position_id=position, on=date(2021, 3, 2))
    store.replace_index("rheine", "case_management", [])
    assert app.open_cases_of(position) == 0
    assert app.reindex() == 3 + 3  # each open case: its position and its person
    assert app.open_cases_of(position) == 3


def test_a_bound_refuses_inside_the_append_and_writes_nothing(store: EventLogStore) -> None:
    app = app_of(store)
    position = uuid4()
    app.note_position(position, Decimal("0.02"), "rheine")  # at most 2 open cases
    cases = opened_cases(app, 3)
    app.assign_case(cases[0], position_id=position, on=date(2021, 3, 2))
    app.assign_case(cases[1], position_id=position, on=date(2021, 3, 2))
    head = store.head("rheine", "case_management")
    third = app.get_case(cases[2])
    third.assign(position, date(2021, 3, 2))
    with pytest.raises(IndexBoundExceeded) as refused:
        app.save(third, bounds=app.caseload_bound(position, app.policy()))
    assert refused.value.bound.rule == "caseload-limit"
    assert isinstance(refused.value, IntegrityError)  # a 409 at the edge
    assert store.head("rheine", "case_management") == head
    assert app.open_cases_of(position) == 2


def test_concurrent_assignments_at_the_limit_let_exactly_one_through(
    store: EventLogStore,
) -> None:
    app = app_of(store)
    position = uuid4()
    app.note_position(position, Decimal("0.01"), "rheine")  # room for one open case
    cases = opened_cases(app, 6)
    outcomes: list[str] = []
    barrier = threading.Barrier(len(cases))

    def assign(case_id: UUID) -> None:
        barrier.wait()
        try:
            app.assign_case(case_id, position_id=position, on=date(2021, 3, 2))
            outcomes.append("assigned")
        except IntegrityError:
            outcomes.append("conflict")
        except Exception as e:  # the check before the append saw the first one committed
            outcomes.append(type(e).__name__)

    threads = [threading.Thread(target=assign, args=(c,)) for c in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("assigned") == 1, outcomes
    assert app.open_cases_of(position) == replayed_caseload(app, position) == 1


def test_index_entries_are_kept_per_tenant(store: EventLogStore) -> None:
    app = app_of(store)
    position = uuid4()
    app.note_position(position, Decimal("1"), "rheine")
    (case_id,) = opened_cases(app, 1)
    app.assign_case(case_id, position_id=position, on=date(2021, 3, 2))
    other = CaseManagementApplication("emsdetten", store.recorder, StoreVault(store))
    assert app.indexes.index_count(OPEN_CASES_OF_POSITION, str(position)) == 1
    assert other.indexes.index_count(OPEN_CASES_OF_POSITION, str(position)) == 0
    assert other.indexes.index_members(OPEN_CASES_OF_POSITION, str(position)) == []
    other.indexes.replace_index([])  # another tenant's rebuild leaves rheine's entries
    assert app.indexes.index_count(OPEN_CASES_OF_POSITION, str(position)) == 1

"""Assignment to a case-management position and the 1:100 caseload per full-time position."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import ClosureReason, ReferralSource
from contexts.case_management.people import ConsentPurpose
from contexts.case_management.settings import OverLimit
from contexts.shared.errors import DomainError
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault


def opened_cases(app: CaseManagementApplication, count: int) -> list[UUID]:
    cases = []
    for _ in range(count):
        (rec,) = app.register_person({"name": "N."}, date(2021, 1, 1))
        person_id = rec.domain_event.originator_id
        app.give_consent(
            person_id, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient="rheine",
            given_on=date(2021, 2, 1),
        )  # fmt: skip
        case, *_ = app.open_case(
            person_id, referral_source=ReferralSource.SELF_REFERRAL, opened_on=date(2021, 3, 1)
        )
        cases.append(case.domain_event.originator_id)
    return cases


def test_caseload_is_counted_per_fte_with_a_warning_above_target_and_a_limit(
    store: EventLogStore,
) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    app.configure(
        target_group_years=5,
        caseload_limit_per_fte=130,
        over_limit=OverLimit.REFUSE,
        approvals=[],
        retention_years={},
    )
    position = uuid4()
    app.note_position(position, Decimal("0.04"), "rheine")  # 4 cases are the 1:100 target
    assert app.note_position(position, Decimal("0.04"), "rheine") == []  # noted once
    cases = opened_cases(app, 6)
    for case_id in cases[:4]:
        assert app.caseload_warning(position) is None
        app.assign_case(case_id, position_id=position, on=date(2021, 3, 2))
    warning = app.caseload_warning(position)
    assert warning is not None
    assert "above the target of 100" in warning
    app.assign_case(cases[4], position_id=position, on=date(2021, 3, 2))
    assert app.caseload(position) == (5, Decimal("125.0"))
    before = store.head("rheine", "case_management")
    with pytest.raises(DomainError) as refused:
        app.assign_case(cases[5], position_id=position, on=date(2021, 3, 2))
    assert refused.value.rule == "caseload-limit"
    assert refused.value.facts["cases_per_fte"] == "150.0"
    assert store.head("rheine", "case_management") == before
    app.close_case(cases[0], reason=ClosureReason.NO_CONTACT, on=date(2021, 5, 1))
    assert app.caseload(position) == (4, Decimal("100.0"))
    app.assign_case(cases[5], position_id=position, on=date(2021, 5, 2))
    # A tenant that only warns beyond its limit.
    app.configure(
        target_group_years=5,
        caseload_limit_per_fte=120,
        over_limit=OverLimit.WARN,
        approvals=[],
        retention_years={},
    )
    (extra,) = opened_cases(app, 1)
    warning = app.caseload_warning(position)
    assert warning is not None
    assert "above the limit of 120" in warning
    app.assign_case(extra, position_id=position, on=date(2021, 5, 3))
    assert app.caseload(position) == (6, Decimal("150.0"))


def test_an_unknown_position_cannot_take_cases(store: EventLogStore) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    (case,) = opened_cases(app, 1)
    with pytest.raises(DomainError) as refused:
        app.assign_case(case, position_id=uuid4(), on=date(2021, 3, 2))
    assert refused.value.rule == "not-found"

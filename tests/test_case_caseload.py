"""Assignment to a case-management position and the 1:100 caseload per full-time position."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import ClosureReason, ReferralSource
from contexts.case_management.people import ConsentPurpose
from contexts.shared.errors import DomainError
from services.runtime.eventstore.base import EventLogStore
from services.runtime.vault import StoreVault


def opened_cases(app: CaseManagementApplication, count: int) -> list[UUID]:
    cases = []
    for _ in range(count):
        (rec,) = app.register_person({"name": "N."}, date(2021, 1, 1))
        person_id = rec.domain_event.originator_id
        app.give_consent(
            person_id, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient="rheine",
            given_on=date(2021, 2, 1),
        )  # fmt: skip
        (case,) = app.open_case(
            person_id, referral_source=ReferralSource.SELF_REFERRAL, opened_on=date(2021, 3, 1)
        )
        cases.append(case.domain_event.originator_id)
    return cases


def test_caseload_is_counted_per_fte_with_a_warning_above_target_and_a_limit(
    store: EventLogStore,
) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    app.caseload_target_per_fte = 4  # small figures, same rule as 100 and 120
    app.caseload_limit_per_fte = 6
    position = uuid4()
    app.note_position(position, Decimal("0.5"), "rheine")
    assert app.note_position(position, Decimal("0.5"), "rheine") == []  # noted once
    cases = opened_cases(app, 4)
    assert app.assign_case(cases[0], position_id=position, on=date(2021, 3, 2)) is None
    assert app.assign_case(cases[1], position_id=position, on=date(2021, 3, 2)) is None
    warning = app.assign_case(cases[2], position_id=position, on=date(2021, 3, 2))
    assert warning is not None
    assert "above the target" in warning
    assert app.caseload(position) == (3, Decimal("6.0"))
    before = store.head("rheine", "case_management")
    with pytest.raises(DomainError) as refused:
        app.assign_case(cases[3], position_id=position, on=date(2021, 3, 2))
    assert refused.value.rule == "caseload-limit"
    assert store.head("rheine", "case_management") == before
    app.close_case(cases[0], reason=ClosureReason.NO_CONTACT, on=date(2021, 5, 1))
    assert app.caseload(position) == (2, Decimal("4.0"))
    app.assign_case(cases[3], position_id=position, on=date(2021, 5, 2))


def test_an_unknown_position_cannot_take_cases(store: EventLogStore) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    (case,) = opened_cases(app, 1)
    with pytest.raises(DomainError) as refused:
        app.assign_case(case, position_id=uuid4(), on=date(2021, 3, 2))
    assert refused.value.rule == "not-found"

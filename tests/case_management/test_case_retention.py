"""Retention: personal data is due for erasure a set time after the last case closed."""

from __future__ import annotations

from datetime import date

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import ClosureReason, ReferralSource
from contexts.case_management.people import ConsentPurpose
from contexts.case_management.retention import DataType, RetentionPolicy
from contexts.case_management.settings import OverLimit
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault


def test_people_are_due_three_years_after_their_last_case_closed(store: EventLogStore) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    people = []
    for _ in range(3):
        (rec,) = app.register_person({"name": "N."}, date(2021, 1, 1))
        person_id = rec.domain_event.originator_id
        app.give_consent(
            person_id, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient="rheine",
            given_on=date(2021, 2, 1),
        )  # fmt: skip
        people.append(person_id)
    closed, reopened, still_open = people
    for person_id in people:
        rec, *_ = app.open_case(
            person_id, referral_source=ReferralSource.SELF_REFERRAL, opened_on=date(2021, 3, 1)
        )
        if person_id != still_open:
            app.close_case(
                rec.domain_event.originator_id,
                reason=ClosureReason.NO_CONTACT,
                on=date(2021, 6, 30),
            )
    second, *_ = app.open_case(
        reopened, referral_source=ReferralSource.SELF_REFERRAL, opened_on=date(2022, 1, 10)
    )
    app.close_case(
        second.domain_event.originator_id, reason=ClosureReason.MOVED_AWAY, on=date(2022, 8, 1)
    )

    assert app.due_for_erasure(date(2024, 6, 29)) == []
    assert app.due_for_erasure(date(2024, 6, 30)) == [closed]
    assert sorted(app.due_for_erasure(date(2025, 8, 1))) == sorted([closed, reopened])
    app.erase_person(closed, date(2025, 8, 1))
    assert app.due_for_erasure(date(2025, 8, 1)) == [reopened]
    assert app.due_for_erasure(date(2023, 8, 1)) == []
    app.configure(  # a tenant with a shorter period in its deletion concept
        target_group_years=5,
        caseload_limit_per_fte=120,
        over_limit=OverLimit.REFUSE,
        approvals=[],
        retention_years={"personal_data": 1, "consents": 1},
    )
    assert app.due_for_erasure(date(2023, 8, 1)) == [reopened]


def test_case_facts_are_kept_for_the_grant_accounts() -> None:
    policy = RetentionPolicy()
    assert policy.due_on(DataType.CASE_FACTS, date(2021, 1, 1)) is None
    assert policy.due_on(DataType.PERSONAL_DATA, date(2020, 2, 29)) == date(2023, 2, 28)

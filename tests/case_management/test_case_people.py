"""People in case management: minimal sealed data, consent, target group, erasure."""

from __future__ import annotations

import io
from datetime import date
from uuid import UUID

import pytest

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import ClosureReason, ReferralSource
from contexts.case_management.people import ConsentPurpose
from contexts.shared.errors import DomainError
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.jsonl import export_tenant
from runtime.vault import StoreVault

AMINA = {"name": "Amina Haddad", "date_of_birth": "1990-04-02", "languages": ["ar", "fr"]}


@pytest.fixture
def rheine(store: EventLogStore) -> CaseManagementApplication:
    return CaseManagementApplication("rheine", store.recorder, StoreVault(store))


def person(app: CaseManagementApplication, arrival: date | None = date(2020, 6, 1)) -> UUID:
    (rec,) = app.register_person(AMINA, arrival)
    person_id = rec.domain_event.originator_id
    app.give_consent(
        person_id, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient="rheine",
        given_on=date(2021, 10, 1), expires_on=date(2023, 9, 30),
    )  # fmt: skip
    return person_id


def test_personal_data_is_stored_sealed_and_read_back(
    rheine: CaseManagementApplication, store: EventLogStore
) -> None:
    person_id = person(rheine)
    assert rheine.personal_data(person_id) == {**AMINA, "arrival_on": "2020-06-01"}
    out = io.StringIO()
    export_tenant(store, "rheine", out)
    assert "Amina" not in out.getvalue()
    assert "1990-04-02" not in out.getvalue()


def test_data_beyond_the_minimum_is_refused(
    rheine: CaseManagementApplication, store: EventLogStore
) -> None:
    with pytest.raises(DomainError) as refused:
        rheine.register_person({**AMINA, "religion": "x"}, date(2020, 6, 1))
    assert refused.value.rule == "not-minimal-data"
    assert store.heads() == {}


def test_a_case_needs_consent_and_the_target_group_or_a_catch_up_reason(
    rheine: CaseManagementApplication, store: EventLogStore
) -> None:
    (rec,) = rheine.register_person(AMINA, date(2014, 3, 1))
    long_ago = rec.domain_event.originator_id
    before = store.heads()
    with pytest.raises(DomainError) as no_consent:
        rheine.open_case(
            long_ago, referral_source=ReferralSource.JOB_CENTRE, opened_on=date(2021, 10, 5)
        )
    assert no_consent.value.rule == "consent-missing"
    rheine.give_consent(
        long_ago,
        purpose=ConsentPurpose.CASE_MANAGEMENT,
        recipient="rheine",
        given_on=date(2021, 10, 1),
    )
    with pytest.raises(DomainError) as outside:
        rheine.open_case(
            long_ago, referral_source=ReferralSource.JOB_CENTRE, opened_on=date(2021, 10, 5)
        )
    assert outside.value.rule == "outside-target-group"
    assert store.head("rheine", "case_management") == before[("rheine", "case_management")] + 1
    rheine.open_case(
        long_ago, referral_source=ReferralSource.JOB_CENTRE, opened_on=date(2021, 10, 5),
        catch_up_reason="Nachholende Integration: Sprachstand A1 nach 7 Jahren",
    )  # fmt: skip


def test_a_revoked_or_expired_consent_no_longer_counts(rheine: CaseManagementApplication) -> None:
    person_id = person(rheine)
    p = rheine.get_person(person_id)
    assert p.consents_to(ConsentPurpose.CASE_MANAGEMENT, "rheine", date(2023, 9, 30))
    assert not p.consents_to(ConsentPurpose.CASE_MANAGEMENT, "rheine", date(2023, 10, 1))
    rheine.revoke_consent(
        person_id,
        purpose=ConsentPurpose.CASE_MANAGEMENT,
        recipient="rheine",
        revoked_on=date(2022, 1, 1),
    )
    with pytest.raises(DomainError) as refused:
        rheine.open_case(
            person_id, referral_source=ReferralSource.SELF_REFERRAL, opened_on=date(2022, 2, 1)
        )
    assert refused.value.rule == "consent-missing"


def test_erasing_a_person_shreds_the_data_and_keeps_the_case_facts(
    rheine: CaseManagementApplication, store: EventLogStore
) -> None:
    person_id = person(rheine)
    case_rec, *_ = rheine.open_case(
        person_id, referral_source=ReferralSource.IMMIGRATION_OFFICE, opened_on=date(2021, 10, 5)
    )
    case_id = case_rec.domain_event.originator_id
    rheine.close_case(case_id, reason=ClosureReason.MOVED_AWAY, on=date(2022, 5, 1))
    rheine.erase_person(person_id, date(2025, 5, 1))
    fresh = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    assert fresh.personal_data(person_id) is None
    assert fresh.get_person(person_id).erased_on == date(2025, 5, 1)
    case = fresh.get_case(case_id)
    assert case.referral_source == ReferralSource.IMMIGRATION_OFFICE
    assert case.closure == (ClosureReason.MOVED_AWAY, date(2022, 5, 1))
    with pytest.raises(DomainError) as refused:
        fresh.open_case(person_id, referral_source=ReferralSource.OTHER, opened_on=date(2025, 6, 1))
    assert refused.value.rule == "person-erased"

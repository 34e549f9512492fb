"""Referrals need consent; referral-only for legal areas; no double counselling or funding."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import ReferralSource, Service
from contexts.case_management.people import ConsentPurpose, Programme
from contexts.shared.errors import DomainError
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault


@pytest.fixture
def rheine(store: EventLogStore) -> CaseManagementApplication:
    return CaseManagementApplication("rheine", store.recorder, StoreVault(store))


def consenting_person(app: CaseManagementApplication) -> UUID:
    (rec,) = app.register_person({"name": "Yusuf K."}, date(2021, 2, 1))
    person_id = rec.domain_event.originator_id
    app.give_consent(
        person_id, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient="rheine",
        given_on=date(2021, 10, 1),
    )  # fmt: skip
    return person_id


def case_in_linking(app: CaseManagementApplication, person_id: UUID) -> UUID:
    rec, *_ = app.open_case(
        person_id, referral_source=ReferralSource.SELF_REFERRAL, opened_on=date(2021, 10, 4)
    )
    case_id = rec.domain_event.originator_id
    case = app.get_case(case_id)
    case.assess({"language": "high"}, date(2021, 10, 5))
    case.agree_goals({"language": "b1-course"}, date(2021, 10, 6))
    case.start_linking(date(2021, 10, 7))
    app.save(case)
    return case_id


def test_a_referral_without_consent_for_its_recipient_is_refused_and_appends_nothing(
    rheine: CaseManagementApplication, store: EventLogStore
) -> None:
    case_id = case_in_linking(rheine, person_id := consenting_person(rheine))
    before = store.head("rheine", "case_management")
    with pytest.raises(DomainError) as refused:
        rheine.propose_referral(
            case_id, service=Service.LANGUAGE_COURSE_COUNSELLING, recipient="vhs-rheine",
            on=date(2021, 10, 8),
        )  # fmt: skip
    assert refused.value.rule == "consent-missing"
    assert store.head("rheine", "case_management") == before
    rheine.give_consent(
        person_id,
        purpose=ConsentPurpose.REFERRAL,
        recipient="vhs-rheine",
        given_on=date(2021, 10, 8),
    )
    rheine.propose_referral(
        case_id, service=Service.LANGUAGE_COURSE_COUNSELLING, recipient="vhs-rheine",
        on=date(2021, 10, 8),
    )  # fmt: skip
    rheine.answer_referral(case_id, index=0, accepted=True, on=date(2021, 10, 12))
    rheine.complete_referral(case_id, index=0, outcome="B1-Kurs ab 01.11.", on=date(2021, 10, 20))
    (referral,) = rheine.get_case(case_id).referrals
    assert referral["status"] == "completed"
    assert referral["referral_only"] is False


def test_legal_areas_with_their_own_case_management_get_referral_only(
    rheine: CaseManagementApplication,
) -> None:
    person_id = consenting_person(rheine)
    case_id = case_in_linking(rheine, person_id)
    rheine.give_consent(
        person_id, purpose=ConsentPurpose.REFERRAL, recipient="jobcenter-steinfurt",
        given_on=date(2021, 10, 8),
    )  # fmt: skip
    rheine.propose_referral(
        case_id, service=Service.JOB_CENTRE, recipient="jobcenter-steinfurt", on=date(2021, 10, 8)
    )
    assert rheine.get_case(case_id).referrals[0]["referral_only"] is True


def test_a_referral_must_be_answered_before_it_is_completed(
    rheine: CaseManagementApplication,
) -> None:
    person_id = consenting_person(rheine)
    case_id = case_in_linking(rheine, person_id)
    rheine.give_consent(
        person_id,
        purpose=ConsentPurpose.REFERRAL,
        recipient="jmd-rheine",
        given_on=date(2021, 10, 8),
    )
    rheine.propose_referral(
        case_id, service=Service.JMD, recipient="jmd-rheine", on=date(2021, 10, 8)
    )
    with pytest.raises(DomainError) as refused:
        rheine.complete_referral(case_id, index=0, outcome="x", on=date(2021, 10, 9))
    assert refused.value.rule == "referral-status"


def test_a_case_alongside_another_programme_needs_a_documented_reason(
    rheine: CaseManagementApplication, store: EventLogStore
) -> None:
    person_id = consenting_person(rheine)
    rheine.record_participation(person_id, programme=Programme.MBE, start=date(2021, 6, 1))
    before = store.head("rheine", "case_management")
    with pytest.raises(DomainError) as refused:
        rheine.open_case(
            person_id, referral_source=ReferralSource.OTHER, opened_on=date(2021, 10, 4)
        )
    assert refused.value.rule == "double-funding"
    assert refused.value.facts["programmes"] == ["mbe"]
    assert store.head("rheine", "case_management") == before
    (rec, noted, *_) = rheine.open_case(
        person_id, referral_source=ReferralSource.OTHER, opened_on=date(2021, 10, 4),
        double_funding_reason="MBE endet mit Übergabe an KIM zum 31.10.; keine Parallelberatung",
    )  # fmt: skip
    case = rheine.get_case(rec.domain_event.originator_id)
    assert case.other_programmes is not None
    assert case.other_programmes[0] == ["mbe"]
    assert type(noted.domain_event).__name__ == "OtherProgrammesNoted"


def test_an_ended_participation_no_longer_blocks_a_case(
    rheine: CaseManagementApplication,
) -> None:
    person_id = consenting_person(rheine)
    rheine.record_participation(
        person_id, programme=Programme.DURCHSTARTEN, start=date(2020, 1, 1), end=date(2021, 6, 30)
    )
    rec, *_ = rheine.open_case(
        person_id, referral_source=ReferralSource.JOB_CENTRE, opened_on=date(2021, 10, 4)
    )
    assert rheine.get_case(rec.domain_event.originator_id).other_programmes is None

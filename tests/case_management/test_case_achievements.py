"""Achievements on a case, shared per office under consent, through the index of a person's
accepted intake requests (``intake_of_person``), kept with the events."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import ReferralSource
from contexts.case_management.intake import INTAKE_OF_PERSON, intake_id
from contexts.case_management.people import ConsentPurpose
from contexts.shared.errors import DomainError
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault

ON = date(2025, 3, 2)


def person_with_case(app: CaseManagementApplication) -> tuple[UUID, UUID]:
    (rec,) = app.register_person({"name": "N."}, date(2024, 1, 1))
    person = rec.domain_event.originator_id
    app.give_consent(person, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient="rheine",
                     given_on=date(2025, 1, 1))  # fmt: skip
    recs = app.open_case(person, referral_source=ReferralSource.IMMIGRATION_OFFICE,
                         opened_on=date(2025, 1, 2))  # fmt: skip
    return person, recs[0].domain_event.originator_id


def referred(app: CaseManagementApplication, office: str, person: UUID | None) -> UUID:
    app.receive_office_referral(office=office, referral_id=f"{office}-1",
                                requirements=["language:B1"], on=date(2025, 1, 3))  # fmt: skip
    if person is not None:
        app.accept_intake(intake_id(office, f"{office}-1"), person_id=person, on=date(2025, 1, 4))
    return intake_id(office, f"{office}-1")


def test_an_achievement_goes_only_to_the_offices_the_consent_names(store: EventLogStore) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    person, case = person_with_case(app)
    other, _ = person_with_case(app)
    rheine, district = referred(app, "rheine", person), referred(app, "kreis-steinfurt", person)
    open_one = referred(app, "staedteregion-aachen", None)  # not accepted: not in the index
    assert sorted(app.indexes.index_members(INTAKE_OF_PERSON, str(person))) == sorted(
        [str(rheine), str(district)]
    )
    assert app.indexes.index_members(INTAKE_OF_PERSON, str(other)) == []
    app.give_consent(person, purpose=ConsentPurpose.ACHIEVEMENTS, recipient="kreis-steinfurt",
                     given_on=date(2025, 3, 1))  # fmt: skip

    done = app.record_achievement(
        case, kind="naturalisation_test", level=None, achieved_on=date(2025, 2, 1), on=ON
    )
    assert done.shared_with == ["kreis-steinfurt"]
    assert {r.notification.originator_id for r in done.recordings} == {case, district}
    assert len({r.notification.id for r in done.recordings}) == 2
    assert app.get_case(case).achievements == [
        {"kind": "naturalisation_test", "level": None, "achieved_on": "2025-02-01",
         "on": ON.isoformat()}
    ]  # fmt: skip
    assert app.get_intake(rheine).achievements == []
    assert len(app.get_intake(district).achievements) == 1
    assert app.get_intake(open_one).achievements == []

    # The index is derived state: a rebuild from the log finds the same requests.
    app.indexes.replace_index([])
    assert app.accepted_intakes_of(person) == []
    app.reindex()
    assert [r.id for r in app.accepted_intakes_of(person)] == sorted(
        [rheine, district], key=lambda i: (app.get_intake(i).received_on, str(i))
    )


@pytest.mark.parametrize(
    ("kind", "level", "achieved_on", "rule"),
    [
        ("driving_licence", None, date(2025, 2, 1), "unknown-achievement"),
        ("language_certificate", None, date(2025, 2, 1), "language-level"),
        ("employment", "B1", date(2025, 2, 1), "language-level"),
        ("employment", None, date(2025, 3, 3), "achievement-in-future"),
    ],
)
def test_a_refused_achievement_appends_nothing(
    store: EventLogStore, kind: str, level: str | None, achieved_on: date, rule: str
) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    person, case = person_with_case(app)
    referred(app, "rheine", person)
    app.give_consent(person, purpose=ConsentPurpose.ACHIEVEMENTS, recipient="rheine",
                     given_on=date(2025, 3, 1))  # fmt: skip
    head = app.recorder.max_notification_id()
    with pytest.raises(DomainError) as refused:
        app.record_achievement(case, kind=kind, level=level, achieved_on=achieved_on, on=ON)
    assert refused.value.rule == rule
    assert app.recorder.max_notification_id() == head

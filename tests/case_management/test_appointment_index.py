"""Due appointments come from an index of their days, kept with the events: the case
manager's list of follow-ups covers every case of the position, not one page of them."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.case_indexes import APPOINTMENTS_ON
from contexts.case_management.people import ConsentPurpose
from contexts.case_management.vocabulary import (
    AppointmentKind,
    AppointmentOutcome,
    ReferralSource,
)
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault

TODAY = date.today()


def open_case(app: CaseManagementApplication) -> UUID:
    (rec,) = app.register_person({"name": "N."}, date(2024, 1, 1))
    person_id = rec.domain_event.originator_id
    opened = TODAY - timedelta(days=30)
    app.give_consent(
        person_id, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient="rheine", given_on=opened
    )
    recordings = app.open_case(
        person_id,
        referral_source=ReferralSource.SCHOOL,
        opened_on=opened,
    )
    return recordings[0].domain_event.originator_id


def in_days(days: int) -> date:
    return TODAY + timedelta(days=days)


def test_scheduled_appointments_within_the_days_are_found_soonest_first(
    store: EventLogStore,
) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    first, second = open_case(app), open_case(app)
    app.schedule_appointment(first, on=in_days(10), kind=AppointmentKind.FOLLOW_UP)
    app.schedule_appointment(second, on=in_days(3), kind=AppointmentKind.ASSESSMENT)
    app.schedule_appointment(second, on=in_days(40), kind=AppointmentKind.FOLLOW_UP)  # later
    app.schedule_appointment(first, on=in_days(5), kind=AppointmentKind.FOLLOW_UP)
    app.record_appointment(first, index=1, outcome=AppointmentOutcome.CANCELLED)  # not due
    found = [(c.id, i) for c, i in app.due_appointments(TODAY, 14)]
    assert found == [(second, 0), (first, 0)]
    assert [(c.id, i) for c, i in app.due_appointments(TODAY, 60)] == [
        (second, 0), (first, 0), (second, 1),
    ]  # fmt: skip
    # The entries are the index's (one per day of a case), and a rebuild finds the same.
    assert app.indexes.index_members(APPOINTMENTS_ON, in_days(5).isoformat()) == []
    assert app.indexes.index_members(APPOINTMENTS_ON, in_days(3).isoformat()) == [str(second)]
    app.indexes.replace_index([])
    assert app.due_appointments(TODAY, 60) == []
    app.reindex()
    assert [(c.id, i) for c, i in app.due_appointments(TODAY, 14)] == [(second, 0), (first, 0)]

"""Expiring consents come from an index of their end dates, kept with the events."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.people import CONSENT_EXPIRY, ConsentPurpose
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault

TODAY = date.today()


def person_with_consent(app: CaseManagementApplication, ends_in_days: int) -> UUID:
    (rec,) = app.register_person({"name": "N."}, date(2024, 1, 1))
    person_id = rec.domain_event.originator_id
    app.give_consent(
        person_id, purpose=ConsentPurpose.REFERRAL, recipient="mbe", given_on=TODAY,
        expires_on=TODAY + timedelta(days=ends_in_days),
    )  # fmt: skip
    return person_id


def test_consents_ending_soon_are_found_and_revoked_or_erased_ones_are_not(
    store: EventLogStore,
) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    soon, later, revoked, erased = (person_with_consent(app, d) for d in (5, 90, 7, 9))
    app.revoke_consent(revoked, purpose=ConsentPurpose.REFERRAL, recipient="mbe", revoked_on=TODAY)
    app.erase_person(erased, TODAY)
    found = app.expiring_consents(TODAY, 30)
    assert [(p.id, c.expires_on) for p, c in found] == [(soon, TODAY + timedelta(days=5))]
    assert {p.id for p, _ in app.expiring_consents(TODAY, 100)} == {soon, later}
    # The entries are the index's, and a rebuild from the log finds the same.
    key = (TODAY + timedelta(days=90)).isoformat()
    assert app.indexes.index_members(CONSENT_EXPIRY, key) == [str(later)]
    app.indexes.replace_index([])
    assert app.expiring_consents(TODAY, 100) == []
    app.reindex()
    assert {p.id for p, _ in app.expiring_consents(TODAY, 100)} == {soon, later}


def test_a_range_of_the_index_reads_only_its_keys(store: EventLogStore) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    ids = [person_with_consent(app, d) for d in (1, 2, 3)]
    low, high = (TODAY + timedelta(days=2)).isoformat(), (TODAY + timedelta(days=3)).isoformat()
    found = app.indexes.index_range(CONSENT_EXPIRY, low, high, 10)
    assert found == [(low, str(ids[1])), (high, str(ids[2]))]
    assert app.indexes.index_range(CONSENT_EXPIRY, low, high, 1) == [(low, str(ids[1]))]

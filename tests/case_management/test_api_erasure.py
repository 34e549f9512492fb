"""Erasure is idempotent and complete; people without a case fall under retention too.

A retry finishes what a failed attempt started (the key destroyed, the idempotency records of
the person's commands forgotten) and answers as the first attempt would have. A person who
never had a case is due a retention period after their registration.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import ReferralSource
from contexts.case_management.people import ConsentPurpose
from contexts.case_management.retention import DataType, RetentionPolicy
from runtime.http.auth import Principal
from runtime.http.commands import scoped_key
from runtime.platform import Platform
from tests.case_support import (
    CM,
    demo_position,
    ok,
    open_case,
    register_person,
    rheine_coordination_position,
)
from tests.support import Auth

RHEINE = CM.format(tenant="rheine")
CASE_MANAGER = Principal("dev-case_manager", "rheine", frozenset())
COORDINATOR = Principal("dev-coordinator", "rheine", frozenset())


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def kept(platform: Platform, principal: Principal, key: str) -> bool:
    """Whether the store still keeps the idempotency record of ``principal``'s ``key``."""
    stored = scoped_key(platform.settings.idempotency_secret, principal, key)
    return platform.store.find_idempotency("rheine", stored) is not None


def app_of(platform: Platform) -> CaseManagementApplication:
    return platform.app(CaseManagementApplication, "rheine", vault=platform.vault)


def test_a_retry_finishes_an_erasure_whose_key_destruction_failed(
    client: TestClient, platform: Platform, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    post = auth("rheine", "coordinator", position=rheine_coordination_position(platform))
    data = {
        "personal_data": {
            "name": "Lina Sommer", "date_of_birth": "1990-03-04", "arrival_on": "2022-04-01",
        }
    }  # fmt: skip
    registered = ok(
        client.post(f"{RHEINE}/people", json=data, headers=keyed(cm, "reg-lina-1")), 201
    )
    person = UUID(registered["events"][0]["aggregate_id"])
    consent = {"purpose": "case_management", "recipient": "rheine", "given_on": "2022-05-01"}
    ok(client.post(f"{RHEINE}/people/{person}/consents", json=consent, headers=cm))
    case = open_case(client, cm, person)
    note = {"on": "2022-05-03", "text": "Frau Sommer ruft morgens an."}
    ok(client.post(f"{RHEINE}/cases/{case}/notes", json=note, headers=keyed(cm, "note-lina-1")))
    other = register_person(client, cm, name="Omar K.")  # someone else's records stay
    fix = {"personal_data": {"name": "Omar Khan"}}
    corrected = keyed(cm, "fix-omar-1")
    ok(client.put(f"{RHEINE}/people/{other}/personal-data", json=fix, headers=corrected))
    assert kept(platform, CASE_MANAGER, "reg-lina-1")
    assert kept(platform, CASE_MANAGER, "note-lina-1")

    real_erase = platform.vault.erase
    calls: list[UUID] = []

    def erase_failing_once(tenant: str, subject: UUID) -> bool:
        calls.append(subject)
        if len(calls) == 1:
            raise RuntimeError("the key store is not reachable")
        return real_erase(tenant, subject)

    monkeypatch.setattr(platform.vault, "erase", erase_failing_once)
    erasure = f"{RHEINE}/people/{person}/erasure"
    body = {"on": "2025-06-30"}
    failed = client.post(erasure, json=body, headers=keyed(post, "erase-lina-1"))
    assert failed.status_code == 500, failed.text
    app = app_of(platform)
    # Half done: PersonErased is recorded, the key still opens the data.
    assert app.get_person(person).erased_on == date(2025, 6, 30)
    assert app.personal_data(person) is not None
    (erased_record,) = [
        r for r in platform.store.read_log("rheine", "case_management")
        if r.event_type == "PersonErased"
    ]  # fmt: skip
    before = platform.store.heads()

    retried = client.post(erasure, json=body, headers=keyed(post, "erase-lina-1"))
    outcome = ok(retried)
    assert outcome["events"] == [
        {
            "aggregate_id": str(person),
            "version": erased_record.originator_version,
            "type": "PersonErased",
            "position": erased_record.position,
        }
    ]
    assert outcome["position"] == erased_record.position
    assert retried.headers["KIM-Position"] == str(erased_record.position)
    assert platform.store.heads() == before  # nothing appended twice
    assert app.personal_data(person) is None
    notes = ok(client.get(f"{RHEINE}/cases/{case}/notes", headers=cm))
    assert notes == [{"on": "2022-05-03", "text": None}]
    # Without a key, or with another one, the answer is the same, and nothing is appended.
    for headers in [post, keyed(post, "erase-lina-2")]:
        again = client.post(erasure, json=body, headers=headers)
        assert ok(again) == outcome
    assert platform.store.heads() == before
    # The idempotency records of the person's commands went with the person; others stay.
    for key in ["reg-lina-1", "note-lina-1"]:
        assert not kept(platform, CASE_MANAGER, key), key
    for key in ["erase-lina-1", "erase-lina-2"]:
        assert not kept(platform, COORDINATOR, key), key
    assert kept(platform, CASE_MANAGER, "fix-omar-1")
    assert ok(client.get(f"{RHEINE}/people/{other}", headers=cm))["personal_data"]["name"] == (
        "Omar Khan"
    )


def test_an_erasure_forgets_the_idempotency_records_of_the_persons_commands(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    """The records hold keyed digests of bodies with the person's data: they go at once."""
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    data = {"personal_data": {"name": "Eva M.", "date_of_birth": "1985-01-02"}}
    registered = ok(
        client.post(f"{RHEINE}/people", json=data, headers=keyed(cm, "reg-eva-01")), 201
    )
    person = UUID(registered["events"][0]["aggregate_id"])
    record = platform.store.find_idempotency(
        "rheine", scoped_key(platform.settings.idempotency_secret, CASE_MANAGER, "reg-eva-01")
    )
    assert record is not None
    assert record.subjects == {str(person)}  # the record names the person it concerns
    erased = client.post(
        f"{RHEINE}/people/{person}/erasure",
        json={"on": "2025-01-01"},
        headers=keyed(cm, "erase-eva"),
    )
    ok(erased)
    assert not kept(platform, CASE_MANAGER, "reg-eva-01")
    assert not kept(platform, CASE_MANAGER, "erase-eva")
    # A retry of the registration is a new request now: the record is gone for good.
    again = client.post(f"{RHEINE}/people", json=data, headers=keyed(cm, "reg-eva-01"))
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert again.json()["events"][0]["aggregate_id"] != str(person)


def registered_without_case(app: CaseManagementApplication, name: str) -> UUID:
    (rec,) = app.register_person({"name": name}, date.today() - timedelta(days=30))
    return UUID(str(rec.domain_event.originator_id))


def due(app: CaseManagementApplication, person: UUID, years: int = 3) -> date:
    """The first day the person's data is due: ``years`` after their registration."""
    policy = RetentionPolicy(years={**RetentionPolicy().years, DataType.PERSONAL_DATA: years})
    found = policy.due_on(DataType.PERSONAL_DATA, app.get_person(person).registered_on)
    assert found is not None
    return found


def test_a_person_registered_without_a_case_is_due_after_the_period_from_registration(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    app = app_of(platform)
    never = registered_without_case(app, "N.")
    later = registered_without_case(app, "L.")
    app.give_consent(
        later, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient="rheine", given_on=date.today()
    )
    first_day = due(app, never)
    assert never not in app.due_for_erasure(first_day - timedelta(days=1))
    assert never in app.due_for_erasure(first_day)
    assert later in app.due_for_erasure(first_day)
    # A case takes the person out of it: an open case keeps its data.
    app.open_case(later, referral_source=ReferralSource.SELF_REFERRAL, opened_on=date.today())
    assert later not in app.due_for_erasure(first_day + timedelta(days=3650))
    # The coordination post sees them in its list; a rebuilt index agrees.
    post = auth("rheine", "coordinator")
    listed = ok(client.get(f"{RHEINE}/people/due-for-erasure?today={first_day}", headers=post))
    assert str(never) in listed
    assert str(later) not in listed
    app.reindex()
    assert never in app.due_for_erasure(first_day)
    # A tenant's shorter period applies from the registration as well.
    configure: dict[str, Any] = {"approvals": [], "retention_years": {"personal_data": 1}}
    ok(client.put(f"{RHEINE}/settings", json=configure, headers=post))
    assert never in app.due_for_erasure(due(app, never, years=1))
    assert never not in app.due_for_erasure(due(app, never, years=1) - timedelta(days=1))
    # Erased, the person leaves the list.
    app.erase_person(never, first_day)
    assert never not in app.due_for_erasure(first_day)

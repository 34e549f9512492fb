"""Refusals over REST, on both stacks, that append nothing: an application on a day no
version of its rule covers (the 3-year fast track after its removal, § 104c after its last
application day), and a referral after the person revoked their consent to it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.immigration_office.support import IO, api_person, api_procedure, stepper
from tests.support import Auth, assert_problem

LOG = ("rheine", "immigration_office")


def test_an_application_no_rule_version_covers_is_refused_and_appends_nothing(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    officer = auth("rheine", "immigration_officer")
    who = api_person(client, officer, resident_since="2019-03-01")
    for basis, last_day, too_late in (
        ("stag_10_3", "2025-10-29", "2025-10-30"),  # removed 30.10.2025
        ("aufenthg_104c", "2025-12-31", "2026-01-02"),  # applications until 31.12.2025
    ):
        pid = api_procedure(client, officer, who, basis, opened_on="2025-10-01")
        step = stepper(client, officer, "rheine", pid)
        head = platform.store.head(*LOG)
        refused = assert_problem(step("receive_application", too_late), 422, "rule-not-in-force")
        assert refused["facts"]["basis"] == basis
        assert platform.store.head(*LOG) == head
        view = client.get(f"{IO}/rheine/procedures/{pid}", headers=officer)
        assert view.status_code == 200, view.text  # the procedure still reads
        assert view.json()["state"] == "counselling"
        assert step("receive_application", last_day).status_code == 200
        read = client.get(f"{IO}/rheine/procedures/{pid}", headers=officer)
        assert read.status_code == 200, read.text
        assert read.json()["state"] == "application_received"


def test_a_referral_after_the_consent_was_revoked_is_refused_and_appends_nothing(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    officer = auth("rheine", "immigration_officer")
    who = api_person(client, officer)
    pid = api_procedure(client, officer, who, "stag_10", opened_on="2025-01-10")
    consents = f"{IO}/rheine/people/{who}/consents"
    given = {"recipient": "rheine", "given_on": "2025-01-11"}
    assert client.post(consents, json=given, headers=officer).status_code == 200
    revoked = {"recipient": "rheine", "revoked_on": "2025-01-20"}
    assert client.post(f"{consents}/revocation", json=revoked, headers=officer).status_code == 200

    refer = f"{IO}/rheine/procedures/{pid}/referrals"
    head = platform.store.head(*LOG)
    refused = client.post(refer, json={"on": "2025-01-21"}, headers=officer)
    body = assert_problem(refused, 422, "consent-missing")
    assert (body["facts"]["purpose"], body["facts"]["recipient"]) == ("referral", "rheine")
    assert platform.store.head(*LOG) == head
    view = client.get(f"{IO}/rheine/procedures/{pid}", headers=officer).json()
    assert view["referrals"] == []
    again = {"recipient": "rheine", "given_on": "2025-01-22"}
    assert client.post(consents, json=again, headers=officer).status_code == 200
    renewed = client.post(refer, json={"on": "2025-01-22"}, headers=officer)
    assert renewed.status_code == 201, renewed.text

"""Across the two contexts through the bus, on both stacks: the office refers a person with
consent, case management accepts, an achievement (language B1) is shared under the person's
consent, the office's requirement check passes, the naturalisation is granted and the
figures show it. Refusals: no consent, a revoked consent, the wrong tenant."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.case_support import CM, demo_position, ok, register_person
from tests.gateway.test_gateway import data_of, query
from tests.immigration_office.support import IO, api_checks, api_person, api_procedure, stepper
from tests.support import Auth, assert_problem, wait_for

RHEINE_CM = CM.format(tenant="rheine")


def _consent(client: TestClient, headers: dict[str, str], url: str, body: dict[str, Any]) -> None:
    assert client.post(url, json=body, headers=headers).status_code == 200


def _intake(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    found = client.get(f"{RHEINE_CM}/intake-requests", headers=headers).json()
    mine: dict[str, Any] = found[-1] if found else {}
    return mine


def test_referral_acceptance_achievement_and_grant_across_the_contexts(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    officer = auth("rheine", "immigration_officer")
    manager = auth("rheine", "case_manager", position=demo_position(platform))
    who = api_person(client, officer, resident_since="2019-03-01")
    pid = api_procedure(client, officer, who, "stag_10", opened_on="2025-01-10")
    refer_url = f"{IO}/rheine/procedures/{pid}/referrals"

    no_consent = client.post(refer_url, json={"on": "2025-01-11"}, headers=officer)
    assert_problem(no_consent, 422, "consent-missing")
    wrong = client.post(refer_url, json={"on": "2025-01-11", "to_tenant": "emsdetten"},
                        headers=officer)  # fmt: skip
    assert assert_problem(wrong, 422, "wrong-tenant")["responsible"] == "rheine"
    _consent(client, officer, f"{IO}/rheine/people/{who}/consents",
             {"recipient": "rheine", "given_on": "2025-01-11"})  # fmt: skip
    referred = client.post(refer_url, json={"on": "2025-01-11"}, headers=officer)
    assert referred.status_code == 201, referred.text
    assert referred.json()["events"][0]["type"] == "ProcedureReferredToCaseManagement"

    intake = wait_for(lambda: _intake(client, manager), "the intake request in case management")
    assert intake["office"] == "rheine"
    assert intake["referral_source"] == "immigration_office"
    assert "language:B1" in intake["requirements"]
    assert "livelihood" in intake["requirements"]

    person = register_person(client, manager, consent_on="2025-01-12")
    accepted = client.post(
        f"{RHEINE_CM}/intake-requests/{intake['id']}/acceptance",
        json={"person_id": str(person), "on": "2025-01-13"},
        headers=manager,
    )
    assert accepted.status_code == 200, accepted.text

    def referral_status() -> str | None:
        view = client.get(f"{IO}/rheine/procedures/{pid}", headers=officer).json()
        status = view["referrals"][0]["status"]
        return str(status) if status != "requested" else None

    assert wait_for(referral_status, "the office seeing the acceptance") == "accepted"

    share_url = f"{RHEINE_CM}/intake-requests/{intake['id']}/achievements"
    b1 = {"kind": "language_certificate", "level": "B1", "achieved_on": "2025-02-20",
          "on": "2025-03-01"}  # fmt: skip
    assert_problem(client.post(share_url, json=b1, headers=manager), 422, "consent-missing")
    consent = {"purpose": "achievements", "recipient": "rheine", "given_on": "2025-03-01"}
    _consent(client, manager, f"{RHEINE_CM}/people/{person}/consents", consent)
    shared = client.post(share_url, json=b1, headers=manager)
    assert shared.status_code == 200, shared.text

    step = stepper(client, officer, "rheine", pid)
    for s, on in (("receive_application", "2025-03-02"), ("complete_documents", "2025-03-03"),
                  ("start_checks", "2025-03-04")):  # fmt: skip
        assert step(s, on).status_code == 200
    api_checks(client, officer, "rheine", pid, "2025-03-05", skip=("language",))

    def language_passed() -> bool:
        view = client.get(f"{IO}/rheine/procedures/{pid}", headers=officer).json()
        return "language:B1" not in view["open_requirements"]

    assert wait_for(language_passed, "the shared B1 certificate in the office's checks")
    granted = step("grant", "2025-06-02")
    assert granted.status_code == 200, granted.text

    revoked = {"purpose": "achievements", "recipient": "rheine", "revoked_on": "2025-07-01"}
    _consent(client, manager, f"{RHEINE_CM}/people/{person}/consents/revocation", revoked)
    later = {**b1, "level": "B2", "on": "2025-07-02"}
    assert_problem(client.post(share_url, json=later, headers=manager), 422, "consent-missing")

    at = granted.headers["KIM-Position"]
    text = (
        f'{{ officeFigures(tenant: "rheine", atPosition: {at}) {{ referrals {{ kind status count }}'
        " byState { kind legalBasis state count } } }"
    )
    figures = data_of(query(client, text, officer))["officeFigures"]
    assert {"kind": "naturalisation", "status": "accepted", "count": 1} in figures["referrals"]
    granted_rows = [s for s in figures["byState"] if s["state"] == "granted"]
    assert any(s["kind"] == "naturalisation" for s in granted_rows)
    ok(client.get(f"{RHEINE_CM}/intake-requests/{intake['id']}", headers=manager))


def test_a_declined_referral_reaches_the_office_with_its_reason_once(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    from contexts.case_management.application import CaseManagementApplication
    from projections.immigration_office import application

    officer = auth("rheine", "immigration_officer")
    coordinator = auth("rheine", "coordinator")
    who = api_person(client, officer)
    pid = api_procedure(client, officer, who, "aufenthg_104c", opened_on="2025-05-02")
    _consent(client, officer, f"{IO}/rheine/people/{who}/consents",
             {"recipient": "rheine", "given_on": "2025-05-02"})  # fmt: skip
    referred = client.post(f"{IO}/rheine/procedures/{pid}/referrals", json={"on": "2025-05-03"},
                           headers=officer)  # fmt: skip
    assert referred.status_code == 201, referred.text
    intake = wait_for(lambda: _intake(client, coordinator), "the intake request")
    declined = client.post(f"{RHEINE_CM}/intake-requests/{intake['id']}/decline",
                           json={"reason": "other_programme", "on": "2025-05-04"},
                           headers=coordinator)  # fmt: skip
    assert declined.status_code == 200, declined.text

    def answered() -> dict[str, Any] | None:
        view = client.get(f"{IO}/rheine/procedures/{pid}", headers=officer).json()
        found: dict[str, Any] = view["referrals"][0]
        return found if found["status"] != "requested" else None

    referral = wait_for(answered, "the office seeing the decline")
    assert (referral["status"], referral["reason"]) == ("declined", "other_programme")
    again = client.post(
        f"{RHEINE_CM}/intake-requests/{intake['id']}/decline",
        json={"reason": "no_capacity", "on": "2025-05-05"},
        headers=coordinator,
    )
    assert_problem(again, 409, "intake-answered")

    # A redelivered referral or answer changes nothing.
    head = platform.store.heads()
    cm = platform.app(CaseManagementApplication, "rheine", vault=platform.vault)
    rid = referral["referral_id"]
    assert not cm.receive_office_referral(office="rheine", referral_id=rid,
                                          requirements=[], on=date(2025, 5, 3))  # fmt: skip
    office = application(platform, "rheine")
    assert not office.referral_answered(rid, accepted=False, reason="x", on=date(2025, 5, 4))
    assert platform.store.heads() == head

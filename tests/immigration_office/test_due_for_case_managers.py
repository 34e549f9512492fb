"""The due list per case manager: the office's deadlines of a person it referred (a § 104c
permit's end, the open requirements) reach the case manager of the case the referral became,
through the referral's contract event, on both stacks; no other position sees them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient

from contexts.case_management.intake import IntakeRequest, intake_id
from contexts.immigration_office.domain import Procedure
from runtime.eventstore.base import EventLogStore
from runtime.platform import Platform
from tests.case_support import CM, demo_position, note_position, ok, open_case, register_person
from tests.immigration_office.support import IO, api_person, api_procedure, office, stepper
from tests.support import Auth, assert_problem, wait_for

RHEINE_CM = CM.format(tenant="rheine")


def _referred_104c(client: TestClient, officer: dict[str, str]) -> str:
    """A § 104c permit granted on 2025-08-01 (it ends on 2027-01-31), referred with consent;
    the referral's id."""
    who = api_person(client, officer, resident_since="2019-03-01")
    pid = api_procedure(client, officer, who, "aufenthg_104c", opened_on="2025-05-02")
    step = stepper(client, officer, "rheine", pid)
    assert step("receive_application", "2025-05-02").status_code == 200
    for check in ("identity", "no_convictions", "commitment"):
        r = client.post(f"{IO}/rheine/procedures/{pid}/checks",
                        json={"check": check, "passed": True, "on": "2025-05-20"},
                        headers=officer)  # fmt: skip
        assert r.status_code == 200, r.text
    assert step("complete_requirements_check", "2025-05-21").status_code == 200
    granted = step("grant", "2025-08-01", aims_at="aufenthg_25b")
    assert granted.status_code == 200, granted.text
    consent = {"recipient": "rheine", "given_on": "2025-08-02"}
    ok(client.post(f"{IO}/rheine/people/{who}/consents", json=consent, headers=officer))
    referred = client.post(f"{IO}/rheine/procedures/{pid}/referrals", json={"on": "2025-08-02"},
                           headers=officer)  # fmt: skip
    assert referred.status_code == 201, referred.text
    view = client.get(f"{IO}/rheine/procedures/{pid}", headers=officer).json()
    assert view["referrals"][0]["deadlines"] == [{"due_on": "2027-01-31", "what": "permit_end"}]
    return str(view["referrals"][0]["referral_id"])


def test_a_referred_persons_permit_end_is_on_their_case_managers_due_list(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    officer = auth("rheine", "immigration_officer")
    manager = auth("rheine", "case_manager", position=demo_position(platform))
    other = auth("rheine", "case_manager", position=note_position(platform, "rheine"))
    referral = _referred_104c(client, officer)
    request = intake_id("rheine", referral)
    url = f"{RHEINE_CM}/intake-requests/{request}"
    wait_for(lambda: client.get(url, headers=manager).status_code == 200, "the intake request")
    person = register_person(client, manager, consent_on="2025-08-03")
    ok(client.post(f"{url}/acceptance", json={"person_id": str(person), "on": "2025-08-04"},
                   headers=manager))  # fmt: skip
    case = open_case(client, manager, person, opened_on="2025-08-05")

    def due(headers: dict[str, str], within: int) -> list[dict[str, Any]]:
        r = client.get(f"{RHEINE_CM}/due?within_days={within}&today=2027-01-01", headers=headers)
        assert r.status_code == 200, r.text
        found: list[dict[str, Any]] = r.json()
        return found

    (item,) = [d for d in due(manager, 60) if d["case_id"] == str(case)]
    assert (item["due_on"], item["days_left"], item["what"]) == ("2027-01-31", 30, "permit_end")
    assert item["office"] == "rheine"
    assert item["intake_request_id"] == str(request)
    assert "language:A2" in item["open_requirements"]  # of § 25b, the basis it aims at
    assert not [d for d in due(manager, 10) if d["case_id"] == str(case)]
    assert not [d for d in due(other, 60) if d["case_id"] == str(case)]
    assert_problem(client.get(f"{RHEINE_CM}/due", headers=officer), 403, "role-not-allowed")


def test_a_referral_recorded_before_deadlines_went_along_still_decodes(
    memory_store: EventLogStore,
) -> None:
    """Version 1 of the contract had no deadlines: the office's and case management's
    events of then decode with none (upcast)."""
    app = office(memory_store)
    p = Procedure(person_id=uuid4(), legal_basis="stag_10", residence="rheine",
                  opened_on="2025-01-10", position_id=None, converted_from=None)  # fmt: skip
    p.refer(uuid4(), "rheine", ["test"], date(2025, 1, 11))
    request = IntakeRequest(id=uuid4(), office="rheine", referral_id="r-1", requirements=[],
                            received_on="2025-01-11", deadlines=[])  # fmt: skip
    for event in (p.collect_events()[-1], request.collect_events()[0]):
        stored = app.mapper.to_stored_event(event)
        state = app.mapper.transcoder.decode(stored.state)
        assert state.pop("deadlines") == []
        state.pop("class_version", None)
        old = replace(stored, state=app.mapper.transcoder.encode(state))
        assert app.mapper.to_domain_event(old).deadlines == []  # type: ignore[attr-defined]

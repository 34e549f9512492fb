"""The immigration office over REST, on both stacks: a naturalisation from counselling to
the ceremony, refusals as problems that append nothing, idempotency and versions, the due
list, personal data sealed and its reads in the access log."""

from __future__ import annotations

from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.immigration_office.support import (
    IO,
    api_checks,
    api_person,
    api_procedure,
    stepper,
)
from tests.support import Auth, assert_problem

LOG = ("rheine", "immigration_office")


def test_a_naturalisation_runs_from_counselling_to_the_ceremony(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    officer = auth("rheine", "immigration_officer")
    who = api_person(client, officer)
    pid = api_procedure(client, officer, who, "stag_10", opened_on="2025-01-10")
    step = stepper(client, officer, "rheine", pid)
    assert step("receive_application", "2025-02-03").status_code == 200
    r = step("request_documents", "2025-02-10", due_on="2025-03-10")
    assert r.status_code == 200, r.text
    assert step("complete_documents", "2025-03-01").status_code == 200
    assert step("start_checks", "2025-03-02").status_code == 200
    api_checks(client, officer, "rheine", pid, "2025-03-20")
    granted = step("grant", "2025-06-02")
    assert granted.status_code == 200, granted.text
    assert granted.json()["events"][0]["type"] == "ProcedureGranted"
    assert step("hand_over_certificate", "2025-06-20").status_code == 200
    invited = step("invite_to_ceremony", "2025-06-21", ceremony_on="2025-09-12")
    assert invited.status_code == 200, invited.text

    view = client.get(f"{IO}/rheine/procedures/{pid}", headers=officer).json()
    assert view["state"] == "ceremony_invited"
    assert view["allowed_steps"] == []
    assert view["rule"]["version"] == "stag_10@2024-06-27"
    assert view["rule"]["residence_years"] == 5
    listed = client.get(
        f"{IO}/rheine/procedures?state=ceremony_invited",
        headers={**officer, "KIM-Position": invited.headers["KIM-Position"]},
    ).json()
    assert pid in [row["id"] for row in listed]


def test_refusals_are_problems_and_append_nothing(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    officer = auth("rheine", "immigration_officer")
    who = api_person(client, officer, resident_since="2019-03-01")
    old = api_procedure(client, officer, who, "stag_10", opened_on="2023-05-01")
    step = stepper(client, officer, "rheine", old)
    head = platform.store.head(*LOG)
    forbidden = step("grant", "2023-05-02")
    body = assert_problem(forbidden, 409, "transition-not-allowed")
    assert body["facts"]["state"] == "counselling"
    assert body["facts"]["step"] == "grant"
    assert platform.store.head(*LOG) == head

    for s in ("receive_application", "complete_documents", "start_checks"):
        assert step(s, "2023-05-02").status_code == 200
    api_checks(client, officer, "rheine", old, "2023-06-01")
    head = platform.store.head(*LOG)
    unmet = assert_problem(step("grant", "2025-06-02"), 422, "rule-not-met")
    assert unmet["facts"] == {"unmet": ["residence:8"], "rule_version": "stag_10@2008-09-01"}
    stale = assert_problem(step("refuse", "2025-06-02", expected_version=1), 409, "stale-version")
    assert stale["facts"]["expected_version"] == 1
    assert platform.store.head(*LOG) == head

    wrong = client.post(
        f"{IO}/kreis-steinfurt/procedures",
        json={"person_id": who, "legal_basis": "stag_10", "residence": "rheine",
              "opened_on": "2025-01-10"},
        headers=auth("kreis-steinfurt", "immigration_officer"),
    )  # fmt: skip
    problem = assert_problem(wrong, 422, "wrong-tenant")
    assert problem["responsible"] == "rheine"
    assert platform.store.head("kreis-steinfurt", "immigration_office") == 0

    bad = client.post(
        f"{IO}/rheine/procedures/{old}/checks",
        json={"check": "language", "passed": True, "on": "2025-01-01", "level": "B3"},
        headers=officer,
    )
    assert_problem(bad, 422, "validation-failed")
    assert platform.store.head(*LOG) == head


def test_a_retry_with_the_same_key_appends_nothing(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    officer = auth("rheine", "immigration_officer")
    who = api_person(client, officer)
    body = {"person_id": who, "legal_basis": "aufenthg_104c", "residence": "05566076",
            "opened_on": "2025-05-02"}  # fmt: skip
    headers = {**officer, "Idempotency-Key": "open-104c-0001"}
    first = client.post(f"{IO}/rheine/procedures", json=body, headers=headers)
    assert first.status_code == 201, first.text
    head = platform.store.head(*LOG)
    again = client.post(f"{IO}/rheine/procedures", json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert platform.store.head(*LOG) == head


def test_the_due_list_names_a_104c_permit_whose_requirements_are_not_met(
    client: TestClient, auth: Auth
) -> None:
    officer = auth("rheine", "immigration_officer")
    who = api_person(client, officer, resident_since="2017-01-01")
    pid = api_procedure(client, officer, who, "aufenthg_104c", opened_on="2025-05-02")
    step = stepper(client, officer, "rheine", pid)
    assert step("receive_application", "2025-05-02").status_code == 200
    api_checks(client, officer, "rheine", pid, "2025-05-20",
               skip=("language", "livelihood", "test", "passport"))  # fmt: skip
    assert step("complete_requirements_check", "2025-05-21").status_code == 200
    assert step("grant", "2025-08-01", aims_at="aufenthg_25b").status_code == 200

    due = client.get(f"{IO}/rheine/due?within_days=90&today=2026-12-01", headers=officer)
    assert due.status_code == 200, due.text
    mine = [d for d in due.json() if d["procedure_id"] == pid]
    assert mine == [
        {
            "procedure_id": pid, "person_id": who, "legal_basis": "aufenthg_104c",
            "state": "granted", "due_on": "2027-01-31", "days_left": 61, "what": "permit_end",
            "open_requirements": ["language:A2", "livelihood", "passport", "test"],
            "position_id": None,
        }
    ]  # fmt: skip
    other = "00000000-0000-4000-8000-000000000002"
    theirs = client.get(f"{IO}/rheine/due?within_days=90&today=2026-12-01&position_id={other}",
                        headers=officer)  # fmt: skip
    assert theirs.json() == []
    soon = client.get(f"{IO}/rheine/due?within_days=30&today=2026-12-01", headers=officer).json()
    assert pid not in [d["procedure_id"] for d in soon]
    too_far = client.get(f"{IO}/rheine/due?within_days=100000", headers=officer)
    assert_problem(too_far, 422, "validation-failed")


def test_personal_data_is_sealed_and_every_read_is_in_the_access_log(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    officer = auth("rheine", "immigration_officer")
    who = api_person(client, officer)
    events = platform.store.read_log(*LOG)
    assert all("Demo-Person" not in str(e.state) for e in events)
    before = platform.store.head("rheine", "audit")
    person = client.get(f"{IO}/rheine/people/{who}", headers=officer)
    assert person.status_code == 200, person.text
    assert person.json()["personal_data"]["name"] == "Demo-Person Z. Q."
    reads = [e for e in platform.store.read_log("rheine", "audit", after=before)]
    assert [e.event_type for e in reads] == ["PersonalDataReadRecorded"]
    state = reads[0].state.decode() if isinstance(reads[0].state, bytes) else str(reads[0].state)
    assert "procedure" in state
    assert "Demo-Person" not in state

    erased = client.post(f"{IO}/rheine/people/{who}/erasure", json={"on": "2026-12-01"},
                         headers=officer)  # fmt: skip
    assert erased.status_code == 200, erased.text
    assert client.get(f"{IO}/rheine/people/{who}", headers=officer).json()["personal_data"] is None

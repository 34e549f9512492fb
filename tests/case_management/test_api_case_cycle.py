"""One case through the whole cycle over the REST API, as case managers work it.

Rheine: intake, assessment, goals, linking with a referral (refused without consent),
monitoring with an appointment, a contact and a note, a re-assessment loop, a gap report
that reaches coordination, the person moves to Emsdetten (transfer over the bus, personal
data only with its own consent), Emsdetten carries the case to its closure, and Rheine
erases the person: the personal data is gone everywhere while every fact still replays.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

from fastapi.testclient import TestClient

from contexts.case_management.application import CaseManagementApplication
from runtime import audit
from runtime.eventstore.records import LogRecord
from runtime.platform import Platform
from services.case_management.case_models import CaseView
from tests.case_support import (
    CM,
    demo_position,
    note_position,
    ok,
    open_case,
    register_person,
    rheine_coordination_position,
)
from tests.support import Auth, assert_problem, wait_for

RHEINE = CM.format(tenant="rheine")
EMSDETTEN = CM.format(tenant="emsdetten")


def types_in(platform: Platform, tenant: str, context: str) -> list[str]:
    return [r.event_type for r in platform.store.read_log(tenant, context)]


def all_records(platform: Platform) -> list[LogRecord]:
    return [
        r
        for tenant in ("rheine", "emsdetten", "kreis-steinfurt")
        for context in ("case_management", "coordination")
        for r in platform.store.read_log(tenant, context)
    ]


def test_one_case_through_every_state_with_transfer_and_erasure(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    position = demo_position(platform)
    cm = auth("rheine", "case_manager", position=position)
    post = auth("rheine", "coordinator", position=rheine_coordination_position(platform))

    # -- intake (Erstberatung) ----------------------------------------------------------
    person = register_person(client, cm, name="Lina Sorokina", arrival_on="2022-04-01")
    case = open_case(client, cm, person, opened_on="2022-05-02")
    url = f"{RHEINE}/cases/{case}"

    def step(path: str, body: dict[str, Any], headers: dict[str, str] = cm) -> Any:
        return ok(client.post(f"{url}/{path}", json=body, headers=headers))

    def state() -> Any:
        return ok(client.get(url, headers=cm))

    assert state()["state"] == "intake"
    assert state()["position_id"] == str(position)

    # -- assessment, goals, linking ------------------------------------------------------
    step("assessment", {"needs": {"language": "high", "housing": "medium"}, "on": "2022-05-09"})
    step("goals", {"goals": {"language": "B1 course", "housing": "own flat"}, "on": "2022-05-16"})
    step("linking", {"on": "2022-05-17"})
    before = platform.store.heads()
    refused = client.post(
        f"{url}/referrals",
        json={"service": "jmd", "recipient": "jmd-rheine", "on": "2022-05-18"},
        headers=cm,
    )
    assert_problem(refused, 422, "consent-missing")
    assert platform.store.heads() == before
    ok(
        client.post(
            f"{RHEINE}/people/{person}/consents",
            json={"purpose": "referral", "recipient": "jmd-rheine", "given_on": "2022-05-18"},
            headers=cm,
        )
    )
    step("referrals", {"service": "jmd", "recipient": "jmd-rheine", "on": "2022-05-18"})
    step("referrals", {"service": "job_centre", "recipient": "jmd-rheine", "on": "2022-05-18"})
    step("referrals/0/answer", {"accepted": True, "on": "2022-05-25"})
    step("referrals/1/answer", {"accepted": False, "on": "2022-05-25"})

    # -- monitoring: appointment, contact, note -------------------------------------------
    step("monitoring", {"on": "2022-06-01"})
    step("appointments", {"on": "2022-06-15", "kind": "follow_up"})
    step("appointments/0", {"outcome": "kept"})
    step("contacts", {"on": "2022-06-15", "channel": "in_person", "life_dimensions": ["language"]})
    step("notes", {"on": "2022-06-15", "text": "Frau Sorokina wartet auf den Kursbeginn."})
    step(
        "referrals/0/completion", {"outcome": "B1 course place from September", "on": "2022-07-01"}
    )

    # -- re-assessment loop: back into planning --------------------------------------------
    step("reassessment", {"on": "2022-09-01"})
    step("goals", {"goals": {"work_and_livelihood": "internship"}, "on": "2022-09-05"})
    step("linking", {"on": "2022-09-06"})
    step("monitoring", {"on": "2022-09-20"})
    seen = state()
    assert [h["state"] for h in seen["history"]] == [
        "intake", "assessment", "goal_agreement", "linking", "monitoring",
        "reassessment", "goal_agreement", "linking", "monitoring",
    ]  # fmt: skip
    assert seen["referrals"][0]["status"] == "completed"
    assert seen["referrals"][1]["referral_only"] is True  # SGB II: Verweisberatung
    assert seen["referrals"][1]["status"] == "rejected"
    assert seen["appointments"] == [{"on": "2022-06-15", "kind": "follow_up", "outcome": "kept"}]
    assert seen["notes"] == 1
    notes = ok(client.get(f"{url}/notes", headers=cm))
    assert notes == [{"on": "2022-06-15", "text": "Frau Sorokina wartet auf den Kursbeginn."}]
    assert ok(client.get(f"{url}/notes", headers=post)) == notes  # the supervising position
    for other in [auth("rheine", "coordinator"), auth("rheine", "coordinator", position=uuid4())]:
        # Rheine's other coordinators: the line runs from the post's coordination position,
        # so for them the case is not there at all (need to know)
        refused = client.get(f"{url}/notes", headers=other)
        assert_problem(refused, 404, "not-found")

    # -- a gap seen in the case reaches coordination (no personal data) ---------------------
    step(
        "gaps",
        {
            "life_dimension": "education",
            "description": "No B1 course with childcare in the area",
            "on": "2022-09-20",
        },
    )
    wait_for(
        lambda: "SystemGapRecorded" in types_in(platform, "rheine", "coordination"),
        "the gap in Rheine's coordination log",
    )

    # -- the person moves to Emsdetten -----------------------------------------------------
    for purpose in ("transfer", "data_handover"):
        ok(
            client.post(
                f"{RHEINE}/people/{person}/consents",
                json={"purpose": purpose, "recipient": "emsdetten", "given_on": "2022-10-01"},
                headers=cm,
            )
        )
    step("transfer", {"to_tenant": "emsdetten", "on": "2022-10-04"})
    origin = state()
    assert origin["state"] == "closed"
    assert origin["closure_reason"] == "transferred"
    assert origin["transferred_to"] == "emsdetten"

    em_post = auth("emsdetten", "coordinator")
    taken = wait_for(
        lambda: ok(client.get(f"{EMSDETTEN}/cases", headers=em_post)), "the case in Emsdetten"
    )
    (moved,) = taken
    assert moved["transferred_from"] == "rheine"
    assert moved["state"] == "goal_agreement"
    assert moved["goals"] == {"work_and_livelihood": None}  # lists show no free text
    assert moved["position_id"] is None
    em_position = note_position(platform, "emsdetten")
    ok(
        client.post(
            f"{EMSDETTEN}/cases/{moved['id']}/assignment",
            json={"position_id": str(em_position), "on": "2022-10-05"},
            headers=em_post,
        )
    )
    em_cm = auth("emsdetten", "case_manager", position=em_position)
    em_case = ok(client.get(f"{EMSDETTEN}/cases/{moved['id']}", headers=em_cm))
    assert em_case["goals"] == {"work_and_livelihood": "internship"}  # its case manager reads it
    em_person = ok(client.get(f"{EMSDETTEN}/people/{moved['person_id']}", headers=em_cm))
    assert em_person["personal_data"]["name"] == "Lina Sorokina"
    assert em_person["personal_data"]["arrival_on"] == "2022-04-01"
    for path, body in (
        ("linking", {"on": "2022-10-10"}),
        ("monitoring", {"on": "2022-10-20"}),
        ("closure", {"reason": "goals_reached", "on": "2023-03-31"}),
    ):
        ok(client.post(f"{EMSDETTEN}/cases/{moved['id']}/{path}", json=body, headers=em_cm))
    closed = ok(client.get(f"{EMSDETTEN}/cases/{moved['id']}", headers=em_cm))
    assert (closed["state"], closed["closure_reason"]) == ("closed", "goals_reached")
    # Each tenant's stream holds its own part; Rheine's origin case knows nothing more.
    assert "CaseTakenOver" in types_in(platform, "emsdetten", "case_management")
    assert "CaseTakenOver" not in types_in(platform, "rheine", "case_management")

    # -- erasure in Rheine: personal data gone, facts replay unchanged ------------------------
    assert state()["goals"] == {"work_and_livelihood": "internship"}
    # The facts: the case without its free texts (as everyone else sees it).
    rheine = CaseManagementApplication("rheine", platform.store.recorder, platform.vault)
    facts_before = CaseView.of(rheine.get_case(case)).model_dump(mode="json")
    caseload_before = ok(client.get(f"{RHEINE}/positions/{position}/caseload", headers=post))
    ok(client.post(f"{RHEINE}/people/{person}/erasure", json={"on": "2023-04-01"}, headers=post))
    erased = ok(client.get(f"{RHEINE}/people/{person}", headers=cm))
    assert erased["personal_data"] is None
    assert erased["erased_on"] == "2023-04-01"
    assert ok(client.get(f"{url}/notes", headers=cm)) == [{"on": "2022-06-15", "text": None}]
    assert state() == facts_before  # its case manager too: the free texts no longer open
    assert ok(client.get(f"{RHEINE}/positions/{position}/caseload", headers=post)) == (
        caseload_before
    )
    # A fresh application replays Rheine's log from the store to the same facts.
    replayed = CaseManagementApplication("rheine", platform.store.recorder, platform.vault)
    assert CaseView.of(replayed.get_case(case)).model_dump(mode="json") == facts_before
    assert replayed.personal_data(person) is None
    # Nowhere in any log is the name in clear text; Emsdetten's lawful copy still opens.
    for record in all_records(platform):
        assert b"Sorokina" not in record.state, record.event_type
        assert "Sorokina" not in json.dumps(record.to_json())
    em_again = ok(client.get(f"{EMSDETTEN}/people/{moved['person_id']}", headers=em_cm))
    assert em_again["personal_data"]["name"] == "Lina Sorokina"
    # Erasure changed no stored event: every hash chain is intact.
    verification = audit.verify(platform.store)
    assert verification.intact, verification.findings
    assert verification.events == sum(platform.store.heads().values())


def test_without_a_hand_over_consent_the_destination_gets_no_personal_data(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    """Without a hand-over consent the destination gets the summary and no personal data."""
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    person = register_person(client, cm, name="Omar K.")
    case = open_case(client, cm, person)
    url = f"{RHEINE}/cases/{case}"
    ok(
        client.post(
            f"{url}/assessment", json={"needs": {"health": "low"}, "on": "2022-05-03"}, headers=cm
        )
    )
    ok(
        client.post(
            f"{RHEINE}/people/{person}/consents",
            json={"purpose": "transfer", "recipient": "emsdetten", "given_on": "2022-05-03"},
            headers=cm,
        )
    )
    ok(
        client.post(
            f"{url}/transfer", json={"to_tenant": "emsdetten", "on": "2022-05-04"}, headers=cm
        )
    )
    em_post = auth("emsdetten", "coordinator")
    (moved,) = wait_for(
        lambda: ok(client.get(f"{EMSDETTEN}/cases", headers=em_post)), "the case in Emsdetten"
    )
    assert (moved["state"], moved["needs"]) == ("assessment", {"health": "low"})
    em_position = note_position(platform, "emsdetten")
    ok(
        client.post(
            f"{EMSDETTEN}/cases/{moved['id']}/assignment",
            json={"position_id": str(em_position), "on": "2022-05-05"},
            headers=em_post,
        )
    )
    em_cm = auth("emsdetten", "case_manager", position=em_position)
    seen = ok(client.get(f"{EMSDETTEN}/people/{moved['person_id']}", headers=em_cm))
    assert seen["personal_data"] == {}
    assert UUID(moved["person_id"]) != person  # a record of its own, not a shared one

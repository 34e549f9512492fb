"""A person moves from Rheine to Emsdetten: Rheine's office hands the procedure over to Kreis
Steinfurt's (which holds Emsdetten's office), on both stacks through the bus. Refusals:
without the person's consent, to a tenant that is not responsible, from a final state;
a redelivery changes nothing; only the destination's officers see the new procedure."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from contexts.immigration_office.domain import Procedure
from contexts.immigration_office.handover import derived_ids
from projections.immigration_office import application, procedure_contribution
from runtime.platform import Platform
from services.immigration_office.consumers import ProcedureHandOverIntake
from tests.immigration_office.support import IO, api_person, api_procedure, stepper
from tests.support import Auth, assert_problem, wait_for

MOVE = {"to_tenant": "kreis-steinfurt", "residence": "emsdetten", "on": "2025-02-10"}


def _procedure_waiting_for_documents(
    client: TestClient, officer: dict[str, str]
) -> tuple[str, str]:
    who = api_person(client, officer)
    pid = api_procedure(client, officer, who, "stag_10")
    step = stepper(client, officer, "rheine", pid)
    assert step("receive_application", "2025-02-01").status_code == 200
    check = {"check": "identity", "passed": True, "on": "2025-02-03"}
    assert client.post(f"{IO}/rheine/procedures/{pid}/checks", json=check,
                       headers=officer).status_code == 200  # fmt: skip
    assert step("request_documents", "2025-02-04", due_on="2025-03-15").status_code == 200
    return who, pid


def _consent(client: TestClient, officer: dict[str, str], who: str, recipient: str) -> None:
    body = {"purpose": "hand_over", "recipient": recipient, "given_on": "2025-02-09"}
    r = client.post(f"{IO}/rheine/people/{who}/consents", json=body, headers=officer)
    assert r.status_code == 200, r.text


def test_rheines_office_hands_a_procedure_over_to_kreis_steinfurts_when_the_person_moves(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    officer = auth("rheine", "immigration_officer")
    district = auth("kreis-steinfurt", "immigration_officer")
    who, pid = _procedure_waiting_for_documents(client, officer)
    url = f"{IO}/rheine/procedures/{pid}/hand-over"
    heads = platform.store.heads()
    assert_problem(client.post(url, json=MOVE, headers=officer), 422, "consent-missing")
    _consent(client, officer, who, "rheine")  # a consent to another recipient does not count
    heads = platform.store.heads()
    assert_problem(client.post(url, json=MOVE, headers=officer), 422, "consent-missing")
    wrong = client.post(url, json={**MOVE, "to_tenant": "emsdetten"}, headers=officer)
    assert assert_problem(wrong, 422, "wrong-tenant")["responsible"] == "kreis-steinfurt"
    home = client.post(url, json={**MOVE, "residence": "rheine"}, headers=officer)
    assert_problem(home, 422, "hand-over-to-self")
    assert platform.store.heads() == heads  # nothing appended by a refusal

    _consent(client, officer, who, "kreis-steinfurt")
    version = client.get(f"{IO}/rheine/procedures/{pid}", headers=officer).json()["version"]
    keyed = {**officer, "Idempotency-Key": f"hand-over-{uuid4()}"}
    done = client.post(url, json={**MOVE, "expected_version": version}, headers=keyed)
    assert done.status_code == 200, done.text
    assert [e["type"] for e in done.json()["events"]] == ["ProcedureHandedOver"]
    replay = client.post(url, json={**MOVE, "expected_version": version}, headers=keyed)
    assert replay.status_code == 200
    assert replay.json()["events"] == done.json()["events"]

    origin = client.get(f"{IO}/rheine/procedures/{pid}", headers=officer).json()
    assert (origin["state"], origin["allowed_steps"]) == ("handed_over", [])
    assert origin["handed_over_to"] == "kreis-steinfurt"
    assert origin["documents_due"] is None
    again = client.post(url, json=MOVE, headers=officer)
    assert assert_problem(again, 409, "transition-not-allowed")["facts"]["state"] == "handed_over"

    new_id, person_id = derived_ids("rheine", UUID(pid), who)
    at_destination = f"{IO}/kreis-steinfurt/procedures/{new_id}"

    def taken_over() -> dict[str, Any] | None:
        r = client.get(at_destination, headers=district)
        return r.json() if r.status_code == 200 else None

    view = wait_for(taken_over, "the procedure at Kreis Steinfurt's office")
    assert (view["state"], view["legal_basis"], view["residence"]) == (
        "documents_requested", "stag_10", "emsdetten",
    )  # fmt: skip
    assert (view["opened_on"], view["applied_on"], view["documents_due"]) == (
        "2025-01-10", "2025-02-01", "2025-03-15",
    )  # fmt: skip
    assert [(c["check"], c["passed"], c["note"]) for c in view["checks"]] == [
        ("identity", True, None)
    ]
    assert view["open_requirements"] == ["documents"]
    assert view["taken_over"]["tenant"] == "rheine"
    assert view["taken_over"]["procedure"] == pid
    assert view["person_id"] == str(person_id)
    person = client.get(f"{IO}/kreis-steinfurt/people/{person_id}", headers=district).json()
    assert person["personal_data"]["name"] == "Demo-Person Z. Q."
    assert person["procedures"] == [str(new_id)]
    due = client.get(f"{IO}/kreis-steinfurt/due?within_days=60&today=2025-02-10",
                     headers=district).json()  # fmt: skip
    assert [(d["procedure_id"], d["due_on"], d["what"]) for d in due] == [
        (str(new_id), "2025-03-15", "documents")
    ]
    rheine_due = client.get(f"{IO}/rheine/due?within_days=60&today=2025-02-10", headers=officer)
    assert pid not in {d["procedure_id"] for d in rheine_due.json()}

    # Only the destination's officers see the new procedure.
    assert_problem(client.get(at_destination, headers=officer), 403, "tenant-not-allowed")
    for role in ("case_manager", "coordinator", "district_coordinator"):
        r = client.get(at_destination, headers=auth("kreis-steinfurt", role))
        assert_problem(r, 403, "role-not-allowed")
    assert_problem(client.get(f"{IO}/emsdetten/procedures/{new_id}",
                              headers=auth("emsdetten", "immigration_officer")),
                   404, "not-found")  # fmt: skip

    # The one-time key is destroyed; a redelivered hand-over changes nothing.
    (record,) = [
        r for r in platform.store.read_log("rheine", "immigration_office",
                                           topics=[get_topic(Procedure.HandedOver)])
        if str(r.originator_id) == pid
    ]  # fmt: skip
    event = application(platform, "rheine").mapper.to_domain_event(record.to_stored_event())
    assert isinstance(event, Procedure.HandedOver)
    assert event.sealed_for_destination is not None
    assert b"Demo-Person" not in record.state
    assert platform.vault.open("kreis-steinfurt", event.transfer_id,
                               event.sealed_for_destination) is None  # fmt: skip
    assert event.facts["rule_version"] == "stag_10@2024-06-27"
    assert event.facts["requirements_met"] == ["identity"]
    heads = platform.store.heads()
    intake = ProcedureHandOverIntake(platform.store, lambda t: application(platform, t))
    intake.handle(record)
    assert not application(platform, "kreis-steinfurt").take_over(
        from_tenant="rheine", from_procedure=UUID(pid), transfer_id=event.transfer_id,
        residence="emsdetten", facts=event.facts, sealed=event.sealed_for_destination,
        on=date.fromisoformat(event.on),
    )  # fmt: skip
    assert platform.store.heads() == heads


def test_a_handed_over_procedure_counts_as_handed_over_not_as_decided() -> None:
    origin = {"kind": "naturalisation", "legal_basis": "stag_10", "state": "handed_over",
              "opened_on": "2025-01-10", "applied_on": "2025-02-01", "decided_on": None,
              "outcome": None, "closed_on": "2025-02-10"}  # fmt: skip
    counted = procedure_contribution("Procedure", origin)
    assert counted["handed_over:naturalisation:2025-02"] == 1
    assert not [k for k in counted if k.startswith(("decided:", "days:", "backlog:"))]
    destination = {
        **origin,
        "state": "documents_requested",
        "closed_on": None,
        "taken_over": {"tenant": "rheine", "on": "2025-02-10", "decided_on": None},
    }
    counted = procedure_contribution("Procedure", destination)
    assert counted["taken_over:naturalisation:2025-02"] == 1
    assert counted["backlog:naturalisation:2025-02"] == 1
    assert not [k for k in counted if k.startswith(("opened:", "applied:", "decided:"))]

"""Integration achievements recorded on a case, shared with the office only under consent,
across the two contexts through the bus, on both stacks.

Recorded with the person's consent for ``achievements`` to the office's tenant: shared in the
same transaction, and the office's requirement check passes. Recorded without it, or after
its revocation: on the case only, nothing reaches the office (checked once every consumer
is level with the logs). Recorded before consent and shared once it is given, by naming the
case and the achievement's place on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from contexts.case_management.intake import intake_id
from runtime.platform import Platform
from tests.case_support import CM, demo_position, ok, open_case, register_person
from tests.conftest import settle
from tests.immigration_office.support import IO, api_checks, api_person, api_procedure, stepper
from tests.support import Auth, assert_problem, wait_for

RHEINE_CM = CM.format(tenant="rheine")
B1 = {"kind": "language_certificate", "level": "B1", "achieved_on": "2025-02-20"}
Headers = dict[str, str]


@dataclass(frozen=True)
class Referred:
    """A procedure of Rheine's office whose person case management accepted, with a case."""

    procedure: str
    intake: UUID
    person: UUID
    case: UUID
    officer: Headers
    manager: Headers


def _post(client: TestClient, url: str, body: dict[str, Any], headers: Headers) -> Any:
    return ok(client.post(url, json=body, headers=headers))


def referred(client: TestClient, auth: Auth, platform: Platform) -> Referred:
    """Office counselling, referral with consent, acceptance, a case; the office's other
    checks passed, so only the language level is open."""
    officer = auth("rheine", "immigration_officer")
    manager = auth("rheine", "case_manager", position=demo_position(platform))
    who = api_person(client, officer, resident_since="2019-03-01")
    pid = api_procedure(client, officer, who, "stag_10", opened_on="2025-01-10")
    _post(client, f"{IO}/rheine/people/{who}/consents",
          {"recipient": "rheine", "given_on": "2025-01-11"}, officer)  # fmt: skip
    referral = client.post(
        f"{IO}/rheine/procedures/{pid}/referrals", json={"on": "2025-01-11"}, headers=officer
    )
    assert referral.status_code == 201, referral.text
    view = ok(client.get(f"{IO}/rheine/procedures/{pid}", headers=officer))
    rid = intake_id("rheine", view["referrals"][0]["referral_id"])
    url = f"{RHEINE_CM}/intake-requests/{rid}"
    wait_for(lambda: client.get(url, headers=manager).status_code == 200, "the intake request")
    person = register_person(client, manager, consent_on="2025-01-12")
    _post(client, f"{url}/acceptance", {"person_id": str(person), "on": "2025-01-13"}, manager)
    case = open_case(client, manager, person, opened_on="2025-01-13")
    step = stepper(client, officer, "rheine", pid)
    for s, on in (("receive_application", "2025-01-20"), ("complete_documents", "2025-01-21"),
                  ("start_checks", "2025-01-22")):  # fmt: skip
        assert step(s, on).status_code == 200
    api_checks(client, officer, "rheine", pid, "2025-01-23", skip=("language",))
    return Referred(pid, rid, person, case, officer, manager)


def consent(client: TestClient, r: Referred, **dates: str) -> None:
    """``given_on=...`` gives the consent for achievements to Rheine, ``revoked_on=...``
    revokes it."""
    path = "consents/revocation" if "revoked_on" in dates else "consents"
    body = {"purpose": "achievements", "recipient": "rheine", **dates}
    _post(client, f"{RHEINE_CM}/people/{r.person}/{path}", body, r.manager)


def record(client: TestClient, r: Referred, body: dict[str, Any]) -> Any:
    return _post(client, f"{RHEINE_CM}/cases/{r.case}/achievements", body, r.manager)


def office_view(client: TestClient, r: Referred) -> Any:
    return ok(client.get(f"{IO}/rheine/procedures/{r.procedure}", headers=r.officer))


def language_checks(client: TestClient, r: Referred) -> list[Any]:
    return [c for c in office_view(client, r)["checks"] if c["check"] == "language"]


def test_recorded_with_consent_it_is_shared_and_the_offices_check_passes(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    r = referred(client, auth, platform)
    assert "language:B1" in office_view(client, r)["open_requirements"]
    consent(client, r, given_on="2025-03-01")
    answer = record(client, r, {**B1, "on": "2025-03-02"})
    assert answer["shared_with"] == ["rheine"]
    types = [(e["type"], e["aggregate_id"]) for e in answer["events"]]
    assert types == [("CaseAchievementRecorded", str(r.case)),
                     ("IntakeRequestAchievementShared", str(r.intake))]  # fmt: skip
    assert len({e["position"] for e in answer["events"]}) == 2  # one append, two events
    case = ok(client.get(f"{RHEINE_CM}/cases/{r.case}", headers=r.manager))
    assert case["achievements"] == [{**B1, "on": "2025-03-02"}]

    def passed() -> bool:
        return "language:B1" not in office_view(client, r)["open_requirements"]

    assert wait_for(passed, "the recorded B1 certificate in the office's checks")
    granted = stepper(client, r.officer, "rheine", r.procedure)("grant", "2025-06-02")
    assert granted.status_code == 200, granted.text


def test_recorded_without_consent_it_stays_on_the_case_until_consent_is_given(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    r = referred(client, auth, platform)
    answer = record(client, r, {**B1, "on": "2025-03-02"})
    assert answer["shared_with"] == []
    assert [e["type"] for e in answer["events"]] == ["CaseAchievementRecorded"]
    employment = {"kind": "employment", "achieved_on": "2025-03-01", "on": "2025-03-03"}
    assert record(client, r, employment)["shared_with"] == []
    case = ok(client.get(f"{RHEINE_CM}/cases/{r.case}", headers=r.manager))
    assert [a["kind"] for a in case["achievements"]] == ["language_certificate", "employment"]
    settle(platform)
    assert language_checks(client, r) == []
    assert "language:B1" in office_view(client, r)["open_requirements"]
    intake = ok(client.get(f"{RHEINE_CM}/intake-requests/{r.intake}", headers=r.manager))
    assert intake["achievements"] == []

    # Consent given later: the explicit share names the case and the achievement's place.
    share = f"{RHEINE_CM}/intake-requests/{r.intake}/achievements"
    earlier = {"case_id": str(r.case), "achievement": 0, "on": "2025-04-01"}
    head = platform.store.heads()
    assert_problem(client.post(share, json=earlier, headers=r.manager), 422, "consent-missing")
    assert platform.store.heads() == head
    consent(client, r, given_on="2025-04-01")
    shared = _post(client, share, earlier, r.manager)
    assert [e["type"] for e in shared["events"]] == ["IntakeRequestAchievementShared"]
    again = client.post(share, json=earlier, headers=r.manager)
    assert_problem(again, 409, "achievement-shared")
    missing = client.post(share, json={**earlier, "achievement": 5}, headers=r.manager)
    assert_problem(missing, 422, "no-such-achievement")
    assert platform.store.heads() != head

    def passed() -> bool:
        return "language:B1" not in office_view(client, r)["open_requirements"]

    assert wait_for(passed, "the B1 certificate shared after consent")
    assert [c["level"] for c in language_checks(client, r)] == ["B1"]


def test_after_the_consent_is_revoked_an_achievement_is_recorded_and_nothing_crosses(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    r = referred(client, auth, platform)
    consent(client, r, given_on="2025-03-01")
    consent(client, r, revoked_on="2025-03-10")
    answer = record(client, r, {**B1, "on": "2025-03-11"})
    assert answer["shared_with"] == []
    assert [e["type"] for e in answer["events"]] == ["CaseAchievementRecorded"]
    # A consent that was valid on an earlier day does not matter: the recording day counts.
    case = ok(client.get(f"{RHEINE_CM}/cases/{r.case}", headers=r.manager))
    assert case["achievements"] == [{**B1, "on": "2025-03-11"}]
    settle(platform)
    assert language_checks(client, r) == []
    intake = ok(client.get(f"{RHEINE_CM}/intake-requests/{r.intake}", headers=r.manager))
    assert intake["achievements"] == []

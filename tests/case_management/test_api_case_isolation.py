"""Case management over REST: other tenants, roles and positions are refused, nothing leaks.

Every endpoint against tokens of other tenants and roles, the assigned position within the
tenant, and ids that do not exist (not revealed to other tenants).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.case_api import (
    CASE_MANAGER,
    COORDINATORS,
    STAFF,
    Api,
    Body,
    Headers,
    day,
)
from tests.case_support import demo_position, note_position, rheine_coordination_position
from tests.support import Auth, assert_problem


@pytest.fixture
def api(client: TestClient, platform: Platform) -> Api:
    return Api(client, platform)


@pytest.fixture
def cm(platform: Platform, auth: Auth) -> Headers:
    """The case manager of the demo position (Rheine, supervised by Rheine's post)."""
    return auth("rheine", CASE_MANAGER, position=demo_position(platform))


# -- 3. other tenants, other roles, other positions ---------------------------------------
# (method, path, body, roles the endpoint is for); {case}, {person}, {position} filled in.
Endpoint = tuple[str, str, Body | None, set[str]]
WORKER = {CASE_MANAGER}  # with a position claim
ENDPOINTS: list[Endpoint] = [
    ("GET", "/people/{person}", None, STAFF),
    ("GET", "/cases", None, STAFF),
    ("GET", "/cases/{case}", None, STAFF),
    ("GET", "/cases/{case}/notes", None, STAFF),
    ("POST", "/people", {"personal_data": {"name": "Eva M."}}, WORKER),
    ("PUT", "/people/{person}/personal-data", {"personal_data": {"name": "X"}}, WORKER),
    ("POST", "/people/{person}/consents",
     {"purpose": "referral", "recipient": "mbe", "given_on": day(9)}, WORKER),
    ("POST", "/people/{person}/erasure", {"on": day(9)}, WORKER),
    ("PUT", "/settings", {"approvals": []}, COORDINATORS),
    ("POST", "/cases",
     {"person_id": "{person}", "referral_source": "school", "opened_on": day(9)}, WORKER),
    ("POST", "/cases/{case}/assessment", {"needs": {"health": "low"}, "on": day(9)}, WORKER),
    ("POST", "/cases/{case}/goals", {"goals": {"health": "GP"}, "on": day(9)}, WORKER),
    ("POST", "/cases/{case}/linking", {"on": day(9)}, WORKER),
    ("POST", "/cases/{case}/monitoring", {"on": day(9)}, WORKER),
    ("POST", "/cases/{case}/reassessment", {"on": day(9)}, WORKER),
    ("POST", "/cases/{case}/closure", {"reason": "ended_by_person", "on": day(9)}, WORKER),
    ("POST", "/cases/{case}/approvals",
     {"step": "goal_agreement", "approved": True, "on": day(9)}, COORDINATORS),
    ("POST", "/cases/{case}/referrals",
     {"service": "mbe", "recipient": "mbe", "on": day(9)}, WORKER),
    ("POST", "/cases/{case}/assignment", {"position_id": "{position}", "on": day(9)}, STAFF),
    ("POST", "/cases/{case}/appointments", {"on": day(9), "kind": "follow_up"}, WORKER),
    ("POST", "/cases/{case}/contacts", {"on": day(9), "channel": "phone"}, WORKER),
    ("POST", "/cases/{case}/notes", {"on": day(9), "text": "called"}, WORKER),
    ("POST", "/cases/{case}/gaps",
     {"life_dimension": "education", "description": "no course", "on": day(9)}, WORKER),
    ("POST", "/cases/{case}/achievements",
     {"kind": "employment", "achieved_on": day(9), "on": day(9)}, WORKER),
    ("POST", "/cases/{case}/transfer", {"to_tenant": "emsdetten", "on": day(9)}, WORKER),
]  # fmt: skip


def fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


def outsider_rule(template: str, endpoint_roles: set[str], token_roles: set[str]) -> str:
    """What a token of another tenant is told."""
    if not token_roles & endpoint_roles:
        return "role-not-allowed"
    if token_roles & COORDINATORS and template.endswith("/approvals"):
        return "not-the-supervising-post"  # a coordinator may supervise another's position
    if token_roles & COORDINATORS and template == "/people/{person}":
        return "personal-data-not-allowed"  # as for a supervising post that is not this one's
    return "tenant-not-allowed"


def test_other_tenants_reach_neither_people_nor_cases_of_rheine(
    api: Api, cm: Headers, platform: Platform, auth: Auth
) -> None:
    position = demo_position(platform)
    person, case = api.case_in(cm, "linking")
    api.ok(f"/cases/{case}/notes", cm, {"on": day(4), "text": "Lina prefers mornings"})
    # the consents are there: a refusal must come from access, not from a missing consent
    api.consent(cm, person, "referral", "mbe", day(4))
    api.consent(cm, person, "transfer", "emsdetten", day(4))
    ids = {"case": str(case), "person": str(person), "position": str(position)}
    outsiders: list[tuple[str, tuple[str, ...], UUID | None]] = [
        ("aachen", ("coordinator",), None),
        ("aachen", (CASE_MANAGER,), position),  # claiming rheine's position
        ("aachen", ("steering_member", "auditor", "immigration_officer"), None),
        ("staedteregion-aachen", ("district_coordinator",), None),
        ("kreis-steinfurt", ("district_coordinator",), None),  # aggregates only, no cases
        ("kreis-steinfurt", ("coordinator",), None),
        ("kreis-steinfurt", (CASE_MANAGER,), position),  # the district created the position
        ("emsdetten", ("coordinator",), None),
        ("emsdetten", (CASE_MANAGER,), note_position(platform, "emsdetten")),
        ("nrw", ("district_coordinator", "platform_admin"), None),
    ]
    before = platform.store.heads()
    for tenant, roles, claim in outsiders:
        headers = auth(tenant, *roles, position=claim)
        for method, template, body, endpoint_roles in ENDPOINTS:
            response = api.send(method, fill(template, ids), headers, fill(body, ids))
            rule = outsider_rule(template, endpoint_roles, set(roles))
            try:
                assert_problem(response, 403, rule)
            except AssertionError as e:
                raise AssertionError(f"{tenant} {roles} {method} {template}: {e}") from None
            assert "Lina" not in response.text
            assert "mornings" not in response.text
    assert platform.store.heads() == before
    after = api.case(cm, case)
    assert (after["state"], after["notes"], after["referrals"]) == ("linking", 1, [])
    assert api.ok(f"/people/{person}", cm)["personal_data"]["name"] == "Lina Sommer"


def same_problem(response: Any, missing: Any, found_id: str, missing_id: str) -> None:
    """Two answers that tell nothing apart: the same problem but for the id in the detail."""
    seen, absent = response.json(), missing.json()
    assert seen["detail"].replace(found_id, "<id>") == absent["detail"].replace(missing_id, "<id>")
    drop = {"detail", "instance", "facts"}
    assert {k: v for k, v in seen.items() if k not in drop} == {
        k: v for k, v in absent.items() if k not in drop
    }


def test_within_rheine_a_case_is_for_its_position_and_its_supervisor_only(
    api: Api, cm: Headers, platform: Platform, auth: Auth
) -> None:
    """Need to know: on every endpoint of a case, the tenant's other case managers and the
    coordinators who do not supervise its position are answered as for a case that does not
    exist (404), so a case id is neither read nor confirmed."""
    person, case = api.case_in(cm, "linking")
    missing = uuid4()
    ids = {"case": str(case), "person": str(person), "position": str(uuid4())}
    absent = {**ids, "case": str(missing)}
    colleague = auth("rheine", CASE_MANAGER, position=note_position(platform, "rheine"))
    no_claim = auth("rheine", CASE_MANAGER)
    # The demo line runs from Rheine's coordination position: Rheine's other coordinators.
    coordinators = [auth("rheine", "coordinator"), auth("rheine", "coordinator", position=uuid4())]
    of_case = [e for e in ENDPOINTS if e[1].startswith("/cases/{case}")]
    assert len(of_case) == 17  # the case, its notes, and 15 commands
    for method, template, body, roles in of_case:
        path, filled = fill(template, ids), fill(body, ids)
        gone, gone_body = fill(template, absent), fill(body, absent)
        approval = template.endswith("/approvals")
        for headers, hidden in [
            (colleague, not approval),
            *((c, roles != WORKER) for c in coordinators),
        ]:
            if hidden:
                problem = api.refused(path, headers, 404, "not-found", filled, method=method)
                assert "Lina" not in str(problem)
                missing_answer = api.send(method, gone, headers, gone_body)
                same_problem(
                    api.send(method, path, headers, filled), missing_answer, str(case), str(missing)
                )
            else:
                api.refused(path, headers, 403, "role-not-allowed", filled, method=method)
        rule = "role-not-allowed" if approval else "position-claim-missing"
        api.refused(path, no_claim, 403, rule, filled, method=method)
    api.refused(f"/people/{person}", colleague, 403, "personal-data-not-allowed")
    new = {"personal_data": {"name": "Eva M."}}
    api.refused("/people", no_claim, 403, "position-claim-missing", new)
    for role in ["steering_member", "auditor"]:
        api.refused(f"/people/{person}", auth("rheine", role), 403, "personal-data-not-allowed")
        api.refused(f"/cases/{case}", auth("rheine", role), 403, "role-not-allowed")
    # The assigned position's case manager and the supervising post read it.
    post = auth("rheine", "coordinator", position=rheine_coordination_position(platform))
    assert api.case(cm, case)["state"] == api.case(post, case)["state"] == "linking"
    notes = api.send("GET", f"/cases/{case}/notes", cm, None)
    assert (notes.status_code, notes.json()) == (200, [])
    # Nothing of it shows in the colleague's list either.
    listed = api.send("GET", "/cases", colleague, None)
    assert (listed.status_code, listed.json()) == (200, [])


def test_a_case_or_person_that_does_not_exist_is_not_revealed_to_other_tenants(
    api: Api, platform: Platform, auth: Auth
) -> None:
    missing = uuid4()
    aachen = auth("aachen", "coordinator")
    aachen_cm = auth("aachen", CASE_MANAGER, position=demo_position(platform))
    district = auth("kreis-steinfurt", "district_coordinator")
    for path, headers in [
        (f"/cases/{missing}", aachen),
        (f"/cases/{missing}/notes", aachen),
        (f"/people/{missing}", aachen),
        (f"/cases/{missing}", district),
        (f"/people/{missing}", district),
        (f"/cases/{missing}", aachen_cm),
    ]:
        api.refused(path, headers, 403, "tenant-not-allowed")
    approve = {"step": "closure", "approved": True, "on": day(1)}
    api.refused(f"/cases/{missing}/approvals", aachen, 403, "tenant-not-allowed", approve)
    assess = {"needs": {"health": "low"}, "on": day(1)}
    api.refused(f"/cases/{missing}/assessment", aachen_cm, 403, "tenant-not-allowed", assess)
    # rheine's own coordinator is told it does not exist
    api.refused(f"/cases/{missing}", auth("rheine", "coordinator"), 404, "not-found")

"""Case management over REST: every refusal is a problem with its rule and appends nothing.

The case cycle's forbidden transitions, missing consents, other tenants, roles and
positions, the supervising post's approvals, bad input and the caseload limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi.testclient import TestClient

from services.runtime.platform import Platform
from tests.case_support import CM, demo_position, note_position, ok, open_case, register_person
from tests.support import Auth, assert_problem

RHEINE = CM.format(tenant="rheine")
OPENED = date(2022, 5, 2)  # open_case's default day
CASE_MANAGER = "case_manager"
COORDINATORS = {"coordinator", "district_coordinator"}
STAFF = {CASE_MANAGER, *COORDINATORS}
Body = dict[str, Any]
Headers = dict[str, str]

# The case cycle as the programme describes it: the steps allowed from each state.
ALLOWED = {
    "intake": {"assessment", "closed"},
    "assessment": {"goal_agreement", "closed"},
    "goal_agreement": {"linking", "closed"},
    "linking": {"monitoring", "closed"},
    "monitoring": {"reassessment", "closed"},
    "reassessment": {"goal_agreement", "closed"},
    "closed": set(),
}
# The endpoint and body of the step into each state ("on" is added per call).
STEPS: dict[str, tuple[str, Body]] = {
    "assessment": ("assessment", {"needs": {"language": "high", "housing": "medium"}}),
    "goal_agreement": ("goals", {"goals": {"language": "B1 course started"}}),
    "linking": ("linking", {}),
    "monitoring": ("monitoring", {}),
    "reassessment": ("reassessment", {}),
    "closed": ("closure", {"reason": "ended_by_person"}),
}
CYCLE = ["assessment", "goal_agreement", "linking", "monitoring", "reassessment"]


def day(n: int) -> str:
    """The n-th day after the case opened, as the API takes it."""
    return (OPENED + timedelta(days=n)).isoformat()


def error_fields(problem: Body) -> set[str]:
    return {e["field"] for e in problem.get("errors") or []}


@dataclass(frozen=True)
class Api:
    """Rheine's case management over REST; paths are relative to the tenant."""

    client: TestClient
    platform: Platform

    def send(self, method: str, path: str, headers: Headers, body: Body | None) -> httpx.Response:
        response: httpx.Response = self.client.request(
            method, f"{RHEINE}{path}", json=body, headers=headers
        )
        return response

    def ok(self, path: str, headers: Headers, body: Body | None = None, method: str = "") -> Body:
        found: Body = ok(
            self.send(method or ("POST" if body is not None else "GET"), path, headers, body)
        )
        return found

    def refused(
        self, path: str, headers: Headers, status: int, rule: str, body: Body | None = None,
        method: str = "",
    ) -> Body:  # fmt: skip
        """The problem, after checking no log moved (POST with a body, GET without)."""
        before = self.platform.store.heads()
        response = self.send(method or ("POST" if body else "GET"), path, headers, body)
        problem = assert_problem(response, status, rule)
        assert self.platform.store.heads() == before, f"{path} appended"
        return problem

    def step(self, headers: Headers, case: UUID, to: str, on: str) -> Body:
        path, body = STEPS[to]
        return self.ok(f"/cases/{case}/{path}", headers, {**body, "on": on})

    def case(self, headers: Headers, case: UUID) -> Body:
        return self.ok(f"/cases/{case}", headers)

    def consent(self, cm: Headers, person: UUID, purpose: str, recipient: str, on: str) -> None:
        body = {"purpose": purpose, "recipient": recipient, "given_on": on}
        self.ok(f"/people/{person}/consents", cm, body)

    def case_in(self, cm: Headers, state: str, name: str = "Lina Sommer") -> tuple[UUID, UUID]:
        """A person and their case (assigned to the caller's position) driven into ``state``,
        one step a day: the n-th step on ``day(n)``."""
        person = register_person(self.client, cm, name=name)
        case = open_case(self.client, cm, person)
        paths = {"intake": [], "closed": ["closed"]}
        path = paths[state] if state in paths else CYCLE[: CYCLE.index(state) + 1]
        for n, to in enumerate(path, start=1):
            self.step(cm, case, to, day(n))
        assert self.case(cm, case)["state"] == state
        return person, case


@pytest.fixture
def api(client: TestClient, platform: Platform) -> Api:
    return Api(client, platform)


@pytest.fixture
def cm(platform: Platform, auth: Auth) -> Headers:
    """The case manager of the demo position (Rheine, supervised by Rheine's post)."""
    return auth("rheine", CASE_MANAGER, position=demo_position(platform))


# -- 1. the case cycle -------------------------------------------------------------------
@pytest.mark.parametrize("state", list(ALLOWED))
def test_every_forbidden_transition_of_the_case_cycle_is_refused(
    api: Api, cm: Headers, state: str
) -> None:
    _, case = api.case_in(cm, state)
    version = api.case(cm, case)["version"]
    forbidden = sorted(set(STEPS) - ALLOWED[state])
    assert forbidden
    for to in forbidden:
        path, body = STEPS[to]
        problem = api.refused(
            f"/cases/{case}/{path}", cm, 422, "transition-not-allowed", {**body, "on": day(30)}
        )
        assert problem["facts"] == {"current": state, "requested": to}
        assert error_fields(problem) == {"state"}
    after = api.case(cm, case)
    assert (after["state"], after["version"]) == (state, version)


def test_closure_needs_reached_goals_and_steps_keep_their_order(api: Api, cm: Headers) -> None:
    _, case = api.case_in(cm, "intake")
    closure = f"/cases/{case}/closure"
    for n, state in enumerate(["intake", "assessment", "goal_agreement"]):
        if n:
            api.step(cm, case, state, day(n))
        reached = {"reason": "goals_reached", "on": day(10)}
        problem = api.refused(closure, cm, 422, "no-goals-to-reach", reached)
        assert error_fields(problem) == {"reason"}
    # in goal_agreement since day 2: nothing may be dated before it
    problem = api.refused(
        f"/cases/{case}/linking", cm, 422, "date-before-last-step", {"on": day(1)}
    )
    assert error_fields(problem) == {"on"}
    ended = {"reason": "ended_by_person", "on": day(0)}
    api.refused(closure, cm, 422, "date-before-last-step", ended)
    transferred = {"reason": "transferred", "on": day(3)}
    api.refused(closure, cm, 422, "transfer-closes-itself", transferred)
    api.step(cm, case, "linking", day(2))  # the day of the last step itself is fine
    api.ok(closure, cm, {"reason": "goals_reached", "on": day(3)})
    closed = api.case(cm, case)
    assert (closed["state"], closed["closure_reason"]) == ("closed", "goals_reached")


# -- 2. consents -------------------------------------------------------------------------
def test_referral_transfer_and_opening_need_the_persons_consent(api: Api, cm: Headers) -> None:
    person, case = api.case_in(cm, "linking")
    referrals = f"/cases/{case}/referrals"
    referral = {"service": "jmd", "recipient": "jmd-rheine", "on": day(4)}

    problem = api.refused(referrals, cm, 422, "consent-missing", referral)
    assert problem["facts"] == {"purpose": "referral", "recipient": "jmd-rheine"}
    api.consent(cm, person, "referral", "mbe-rheine", day(4))  # another recipient's
    api.consent(cm, person, "transfer", "jmd-rheine", day(4))  # another purpose's
    api.refused(referrals, cm, 422, "consent-missing", referral)
    api.consent(cm, person, "referral", "jmd-rheine", day(4))
    api.ok(referrals, cm, referral)
    revoke = {"purpose": "referral", "recipient": "jmd-rheine", "revoked_on": day(5)}
    api.ok(f"/people/{person}/consents/revocation", cm, revoke)
    api.refused(referrals, cm, 422, "consent-missing", {**referral, "on": day(5)})
    assert len(api.case(cm, case)["referrals"]) == 1

    api.consent(cm, person, "referral", "emsdetten", day(5))  # not a transfer consent
    move = {"to_tenant": "emsdetten", "on": day(6)}
    problem = api.refused(f"/cases/{case}/transfer", cm, 422, "consent-missing", move)
    assert problem["facts"] == {"purpose": "transfer", "recipient": "emsdetten"}
    assert api.case(cm, case)["state"] == "linking"

    # registered, consenting to case management in emsdetten, not in rheine
    data = {"personal_data": {"name": "Omid K.", "arrival_on": "2022-01-10"}}
    newcomer = UUID(ok(api.send("POST", "/people", cm, data), 201)["events"][0]["aggregate_id"])
    api.consent(cm, newcomer, "case_management", "emsdetten", "2022-05-01")
    opening = {"person_id": str(newcomer), "referral_source": "self_referral", "opened_on": day(0)}
    problem = api.refused("/cases", cm, 422, "consent-missing", opening)
    assert problem["facts"] == {"purpose": "case_management", "recipient": "rheine"}
    assert api.ok(f"/people/{newcomer}", cm)["cases"] == []


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


def test_within_rheine_only_the_assigned_position_works_on_the_case(
    api: Api, cm: Headers, platform: Platform, auth: Auth
) -> None:
    person, case = api.case_in(cm, "linking")
    ids = {"case": str(case), "person": str(person), "position": str(uuid4())}
    colleague = auth("rheine", CASE_MANAGER, position=note_position(platform, "rheine"))
    no_claim = auth("rheine", CASE_MANAGER)
    commands = [e for e in ENDPOINTS if e[0] == "POST" and e[1].startswith("/cases/{case}/")]
    assert len(commands) == 14
    for _, template, body, _ in commands:
        path, filled = fill(template, ids), fill(body, ids)
        approval = template.endswith("/approvals")
        rule = "role-not-allowed" if approval else "not-assigned-to-you"
        api.refused(path, colleague, 403, rule, filled)
        rule = "role-not-allowed" if approval else "position-claim-missing"
        api.refused(path, no_claim, 403, rule, filled)
    for path in [f"/people/{person}", f"/cases/{case}/notes"]:
        api.refused(path, colleague, 403, "personal-data-not-allowed")
    new = {"personal_data": {"name": "Eva M."}}
    api.refused("/people", no_claim, 403, "position-claim-missing", new)
    for role in ["steering_member", "auditor"]:
        api.refused(f"/people/{person}", auth("rheine", role), 403, "personal-data-not-allowed")
        api.refused(f"/cases/{case}", auth("rheine", role), 403, "role-not-allowed")
    # case facts (pseudonymous) are for the tenant's staff; the personal data is not
    assert api.case(colleague, case)["state"] == "linking"
    notes = api.send("GET", f"/cases/{case}/notes", cm, None)
    assert (notes.status_code, notes.json()) == (200, [])


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


# -- 4. approvals by the supervising post --------------------------------------------------
def test_goal_agreement_and_closure_wait_for_the_supervising_posts_approval(
    api: Api, cm: Headers, auth: Auth
) -> None:
    post = auth("rheine", "coordinator")
    api.ok("/settings", post, {"approvals": ["goal_agreement", "closure"]}, method="PUT")
    _, case = api.case_in(cm, "assessment")
    approvals = f"/cases/{case}/approvals"
    yes = {"step": "goal_agreement", "approved": True, "on": day(3)}
    no = {**yes, "approved": False, "reason": "the housing goal is missing"}

    def blocked(rule: str, on: str, *states: str) -> None:
        for state in states:
            path, body = STEPS[state]
            api.refused(f"/cases/{case}/{path}", cm, 422, rule, {**body, "on": on})

    api.refused(approvals, post, 422, "nothing-to-approve", yes)
    api.step(cm, case, "goal_agreement", day(2))
    assert api.case(cm, case)["pending_approval"] == "goal_agreement"
    blocked("goals-await-approval", day(3), "linking", "goal_agreement", "assessment")
    for tenant in ["kreis-steinfurt", "aachen"]:
        for role in COORDINATORS:
            api.refused(approvals, auth(tenant, role), 403, "not-the-supervising-post", yes)
    api.refused(approvals, cm, 403, "role-not-allowed", yes)
    api.refused(approvals, post, 422, "nothing-to-approve", {**yes, "step": "closure"})
    api.refused(approvals, post, 422, "reason-missing", {**yes, "approved": False})
    api.refused(approvals, post, 422, "reason-missing", {**no, "reason": "   "})
    api.refused(approvals, post, 422, "date-before-last-step", {**yes, "on": day(1)})

    # a closure asked for and refused meanwhile leaves the goals awaiting approval
    api.step(cm, case, "closed", day(3))
    assert api.case(cm, case)["pending_approval"] == "closure"
    api.ok(approvals, post, {**no, "step": "closure", "reason": "talk to her first"})
    assert api.case(cm, case)["pending_approval"] == "goal_agreement"
    blocked("goals-await-approval", day(3), "linking")

    # refused goals do not open the way to linking: the case manager revises them
    api.ok(approvals, post, no)
    refused_goals = api.case(cm, case)
    assert (refused_goals["state"], refused_goals["pending_approval"]) == ("goal_agreement", None)
    blocked("goals-refused", day(3), "linking")
    blocked("transition-not-allowed", day(3), "monitoring")
    api.ok(f"/cases/{case}/goals", cm, {"goals": {"housing": "own flat"}, "on": day(4)})
    assert api.case(cm, case)["pending_approval"] == "goal_agreement"
    blocked("goals-await-approval", day(4), "linking")
    api.ok(approvals, post, {**yes, "on": day(4)})
    api.step(cm, case, "linking", day(5))

    # closure: asked for, the case stays where it is until the post approves
    api.step(cm, case, "closed", day(6))
    waiting = api.case(cm, case)
    assert (waiting["state"], waiting["pending_approval"]) == ("linking", "closure")
    assert waiting["closed_on"] is None
    blocked("closure-awaits-approval", day(7), "monitoring", "closed")
    closure = {"step": "closure", "approved": True, "on": day(8)}
    api.refused(approvals, auth("aachen", "coordinator"), 403, "not-the-supervising-post", closure)
    api.refused(approvals, post, 422, "nothing-to-approve", {**yes, "on": day(8)})
    api.ok(approvals, post, closure)
    closed = api.case(cm, case)
    assert (closed["state"], closed["closed_on"], closed["closure_reason"]) == (
        "closed", day(6), "ended_by_person",
    )  # fmt: skip
    assert closed["pending_approval"] is None
    assert [(a["step"], a["approved"]) for a in closed["approvals"]] == [
        ("closure", False), ("goal_agreement", False), ("goal_agreement", True), ("closure", True),
    ]  # fmt: skip


# -- 5. bad input ----------------------------------------------------------------------------
def test_bad_input_is_refused_naming_the_rule_or_the_field(api: Api, cm: Headers) -> None:
    _, case = api.case_in(cm, "intake", name="Lina Sommer")
    assess, gaps, transfer = (f"/cases/{case}/{p}" for p in ["assessment", "gaps", "transfer"])

    needs = {"needs": {"astrology": "high", "language": "high"}, "on": day(1)}
    problem = api.refused(assess, cm, 422, "unknown-life-dimension", needs)
    assert error_fields(problem) == {"needs"}
    assert "astrology" in problem["detail"]
    extra = {"needs": {"language": "high"}, "on": day(1), "colour": "blue"}
    problem = api.refused(assess, cm, 422, "validation-failed", extra)
    assert error_fields(problem) == {"colour"}
    religion = {"personal_data": {"name": "Eva M.", "religion": "none"}}
    problem = api.refused("/people", cm, 422, "validation-failed", religion)
    assert error_fields(problem) == {"personal_data.religion"}
    for description in ["no B1 course for Lina", "SOMMER waits for a crèche place"]:
        gap = {"life_dimension": "education", "description": description, "on": day(1)}
        problem = api.refused(gaps, cm, 422, "personal-data-in-gap", gap)
        assert error_fields(problem) == {"description"}
        assert "Lina" not in problem["detail"]
    for destination in ["atlantis", "nrw"]:
        move = {"to_tenant": destination, "on": day(1)}
        problem = api.refused(transfer, cm, 422, "unknown-destination", move)
        assert error_fields(problem) == {"to_tenant"}

    version = api.case(cm, case)["version"]
    for stale in [version - 1, version + 1]:
        body = {"needs": {"language": "high"}, "on": day(1), "expected_version": stale}
        problem = api.refused(assess, cm, 409, "stale-version", body)
        assert problem["facts"] == {"expected_version": stale, "actual_version": version}
    api.ok(assess, cm, {"needs": {"language": "high"}, "on": day(1), "expected_version": version})


# -- 6. caseload -------------------------------------------------------------------------------
def test_an_assignment_beyond_the_caseload_limit_is_refused(
    api: Api, cm: Headers, platform: Platform, auth: Auth
) -> None:
    post = auth("rheine", "coordinator")
    tiny = note_position(platform, "rheine", fte="0.01")
    _, first = api.case_in(cm, "intake", name="Lina Sommer")
    _, second = api.case_in(cm, "intake", name="Omid Karimi")
    to_tiny = {"position_id": str(tiny), "on": day(1)}

    answer = api.ok(f"/cases/{first}/assignment", post, to_tiny)
    assert "warnings" not in answer  # 1 case on 0.01 FTE: 100 per FTE, the target itself
    for headers in [post, cm]:  # the coordinator, or the case manager handing the case on
        problem = api.refused(
            f"/cases/{second}/assignment", headers, 422, "caseload-limit", to_tiny
        )
        assert problem["facts"] == {"cases_per_fte": "200.0", "limit": 120}
        assert error_fields(problem) == {"position_id"}
    assert api.case(cm, second)["position_id"] == str(demo_position(platform))
    caseload = api.ok(f"/positions/{tiny}/caseload", post)
    assert (caseload["open_cases"], caseload["cases_per_fte"]) == (1, "100.0")

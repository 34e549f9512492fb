"""Case management over REST: every refusal is a problem with its rule and appends nothing.

The case cycle's forbidden transitions, missing consents, other tenants, roles and
positions (see test_api_case_isolation.py), the supervising post's approvals, bad input and
the caseload limit.
"""

from __future__ import annotations

from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.case_api import (
    ALLOWED,
    CASE_MANAGER,
    COORDINATORS,
    STEPS,
    Api,
    Headers,
    day,
    error_fields,
)
from tests.case_support import demo_position, note_position, ok, rheine_coordination_position
from tests.support import Auth


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


# -- 4. approvals by the supervising post --------------------------------------------------
def test_goal_agreement_and_closure_wait_for_the_supervising_posts_approval(
    api: Api, cm: Headers, auth: Auth, platform: Platform
) -> None:
    post = auth("rheine", "coordinator", position=rheine_coordination_position(platform))
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
    # Rheine's coordinators other than the supervising position's (the line names it): for
    # them the case is not there (need to know, as on every endpoint of the case)
    for position in [None, demo_position(platform)]:
        other = auth("rheine", "coordinator", position=position)
        api.refused(approvals, other, 404, "not-found", yes)
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
    # the post supervising the demo position (reassigning needs to know the case)
    post = auth("rheine", "coordinator", position=rheine_coordination_position(platform))
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

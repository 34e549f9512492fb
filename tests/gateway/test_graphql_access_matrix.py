"""The read side's access rules as a generated matrix: every demo tenant x role x field.

The expected outcome of each cell comes from the rules restated below (independently of
``gateway.access``): figures for the roles that read them, of the token's tenant and the
tenants below it (a town's view of the positions working in it among them, although the
district's log holds them); case rows and expiring consents for the case manager of the
position, the supervising coordination post and auditors (pseudonymised), for nobody else. Across
every answer, no person's name ever appears, and a real person id exactly where the person's
case is visible through the token's position or the post supervising it.

A supervision line that names a coordination position (the demo position's, from Rheine's
"Koordinierungsstelle KIM Stadt Rheine") is followed only by the coordinator whose token
names that position; a line without one by every coordinator of the post.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.access_rules import (
    NAMES,
    PARENT,
    Field,
    Outcome,
    Principal,
    World,
    build_world,
    expected,
    fields,
    principals,
)
from tests.gateway.test_gateway import data_of, query
from tests.support import Auth


# -- checking one answer -------------------------------------------------------------------
def leaks(text: str) -> list[str]:
    """Names of people found in a response text (raw, and with JSON's \\u escapes undone)."""
    try:
        unescaped = json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        unescaped = text
    found = []
    for name in NAMES.values():
        for part in name.split():
            if part in text or part.lower() in unescaped.lower():
                found.append(part)
    return found


def check(
    response: httpx.Response, who: Principal, f: Field, outcome: Outcome, world: World
) -> list[str]:
    """What is wrong with this answer (empty: as the rules say)."""
    problems = []
    if response.status_code != 200:
        return [f"HTTP {response.status_code}: {response.text[:200]}"]
    body: dict[str, Any] = response.json()
    errors = body.get("errors") or []
    value = (body.get("data") or {}).get(f.name)
    if not outcome.allowed:
        codes = [(e.get("extensions") or {}).get("code") for e in errors]
        if not errors or codes[0] != "FORBIDDEN":
            problems.append(f"expected a FORBIDDEN error, got errors={codes} data={value!r:.80}")
        if value is not None:
            problems.append(f"a refusal still returned data: {value!r:.80}")
    else:
        if errors:
            problems.append(f"errors: {[e.get('message') for e in errors]}")
        if value is None:
            problems.append("no data")
        elif f.kind == "cases":
            problems += check_case_rows(f, value, outcome, world)
    # Person ids: real ones exactly where a case is visible without pseudonyms.
    shown = {
        c.person for c in world.rheine if c.label in outcome.cases and not outcome.pseudonymous
    }
    present = {p for p in world.person_ids if p in response.text}
    if present != shown:
        problems.append(f"real person ids present {sorted(present)} != expected {sorted(shown)}")
    if names := leaks(response.text):
        problems.append(f"personal data in the answer: {names}")
    return problems


def check_case_rows(
    f: Field, rows: list[dict[str, Any]], outcome: Outcome, world: World
) -> list[str]:
    problems = []
    visible = [c for c in world.rheine if c.label in outcome.cases]
    if f.name == "cases":
        by_id = {c.id: c for c in world.rheine}
        got = sorted(by_id[r["id"]].label if r["id"] in by_id else r["id"] for r in rows)
        if got != sorted(outcome.cases):
            problems.append(f"cases {got} != expected {sorted(outcome.cases)}")
        for r in rows:
            case = by_id.get(r["id"])
            if case is None:
                continue
            if r["tenant"] != "rheine" or r["positionId"] != case.position:
                problems.append(f"case row {r} does not match the case {case}")
            if outcome.pseudonymous:
                problems += pseudonym_problems(r["person"], world)
            elif r["person"] != case.person:
                problems.append(f"case {case.label}: person {r['person']} != {case.person}")
    else:
        want = sorted((c.consent_expires.isoformat(), "referral", "jmd-rheine") for c in visible)
        got_consents = sorted((r["expiresOn"], r["purpose"], r["recipient"]) for r in rows)
        if got_consents != want:
            problems.append(f"expiring consents {got_consents} != expected {want}")
        persons = {r["person"] for r in rows}
        if outcome.pseudonymous:
            for p in persons:
                problems += pseudonym_problems(p, world)
        elif persons != {c.person for c in visible}:
            problems.append(f"consent persons {sorted(persons)} are not the visible cases' people")
    return problems


def pseudonym_problems(person: str, world: World) -> list[str]:
    if person in world.person_ids or not person.startswith("P-"):
        return [f"auditor sees {person!r}, not an audit pseudonym"]
    return []


def table(mismatches: list[tuple[str, str, str, str]]) -> str:
    head = ("principal", "field", "expected", "problem")
    widths = [max(len(r[i]) for r in [head, *mismatches]) for i in range(3)]
    lines = [
        " | ".join([*(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)), row[3]])
        for row in [head, *mismatches]
    ]
    return "\n".join(["", *lines, f"{len(mismatches)} mismatches"])


# -- the tests -----------------------------------------------------------------------------
def test_every_tenant_role_and_field_is_answered_as_the_rules_say(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    # The restated hierarchy is the registry's.
    registry = data_of(query(client, "{ tenants { key parent { key } } }", auth("nrw", "auditor")))
    assert {t["key"]: (t["parent"] or {}).get("key") for t in registry["tenants"]} == PARENT

    world = build_world(client, platform, auth)
    mismatches: list[tuple[str, str, str, str]] = []
    answers: dict[tuple[Principal, str], Any] = {}
    figures_seen: dict[str, tuple[Principal, Any]] = {}
    cells = 0
    for who in principals(world):
        headers = auth(who.tenant, *who.roles, position=who.position)
        for f in fields(world):
            cells += 1
            outcome = expected(who, f, world)
            response = query(client, f.text(), headers)
            for problem in check(response, who, f, outcome, world):
                mismatches.append((str(who), str(f), str(outcome), problem))
            if not outcome.allowed or response.status_code != 200:
                continue
            value = (response.json().get("data") or {}).get(f.name)
            answers[(who, f.name)] = value
            # Figures do not depend on who asks.
            first = figures_seen.setdefault(str(f), (who, value))
            if f.kind == "figures" and value is not None and value != first[1]:
                mismatches.append(
                    (str(who), str(f), str(outcome), f"differs from the answer to {first[0]}")
                )
    # An auditor's pseudonyms are the same in case rows and in expiring consents.
    for who in principals(world):
        if who.roles == ("auditor",) and (who, "cases") in answers:
            in_cases = {r["person"] for r in answers[(who, "cases")]}
            in_consents = {r["person"] for r in answers[(who, "expiringConsents")]}
            if in_cases != in_consents or len(in_cases) != len(world.rheine):
                problem = f"{sorted(in_cases)} vs {sorted(in_consents)}"
                mismatches.append((str(who), "cases/expiringConsents", "same pseudonyms", problem))

    assert cells == len(principals(world)) * len(fields(world)) == (6 * 7 + 7) * 8
    assert not mismatches, table(mismatches)

    # The matrix is not vacuous: the demo's figures are there for those who may read them.
    rheine = answers[(Principal("rheine", ("coordinator",)), "caseFigures")]
    assert rheine["tenants"] == ["rheine"]
    assert rheine["openCases"] == 2
    assert rheine["consentsExpiring"] == 2
    references = {n["reference"] for n in answers[(Principal("nrw", ("auditor",)), "funding")]}
    assert {"KIM-B1-2021-05566", "KIM-B2-2021-05566", "KIM-B3-2021-05566"} <= references
    ids = {
        p["id"] for p in answers[(Principal("kreis-steinfurt", ("steering_member",)), "positions")]
    }
    assert str(world.own_position) in ids
    # The demo position's line runs from Rheine's coordination position: its coordinator sees
    # that case, Rheine's coordinator without the claim only the case under a line naming none.
    own, other = world.rheine
    supervising = Principal("rheine", ("coordinator",), world.rheine_coordination)
    with_claim = {r["id"] for r in answers[(supervising, "cases")]}
    without_claim = {r["id"] for r in answers[(Principal("rheine", ("coordinator",)), "cases")]}
    assert (with_claim, without_claim) == ({own.id, other.id}, {other.id})
    steering = Principal("kreis-steinfurt", ("steering_member",))
    lines = {p["id"]: p["supervision"] for p in answers[(steering, "positions")]}
    supervisor = lines[str(world.own_position)][0]["supervisorPositionId"]
    assert supervisor == str(world.rheine_coordination)
    # Rheine's view holds the district's position of Lernen fördern working in Rheine, and
    # none of the district's positions working elsewhere.
    working = answers[(Principal("rheine", ("coordinator",)), "positionsWorkingIn")]
    assert str(world.own_position) in {p["id"] for p in working}
    assert {(p["holder"], p["workTenant"]) for p in working} == {("kreis-steinfurt", "rheine")}


def test_a_districts_figures_over_its_towns_are_the_sum_of_the_towns(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    world = build_world(client, platform, auth)
    headers = auth("kreis-steinfurt", "district_coordinator")
    selection = (
        "{ tenants openCases closedCases byState { key count } consentsExpiring"
        " caseload { positionId tenant openCases } }"
    )

    def figures_of(args: str) -> tuple[dict[str, Any], str]:
        response = query(client, f"{{ caseFigures({args}) {selection} }}", headers)
        value: dict[str, Any] = data_of(response)["caseFigures"]
        return value, response.text

    district, text = figures_of('tenant: "kreis-steinfurt", includeMembers: true')
    parts = [figures_of(f'tenant: "{t}"')[0] for t in ("kreis-steinfurt", "rheine", "emsdetten")]

    assert sorted(district["tenants"]) == ["emsdetten", "kreis-steinfurt", "rheine"]
    assert district["openCases"] == sum(p["openCases"] for p in parts) == 3
    assert district["closedCases"] == sum(p["closedCases"] for p in parts)
    assert district["consentsExpiring"] == sum(p["consentsExpiring"] for p in parts) == 3
    summed: Counter[str] = Counter()
    for p in parts:
        summed.update({c["key"]: c["count"] for c in p["byState"]})
    assert {c["key"]: c["count"] for c in district["byState"]} == dict(summed)
    key = "positionId"
    assert sorted(c[key] for c in district["caseload"]) == sorted(
        c[key] for p in parts for c in p["caseload"]
    )
    assert not [p for p in world.person_ids if p in text]
    assert not leaks(text)

"""The read side's access rules as a generated matrix: every demo tenant x role x field.

The expected outcome of each cell comes from the rules restated below (independently of
``gateway.access``): figures for the roles that read them, of the token's tenant and the
tenants below it; case rows and expiring consents for the case manager of the position,
the supervising coordination post and auditors (pseudonymised), for nobody else. Across
every answer, no person's name ever appears, and a real person id exactly where the person's
case is visible through the token's position or the post supervising it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
from fastapi.testclient import TestClient

from services.runtime.platform import Platform
from tests.case_support import CM, demo_position, note_position, ok, open_case, register_person
from tests.support import Auth
from tests.test_gateway import data_of, query

# -- the rules, restated -------------------------------------------------------------------
PARENT: dict[str, str | None] = {
    "nrw": None,
    "kreis-steinfurt": "nrw",
    "rheine": "kreis-steinfurt",
    "emsdetten": "kreis-steinfurt",
    "staedteregion-aachen": "nrw",
    "aachen": "nrw",  # district-free city: under the state programme, not the region
}
TENANTS = list(PARENT)
ROLES = [
    "district_coordinator",
    "coordinator",
    "case_manager",
    "immigration_officer",
    "steering_member",
    "auditor",
    "platform_admin",
]
FIGURE_READERS = {
    "district_coordinator",
    "coordinator",
    "case_manager",
    "steering_member",
    "auditor",
}
COORDINATION = {"district_coordinator", "coordinator"}

NAMES = {
    "own": "Zofia Wiśniewska",
    "other": "Bogdan Kowalczyk",
    "emsdetten": "Halyna Melnyk",
}


def covers(token_tenant: str, tenant: str) -> bool:
    """The token's tenant is ``tenant`` or lies above it."""
    current: str | None = tenant
    while current is not None:
        if current == token_tenant:
            return True
        current = PARENT[current]
    return False


@dataclass(frozen=True)
class Case:
    label: str
    id: str
    person: str
    position: str
    supervisor: str  # the tenant whose post supervises the case's position today
    consent_expires: date


@dataclass(frozen=True)
class World:
    """What the set-up wrote: the rheine cases the matrix is about, and one in emsdetten."""

    rheine: list[Case]
    emsdetten: Case
    own_position: UUID  # the demo position
    other_position: UUID  # a further rheine position
    rheine_at: int  # the position of rheine's last command
    emsdetten_at: int

    @property
    def person_ids(self) -> set[str]:
        return {c.person for c in [*self.rheine, self.emsdetten]}


@dataclass(frozen=True)
class Principal:
    tenant: str
    roles: tuple[str, ...]
    position: UUID | None = None

    def __str__(self) -> str:
        claim = f" position={str(self.position)[:8]}" if self.position else ""
        return f"{self.tenant}/{'+'.join(self.roles)}{claim}"


@dataclass(frozen=True)
class Field:
    name: str  # the GraphQL field (camelCase), the key in ``data``
    kind: str  # "figures" or "cases"
    tenant: str
    args: str
    selection: str

    def text(self) -> str:
        return f"{{ {self.name}({self.args}) {self.selection} }}"

    def __str__(self) -> str:
        return f"{self.name}({self.args})"


@dataclass(frozen=True)
class Outcome:
    allowed: bool
    cases: frozenset[str] = frozenset()  # labels of the visible cases (case fields)
    pseudonymous: bool = False

    def __str__(self) -> str:
        if not self.allowed:
            return "FORBIDDEN"
        if not self.cases and not self.pseudonymous:
            return "allowed"
        rows = ",".join(sorted(self.cases)) or "-"
        return f"allowed [{rows}]" + (" pseudonymous" if self.pseudonymous else "")


FORBIDDEN = Outcome(allowed=False)


def expected(who: Principal, f: Field, world: World) -> Outcome:
    """The rules; a token with several roles gets what one of them grants (the matrix only
    combines roles of which at most one grants anything for the queried tenant)."""
    roles = set(who.roles)
    if f.kind == "figures":
        return Outcome(allowed=bool(roles & FIGURE_READERS) and covers(who.tenant, f.tenant))
    assert f.tenant == "rheine"
    if "auditor" in roles and covers(who.tenant, f.tenant):
        everything = frozenset(c.label for c in world.rheine)
        return Outcome(allowed=True, cases=everything, pseudonymous=True)
    if "case_manager" in roles and who.tenant == f.tenant:
        if who.position is None:
            return FORBIDDEN
        mine = frozenset(c.label for c in world.rheine if c.position == str(who.position))
        return Outcome(allowed=True, cases=mine)
    if roles & COORDINATION:
        supervised = frozenset(c.label for c in world.rheine if c.supervisor == who.tenant)
        return Outcome(allowed=True, cases=supervised)
    return FORBIDDEN


FIGURES = (
    "{ tenants openCases closedCases byState { key count }"
    " caseload { positionId tenant openCases } consentsExpiring }"
)
CASE_ROWS = "{ id tenant person state positionId }"
CONSENTS = "{ person purpose recipient expiresOn }"
FUNDING = "{ tenant reference grantedFte forwardedFte filledFte }"
POSITIONS = "{ id tenant title workTenant supervision { postTenant validFrom validTo } }"
GAPS = "{ bySource { key count } topicsByStep { key count } topics { id title } }"


def fields(world: World) -> list[Field]:
    rheine = 'tenant: "rheine"'
    rheine_at = f"{rheine}, atPosition: {world.rheine_at}"
    district = 'tenant: "kreis-steinfurt"'
    members = f"{district}, includeMembers: true"
    return [
        Field("caseFigures", "figures", "rheine", rheine_at, FIGURES),
        Field("caseFigures", "figures", "kreis-steinfurt", members, FIGURES),
        Field("cases", "cases", "rheine", rheine_at, CASE_ROWS),
        Field("expiringConsents", "cases", "rheine", rheine, CONSENTS),
        Field("funding", "figures", "kreis-steinfurt", f'{district}, month: "2021-10"', FUNDING),
        Field("positions", "figures", "kreis-steinfurt", district, POSITIONS),
        Field("gaps", "figures", "rheine", rheine, GAPS),
    ]


def principals(world: World) -> list[Principal]:
    """Every demo tenant x role, rheine's case manager with the demo position's claim; then
    rheine's case manager of the other position, one without a claim, and auditors of
    tenants not above rheine who also hold a role that reaches case rows."""
    found = [
        Principal(t, (r,), world.own_position if (t, r) == ("rheine", "case_manager") else None)
        for t in TENANTS
        for r in ROLES
    ]
    return [
        *found,
        Principal("rheine", ("case_manager",), world.other_position),
        Principal("rheine", ("case_manager",), None),
        Principal("aachen", ("auditor", "coordinator")),
        Principal("emsdetten", ("auditor", "district_coordinator")),
        Principal("emsdetten", ("auditor", "case_manager"), world.other_position),
    ]


# -- set-up over REST ----------------------------------------------------------------------
def last_position(body: dict[str, Any]) -> int:
    return int(body["events"][-1]["position"])


def give_expiring_consent(
    client: TestClient, headers: dict[str, str], tenant: str, person: UUID, expires: date
) -> int:
    body = ok(
        client.post(
            f"{CM.format(tenant=tenant)}/people/{person}/consents",
            json={
                "purpose": "referral",
                "recipient": f"jmd-{tenant}",
                "given_on": date.today().isoformat(),
                "expires_on": expires.isoformat(),
            },
            headers=headers,
        )
    )
    return last_position(body)


def build_world(client: TestClient, platform: Platform, auth: Auth) -> World:
    today = date.today()
    own_position = demo_position(platform)
    other_position = note_position(platform, "rheine")
    em_position = note_position(platform, "emsdetten")
    made: dict[str, Case] = {}
    at: dict[str, int] = {}
    for label, tenant, position, days in (
        ("own", "rheine", own_position, 10),
        ("other", "rheine", other_position, 20),
        ("emsdetten", "emsdetten", em_position, 5),
    ):
        cm = auth(tenant, "case_manager", position=position)
        person = register_person(client, cm, tenant, name=NAMES[label])
        case = open_case(client, cm, person, tenant)
        expires = today + timedelta(days=days)
        at[tenant] = give_expiring_consent(client, cm, tenant, person, expires)
        made[label] = Case(label, str(case), str(person), str(position), tenant, expires)
    world = World(
        rheine=[made["own"], made["other"]],
        emsdetten=made["emsdetten"],
        own_position=own_position,
        other_position=other_position,
        rheine_at=at["rheine"],
        emsdetten_at=at["emsdetten"],
    )
    # Read-your-writes: both towns' case-management read models reach the last command.
    watcher = auth("nrw", "auditor")
    for tenant, log_position, opened in (
        ("rheine", world.rheine_at, 2),
        ("emsdetten", world.emsdetten_at, 1),
    ):
        text = f'{{ caseFigures(tenant: "{tenant}", atPosition: {log_position}) {{ openCases }} }}'
        assert data_of(query(client, text, watcher))["caseFigures"]["openCases"] == opened
    return world


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

    assert cells == len(principals(world)) * len(fields(world)) == (6 * 7 + 5) * 7
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

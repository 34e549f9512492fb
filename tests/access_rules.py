"""The read side's access rules restated for the generated matrix, and its demo world.

Independent of ``gateway.access``: who may read which field of which tenant, as the
programme's roles say (see test_graphql_access_matrix.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.case_support import (
    CM,
    demo_position,
    note_position,
    ok,
    open_case,
    register_person,
    rheine_coordination_position,
)
from tests.gateway.test_gateway import data_of, query
from tests.support import Auth

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
    supervising_position: str | None = None  # the line's coordination position (None: any)


@dataclass(frozen=True)
class World:
    """What the set-up wrote: the rheine cases the matrix is about, and one in emsdetten."""

    rheine: list[Case]
    emsdetten: Case
    own_position: UUID  # the demo position
    other_position: UUID  # a further rheine position
    rheine_coordination: UUID  # Rheine's coordination position: the own position's supervisor
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
        supervised = frozenset(
            c.label
            for c in world.rheine
            if c.supervisor == who.tenant
            and (c.supervising_position is None or c.supervising_position == str(who.position))
        )  # a line from a coordination position: only the coordinator whose token names it
        return Outcome(allowed=True, cases=supervised)
    return FORBIDDEN


FIGURES = (
    "{ tenants openCases closedCases byState { key count }"
    " caseload { positionId tenant openCases } consentsExpiring }"
)
CASE_ROWS = "{ id tenant person state positionId }"
CONSENTS = "{ person purpose recipient expiresOn }"
FUNDING = "{ tenant reference grantedFte forwardedFte filledFte }"
POSITIONS = (
    "{ id tenant title workTenant"
    " supervision { postTenant validFrom validTo supervisorPositionId } }"
)
GAPS = "{ bySource { key count } topicsByStep { key count } topics { id title } }"
# The town's view: positions working in rheine that Kreis Steinfurt's log holds (figures).
WORKING_IN = (
    "{ id holder title workTenant employer filledFte staffing { staffId fte start end }"
    " costs { month amount } contract { recipient amountPerYear fte } notice { reference } }"
)


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
        Field("positionsWorkingIn", "figures", "rheine", rheine, WORKING_IN),
    ]


def principals(world: World) -> list[Principal]:
    """Every demo tenant x role, rheine's case manager with the demo position's claim; then
    rheine's case manager of the other position, one without a claim, auditors of tenants
    not above rheine who also hold a role that reaches case rows, and coordinators whose
    token names Rheine's coordination position (in rheine: the supervisor of the demo
    position; in the district: nobody's)."""
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
        Principal("rheine", ("coordinator",), world.rheine_coordination),
        Principal("kreis-steinfurt", ("district_coordinator",), world.rheine_coordination),
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
    rheine_coordination = rheine_coordination_position(platform)  # supervises own_position
    other_position = note_position(platform, "rheine")  # a line without a position
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
        supervising = str(rheine_coordination) if label == "own" else None
        made[label] = Case(
            label, str(case), str(person), str(position), tenant, expires, supervising
        )
    world = World(
        rheine=[made["own"], made["other"]],
        emsdetten=made["emsdetten"],
        own_position=own_position,
        other_position=other_position,
        rheine_coordination=rheine_coordination,
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

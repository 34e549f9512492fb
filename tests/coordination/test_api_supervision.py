"""Supervision lines (Fachaufsicht) from a coordination position, over REST.

A line runs from a coordination post and one of its coordination positions to a
case-management position. The supervising position must exist (in the post's coordination
log or a log above it), be a coordination position and work in the post's tenant; the post
is the work tenant's own, or a district's for a member town without a coordination of its
own (Kreis Steinfurt for Emsdetten; not for Rheine, which has its own). Refusals are 422
problems naming the field and append nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.known_position import KnownPosition, SupervisionLine
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.positions import COORDINATION_POSITIONS_IN, Position
from runtime.platform import Platform
from tests.case_support import (
    CM,
    demo_position,
    ok,
    open_case,
    register_person,
    rheine_coordination_position,
)
from tests.support import Auth, assert_problem

KS = "/coordination/tenants/kreis-steinfurt"


@pytest.fixture
def district(auth: Auth) -> dict[str, str]:
    return auth("kreis-steinfurt", "district_coordinator")


@pytest.fixture
def lf(platform: Platform) -> UUID:
    """The demo position of Lernen fördern (looked up before the tests add positions)."""
    return demo_position(platform)


def ks_coordination_position(client: TestClient, headers: dict[str, str]) -> UUID:
    """Kreis Steinfurt's own "Koordination KI Kreis Steinfurt" (works in the district)."""
    positions = ok(client.get(f"{KS}/positions?limit=200", headers=headers))
    (found,) = [p["id"] for p in positions if p["title"] == "Koordination KI Kreis Steinfurt"]
    return UUID(found)


def new_position(client: TestClient, lf: UUID, headers: dict[str, str], work_tenant: str) -> UUID:
    """A further case-management position in Kreis Steinfurt's log, funded like the demo's
    position of Lernen fördern, working in ``work_tenant``; no supervision line yet."""
    funded = ok(client.get(f"{KS}/positions/{lf}", headers=headers))
    body = {
        "title": f"Case Management {work_tenant}",
        "position_type": "case_management",
        "fte": "0.5",
        "employer_kind": "tenant",
        "employer": "kreis-steinfurt",
        "funding_kind": funded["funding_kind"],
        "funding_id": funded["funding_id"],
        "work_tenant": work_tenant,
    }
    created = ok(client.post(f"{KS}/positions", json=body, headers=headers), 201)
    return UUID(created["events"][0]["aggregate_id"])


def assign(
    client: TestClient,
    headers: dict[str, str],
    position: UUID,
    post_tenant: str,
    supervisor: UUID | None,
) -> Any:
    body: dict[str, Any] = {"post_tenant": post_tenant, "valid_from": "2022-01-01"}
    if supervisor is not None:
        body["supervisor_position_id"] = str(supervisor)
    return client.post(f"{KS}/positions/{position}/supervision", json=body, headers=headers)


def refused(
    response: Any, platform: Platform, before: dict[tuple[str, str], int], rule: str, field: str
) -> None:
    problem = assert_problem(response, 422, rule)
    assert {e["field"] for e in problem.get("errors") or []} == {field}
    assert platform.store.heads() == before


def known_line(
    platform: Platform, tenant: str, position: UUID, *, lines: bool = True
) -> list[SupervisionLine]:
    """The supervision lines ``tenant``'s case management has noted for the position (the
    intake consumes coordination's events in the background); ``lines=False``: wait only
    until the position itself is noted."""
    app = platform.app(CaseManagementApplication, tenant, vault=platform.vault)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if position in app.repository:
            found = app.load(KnownPosition, position, "position").supervision
            if found or not lines:
                return found
        time.sleep(0.05)
    raise AssertionError(f"{tenant}'s case management did not note the position in time")


def test_rheines_post_supervises_from_its_coordination_position(
    client: TestClient, platform: Platform, district: dict[str, str], lf: UUID
) -> None:
    position = new_position(client, lf, district, "rheine")
    rheine_coordination = rheine_coordination_position(platform)
    answer = assign(client, district, position, "rheine", rheine_coordination)
    assert answer.status_code == 200, answer.text
    seen = ok(client.get(f"{KS}/positions/{position}", headers=district))
    assert seen["supervision"] == [
        {
            "post_tenant": "rheine",
            "valid_from": "2022-01-01",
            "valid_to": None,
            "supervisor_position_id": str(rheine_coordination),
        }
    ]
    line = SupervisionLine("rheine", rheine_coordination, date(2022, 1, 1), None)
    assert known_line(platform, "rheine", position) == [line]
    # The demo's own line runs from the same position.
    demo = ok(client.get(f"{KS}/positions/{lf}", headers=district))
    assert demo["supervision"][0]["supervisor_position_id"] == str(rheine_coordination)


def test_a_line_without_a_supervising_position_is_still_the_whole_posts(
    client: TestClient, platform: Platform, district: dict[str, str], lf: UUID
) -> None:
    position = new_position(client, lf, district, "rheine")
    ok(assign(client, district, position, "rheine", None))
    seen = ok(client.get(f"{KS}/positions/{position}", headers=district))
    assert seen["supervision"][0]["supervisor_position_id"] is None
    line = SupervisionLine("rheine", None, date(2022, 1, 1), None)
    assert known_line(platform, "rheine", position) == [line]


def test_the_supervising_position_must_be_a_known_coordination_position_of_the_post(
    client: TestClient, platform: Platform, district: dict[str, str], lf: UUID
) -> None:
    position = new_position(client, lf, district, "rheine")
    known_line(platform, "rheine", position, lines=False)  # nothing moves the heads meanwhile
    before = platform.store.heads()
    unknown = assign(client, district, position, "rheine", uuid4())
    refused(unknown, platform, before, "supervisor-position-unknown", "supervisor_position_id")
    # the demo position of Lernen fördern: a case-management position, not a coordination one
    wrong_type = assign(client, district, position, "rheine", lf)
    refused(wrong_type, platform, before, "supervisor-not-coordination", "supervisor_position_id")
    # Kreis Steinfurt's own coordination works in the district, not in Rheine
    elsewhere = assign(
        client, district, position, "rheine", ks_coordination_position(client, district)
    )
    refused(elsewhere, platform, before, "supervisor-works-elsewhere", "supervisor_position_id")


def test_the_district_does_not_supervise_in_a_town_with_a_coordination_of_its_own(
    client: TestClient, platform: Platform, district: dict[str, str], lf: UUID
) -> None:
    position = new_position(client, lf, district, "rheine")
    known_line(platform, "rheine", position, lines=False)  # nothing moves the heads meanwhile
    before = platform.store.heads()
    answer = assign(
        client, district, position, "kreis-steinfurt", ks_coordination_position(client, district)
    )
    refused(answer, platform, before, "post-not-responsible", "post_tenant")
    assert "rheine has a coordination position of its own" in answer.json()["detail"]


def test_the_district_supervises_in_a_member_town_without_a_coordination_of_its_own(
    client: TestClient, platform: Platform, district: dict[str, str], auth: Auth, lf: UUID
) -> None:
    position = new_position(client, lf, district, "emsdetten")
    ks_coordination = ks_coordination_position(client, district)
    answer = assign(client, district, position, "kreis-steinfurt", ks_coordination)
    assert answer.status_code == 200, answer.text
    line = SupervisionLine("kreis-steinfurt", ks_coordination, date(2022, 1, 1), None)
    assert known_line(platform, "emsdetten", position) == [line]

    # Access follows the line: Kreis Steinfurt's coordinator of that position sees the
    # Emsdetten case's personal data and facts, the district's other coordinators do not.
    cm = auth("emsdetten", "case_manager", position=position)
    person = register_person(client, cm, "emsdetten", name="Halyna M.")
    case = open_case(client, cm, person, "emsdetten")
    emsdetten = CM.format(tenant="emsdetten")
    supervising = auth("kreis-steinfurt", "district_coordinator", position=ks_coordination)
    assert ok(client.get(f"{emsdetten}/people/{person}", headers=supervising))["id"] == str(person)
    for other in [district, auth("kreis-steinfurt", "district_coordinator", position=uuid4())]:
        denied = client.get(f"{emsdetten}/people/{person}", headers=other)
        assert_problem(denied, 403, "personal-data-not-allowed")
    assert ok(client.get(f"{emsdetten}/cases/{case}", headers=supervising))["id"] == str(case)
    assert client.get(f"{emsdetten}/cases/{case}", headers=district).status_code == 403


def test_coordination_positions_are_indexed_by_the_tenant_they_work_in(
    platform: Platform,
) -> None:
    ks = platform.app(CoordinationApplication, "kreis-steinfurt")
    rheine = rheine_coordination_position(platform)
    assert ks.indexes.index_members(COORDINATION_POSITIONS_IN, "rheine") == [str(rheine)]
    assert ks.indexes.index_count(COORDINATION_POSITIONS_IN, "kreis-steinfurt") == 1
    assert ks.indexes.index_count(COORDINATION_POSITIONS_IN, "emsdetten") == 0
    ks.reindex()  # derived state: rebuilt from the log, the same entries
    assert ks.indexes.index_members(COORDINATION_POSITIONS_IN, "rheine") == [str(rheine)]


def test_a_supervision_line_stored_before_lines_named_a_position_reads_as_the_whole_post(
    platform: Platform,
) -> None:
    ks = platform.app(CoordinationApplication, "kreis-steinfurt")
    (record,) = platform.store.read_log(
        "kreis-steinfurt", "coordination", topics=[get_topic(Position.SupervisionAssigned)]
    )
    stored = record.to_stored_event()
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["supervisor_position_id"]  # as version 1 stored it
    event = ks.mapper.to_domain_event(replace(stored, state=json.dumps(state).encode()))
    assert isinstance(event, Position.SupervisionAssigned)
    assert (event.post_tenant, event.supervisor_position_id) == ("rheine", None)

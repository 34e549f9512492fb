"""Access before anything else: no GraphQL field waits for a position, or names one, of a log
the caller may not read; an unknown tenant answers as one the caller may not read."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.gateway.test_gateway import query
from tests.support import Auth

FAR = 999999
FIELDS = [
    f'caseFigures(tenant: "{{t}}", atPosition: {FAR}) {{ openCases }}',
    f'funding(tenant: "{{t}}", month: "2021-10", atPosition: {FAR}) {{ reference }}',
    f'positions(tenant: "{{t}}", atPosition: {FAR}) {{ id }}',
    f'positionsWorkingIn(tenant: "{{t}}", atPosition: {FAR}) {{ id }}',
    f'gaps(tenant: "{{t}}", atPosition: {FAR}) {{ topics {{ id }} }}',
    f'regionalAreas(tenant: "{{t}}", atPosition: {FAR}) {{ name }}',
    f'officeFigures(tenant: "{{t}}", atPosition: {FAR}) {{ procedures {{ count }} }}',
    f'steeringFigures(tenant: "{{t}}", atPosition: {FAR}) {{ groups }}',
    f'cases(tenant: "{{t}}", atPosition: {FAR}) {{ id }}',
    f'expiringConsents(tenant: "{{t}}", atPosition: {FAR}) {{ person }}',
    f'steeringGroups(tenant: "{{t}}", atPosition: {FAR}) {{ id }}',
]
WAIT_FREE = 8
"""The fields before it refuse another tenant at once; those from it answer a caller of
another tenant who may read nothing there (supervises no position, sits in no group) with
an empty list at once."""


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Every wait for a log position a resolver starts (none may start for these callers):
    structural instead of timed, so a loaded machine cannot make it flaky."""
    started: list[tuple[Any, ...]] = []

    async def record(*args: Any, **kwargs: Any) -> None:
        started.append(args[1:])

    modules = ("readside", "coordination", "case_management", "immigration_office", "steering")
    for module in (f"gateway.{m}" for m in modules):
        for name in ("caught_up", "caught_up_with_heads"):
            monkeypatch.setattr(f"{module}.{name}", record, raising=False)
    return started


def _refused_at_once(client: TestClient, headers: dict[str, str], field: str) -> str:
    response = query(client, "{ " + field + " }", headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN", body
    assert not re.search(r"\d", error["message"]), error["message"]
    return str(error["message"])


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.split("(")[0])
def test_a_token_without_roles_is_refused_at_once_naming_no_position(
    client: TestClient, auth: Auth, field: str, waits: list[tuple[Any, ...]]
) -> None:
    _refused_at_once(client, auth("aachen"), field.replace("{t}", "rheine"))
    assert waits == []


@pytest.mark.parametrize("field", FIELDS[:WAIT_FREE], ids=lambda f: f.split("(")[0])
def test_an_unknown_tenant_answers_as_one_the_caller_may_not_read(
    client: TestClient, auth: Auth, field: str, waits: list[tuple[Any, ...]]
) -> None:
    headers = auth("aachen", "coordinator")
    other = _refused_at_once(client, headers, field.replace("{t}", "rheine"))
    unknown = _refused_at_once(client, headers, field.replace("{t}", "rheinee"))
    assert unknown == other.replace("rheine", "rheinee")
    assert waits == []


@pytest.mark.parametrize("field", FIELDS[WAIT_FREE:], ids=lambda f: f.split("(")[0])
def test_a_coordinator_of_another_tenant_supervising_nothing_there_waits_for_nothing(
    client: TestClient, auth: Auth, field: str, waits: list[tuple[Any, ...]]
) -> None:
    for tenant in ("rheine", "no-such-tenant"):
        response = query(
            client, "{ " + field.replace("{t}", tenant) + " }", auth("aachen", "coordinator")
        )
        assert waits == []
        body = response.json()
        assert "errors" not in body, body
        assert list(body["data"].values()) == [[]]


def test_a_caller_who_may_read_does_wait_for_the_position(
    client: TestClient, auth: Auth, waits: list[tuple[Any, ...]]
) -> None:
    """The control: the recorded waits are the real ones."""
    body = query(
        client, '{ caseFigures(tenant: "rheine", atPosition: 1) { openCases } }',
        auth("rheine", "coordinator"),
    ).json()  # fmt: skip
    assert "errors" not in body, body
    assert waits, "a reader's wait for the log position was not seen"


def test_a_member_of_another_tenant_waits_for_the_groups_it_sits_in(
    client: TestClient, token: Callable[..., str], waits: list[tuple[Any, ...]]
) -> None:
    """The control of steeringGroups: Rheine's chair of the Integrationsrat sits in Kreis
    Steinfurt's group, so its read of that log waits for the position and finds the group."""
    chair = token("rheine", "steering_member", subject="rheine-integrationsrat-vorsitz")
    body = query(
        client, '{ steeringGroups(tenant: "kreis-steinfurt", atPosition: 1) { name } }',
        {"Authorization": f"Bearer {chair}"},
    ).json()  # fmt: skip
    assert body == {"data": {"steeringGroups": [{"name": "Lenkungsgruppe KIM Kreis Steinfurt"}]}}
    assert waits, "a member's wait for the log position was not seen"

"""Case management over REST for the refusal and isolation tests: the cycle and a client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.case_support import CM, ok, open_case, register_person
from tests.support import assert_problem

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

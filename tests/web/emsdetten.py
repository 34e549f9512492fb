"""Case work in Emsdetten for the coordination, district and audit page tests, set up over
REST (as a case manager's client would) on the shared ``web_server``.

Emsdetten, a member town of Kreis Steinfurt, gets a case-management position of its own
(noted as coordination's intake notes one) supervised by its own post, and requires the
post's approval of closures: so these tests change nothing the case manager's tests in
Rheine rely on, whichever order the tests run in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import httpx

from contexts.case_management.application import CaseManagementApplication
from runtime.http.auth import mint_token
from tests.support import wait_for
from tests.web.conftest import Served

TOWN = "emsdetten"
CM = f"/case_management/tenants/{TOWN}"


@dataclass(frozen=True)
class Town:
    """Emsdetten's case-management position and the headers of its staff."""

    served: Served
    position: UUID
    case_manager: dict[str, str]
    coordinator: dict[str, str]

    def call(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
        answer = httpx.request(
            method, f"{self.served.base}{CM}{path}", json=body, headers=headers, timeout=20
        )
        assert answer.status_code in (200, 201), f"{method} {path}: {answer.text}"
        return answer.json()

    def case(self, case_id: UUID) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"/cases/{case_id}", self.case_manager)
        return found

    def open_case(self, name: str) -> UUID:
        """A person (with the consent to case management) and their case, opened 2022-05-02."""
        person = self.call(
            "POST",
            "/people",
            self.case_manager,
            {"personal_data": {"name": name, "languages": ["uk"], "arrival_on": "2022-04-01"}},
        )["events"][0]["aggregate_id"]
        self.call(
            "POST",
            f"/people/{person}/consents",
            self.case_manager,
            {"purpose": "case_management", "recipient": TOWN, "given_on": "2022-05-01"},
        )
        opened = self.call(
            "POST",
            "/cases",
            self.case_manager,
            {"person_id": person, "referral_source": "job_centre", "opened_on": "2022-05-02"},
        )
        return UUID(next(e["aggregate_id"] for e in opened["events"] if e["type"] == "CaseOpened"))

    def assessed(self, case_id: UUID, needs: dict[str, str]) -> None:
        self.call(
            "POST", f"/cases/{case_id}/assessment", self.case_manager,
            {"needs": needs, "on": "2022-05-03"},
        )  # fmt: skip

    def closure_requested(self, case_id: UUID) -> None:
        self.call(
            "POST", f"/cases/{case_id}/closure", self.case_manager,
            {"reason": "ended_by_person", "on": "2022-05-04"},
        )  # fmt: skip
        assert self.case(case_id)["pending_approval"] == "closure"

    def projected(self, check: Any, what: str) -> None:
        """Wait until case management's read model shows ``check`` (pages read it)."""
        wait_for(check, what, timeout=10)


def emsdetten(served: Served) -> Town:
    """Emsdetten's position (once per server) and its staff; closures need approval."""
    platform = served.platform
    app = platform.app(CaseManagementApplication, TOWN, vault=platform.vault)
    known = platform.read.rows("case_management", [TOWN], "KnownPosition")
    position = UUID(known[0].key) if known else uuid4()
    if not known:
        from datetime import date

        app.note_position(position, Decimal("1.0"), TOWN)
        app.note_supervision(position, post_tenant=TOWN, valid_from=date(2021, 1, 1), valid_to=None)
    settings = served.settings

    def headers(role: str, position: UUID | None = None) -> dict[str, str]:
        token = mint_token(settings, tenant=TOWN, roles=[role], position=position)
        return {"Authorization": f"Bearer {token}"}

    town = Town(served, position, headers("case_manager", position), headers("coordinator"))
    town.call("PUT", "/settings", town.coordinator, {"approvals": ["closure"]})
    wait_for(
        lambda: platform.read.rows("case_management", [TOWN], "KnownPosition"),
        "Emsdetten's position in the read model",
        timeout=10,
    )
    return town

"""An erasure changes no figure: statements and case figures are byte-identical after it.

The funding history must stay provable after a person is erased (deletion concept): the
Verwendungsnachweis as of a log position, as CSV and as PDF, and the GraphQL case figures of
the town and the district come out the same bytes before and after an erasure with ``now``
(the person's key destroyed, a new key epoch begun).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.case_support import CM, demo_position, ok, open_case, register_person
from tests.gateway.test_gateway import query
from tests.support import Auth

STATEMENT = "/audit/tenants/kreis-steinfurt/statements/KIM-B2-2021-05566"
FIGURES = """{ caseFigures(tenant: "rheine") { tenants openCases closedCases
  byState { key count } byLifeDimension { key count } byReferralSource { key count }
  byClosureReason { key count } gapsReported caseload { positionId openCases } } }"""
DISTRICT = """{ caseFigures(tenant: "kreis-steinfurt", includeMembers: true) {
  tenants openCases closedCases byState { key count } } }"""


def documents(client: TestClient, auth: Auth, position: int) -> dict[str, bytes]:
    auditor = auth("kreis-steinfurt", "auditor")
    found = {}
    for form in ("csv", "pdf"):
        response = client.get(
            STATEMENT, params={"year": 2021, "format": form, "position": position},
            headers=auditor,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        found[form] = response.content
    return found


def figures(client: TestClient, auth: Auth, at: int) -> list[Any]:
    town = query(client, FIGURES.replace("rheine\")", f'rheine", atPosition: {at})'),
                 auth("rheine", "coordinator"))  # fmt: skip
    district = query(client, DISTRICT, auth("kreis-steinfurt", "district_coordinator"))
    return [town.json(), district.json()]


def test_statements_and_case_figures_are_byte_identical_after_an_erasure(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    person = register_person(client, cm, name="Oksana Erasure-Figures")
    case = open_case(client, cm, person)
    shown = ok(client.get(f"{CM.format(tenant='rheine')}/cases/{case}", headers=cm))
    assert shown["position_id"] == str(demo_position(platform))  # opened on the own position
    position = platform.store.head("kreis-steinfurt", "coordination")
    at = platform.store.head("rheine", "case_management")
    before_documents = documents(client, auth, position)
    before_figures = figures(client, auth, at)
    assert all("errors" not in answer for answer in before_figures), before_figures
    assert before_figures[0]["data"]["caseFigures"]["openCases"] >= 1
    assert before_documents["pdf"].startswith(b"%PDF")

    erased = client.post(
        f"{CM.format(tenant='rheine')}/people/{person}/erasure",
        json={"on": "2026-12-01", "now": True}, headers=cm,
    )  # fmt: skip
    assert erased.status_code == 200, erased.text
    assert erased.headers.get("KIM-Key-Epoch")
    after_at = platform.store.head("rheine", "case_management")
    assert after_at > at  # the erasure is in the log

    assert documents(client, auth, position) == before_documents
    assert figures(client, auth, after_at) == before_figures

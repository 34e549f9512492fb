"""Auditors in GraphQL: every query is recorded in the audited tenant's log however it is
written (variables, fragments, aliases), the mandate limits GraphQL exactly as it limits
REST, and only the platform writes the audit log (no tenant outside the mandate, no tenant
that does not exist, no text of the caller's choosing)."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest
import strawberry
from fastapi.testclient import TestClient
from strawberry.types import Info

from contexts.audit.application import AuditApplication, AuditQuery, Purpose, Read
from gateway.context import GatewayContext
from gateway.schema import build_schema
from runtime.http.auth import Principal, Role
from runtime.platform import Platform
from tests.gateway.test_gateway import GRAPHQL, data_of, query
from tests.support import Auth, assert_problem


def queries_in(platform: Platform, tenant: str) -> list[AuditQuery]:
    return [q for _, q in platform.app(AuditApplication, tenant).queries()]


def audit_heads(platform: Platform) -> dict[str, int]:
    return {t: h for (t, c), h in platform.store.heads().items() if c == "audit"}


def canonical(fields: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(f, sort_keys=True) for f in fields)


def codes(response: Any) -> list[str | None]:
    return [(e.get("extensions") or {}).get("code") for e in response.json().get("errors") or []]


VARIABLES_FRAGMENTS_ALIASES = """
query Figures($town: String!, $members: Boolean!) {
  here: caseFigures(tenant: $town) { openCases }
  there: caseFigures(tenant: "emsdetten") { openCases }
  ...Money
  district: caseFigures(tenant: "kreis-steinfurt", includeMembers: $members) { tenants }
}
fragment Money on Query { funding(tenant: $town, month: "2021-10") { reference } }
"""


def test_an_auditors_query_is_recorded_once_per_tenant_with_the_resolved_arguments(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("kreis-steinfurt", "auditor")
    body = {
        "query": VARIABLES_FRAGMENTS_ALIASES,
        "variables": {"town": "rheine", "members": True},
    }
    response = client.post(GRAPHQL, json=body, headers=headers)
    data = data_of(response)
    assert sorted(data["district"]["tenants"]) == ["emsdetten", "kreis-steinfurt", "rheine"]

    district_figures = {
        "field": "caseFigures", "tenant": "kreis-steinfurt", "includeMembers": True,
        "atPosition": None,
    }  # fmt: skip
    ((rheine),) = queries_in(platform, "rheine")
    assert (rheine.auditor, rheine.view) == ("kreis-steinfurt/dev-auditor", "graphql")
    assert canonical(rheine.parameters["fields"]) == canonical(
        [
            {"field": "caseFigures", "tenant": "rheine", "includeMembers": False,
             "atPosition": None},
            {"field": "funding", "tenant": "rheine", "month": "2021-10",
             "includeMembers": False, "atPosition": None},
            district_figures,
        ]
    )  # fmt: skip
    ((emsdetten),) = queries_in(platform, "emsdetten")
    assert len(emsdetten.parameters["fields"]) == 2  # its own figures, and as a member
    ((district),) = queries_in(platform, "kreis-steinfurt")
    assert district.parameters["fields"] == [district_figures]
    assert "query" not in rheine.parameters  # the query text is not recorded


def test_the_query_text_decides_nothing_and_caller_text_is_not_recorded(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    # A tenant named only in a comment or a string is not read, so not recorded; the
    # state filter's text is caller's choice: the log keeps that there was one, not what.
    text = """# tenant: "aachen"
    { cases(tenant: "rheine", state: "call 0123 456 tenant: \\"aachen\\"") { id } }"""
    headers = auth("nrw", "auditor")
    assert data_of(query(client, text, headers)) == {"cases": []}
    ((recorded),) = queries_in(platform, "rheine")
    (field,) = recorded.parameters["fields"]
    assert (field["field"], field["state"]) == ("cases", "<omitted>")
    assert "0123" not in str(recorded.parameters)
    assert queries_in(platform, "aachen") == []
    # A refused field records nothing: bad input, and a tenant the auditor does not audit.
    before = audit_heads(platform)
    bad = '{ funding(tenant: "rheine", month: "my own words") { reference } }'
    assert codes(query(client, bad, headers)) == ["BAD_USER_INPUT"]
    outside = '{ caseFigures(tenant: "rheine") { openCases } }'
    assert codes(query(client, outside, auth("aachen", "auditor"))) == ["FORBIDDEN"]
    assert audit_heads(platform) == before


def test_the_mandate_limits_graphql_exactly_as_rest(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    aachen_only = auth("nrw", "auditor", mandate=["aachen"])
    before = audit_heads(platform)
    for text in (
        '{ caseFigures(tenant: "rheine") { openCases } }',
        '{ funding(tenant: "kreis-steinfurt", month: "2021-10") { reference } }',
        '{ caseFigures(tenant: "kreis-steinfurt") { openCases } }',
        '{ positions(tenant: "rheine") { id } }',
        '{ gaps(tenant: "rheine") { bySource { key } } }',
        '{ positionsWorkingIn(tenant: "rheine") { id } }',
        '{ cases(tenant: "rheine") { id } }',
        '{ caseFigures(tenant: "nrw", includeMembers: true) { openCases } }',
    ):
        response = query(client, text, aachen_only)
        assert codes(response) == ["FORBIDDEN"], text
        assert response.json()["data"] is None, text
    assert audit_heads(platform) == before  # refused: nothing recorded
    # REST says the same.
    assert_problem(
        client.get("/audit/tenants/rheine/verification", headers=aachen_only),
        403,
        "outside-mandate",
    )
    assert data_of(query(client, '{ caseFigures(tenant: "aachen") { openCases } }', aachen_only))
    assert len(queries_in(platform, "aachen")) == 1

    # A mandate for the district names the district, not its towns.
    district_only = auth("nrw", "auditor", mandate=["kreis-steinfurt"])
    own = '{ caseFigures(tenant: "kreis-steinfurt") { openCases } }'
    assert data_of(query(client, own, district_only))
    before = audit_heads(platform)
    for text in (
        '{ caseFigures(tenant: "kreis-steinfurt", includeMembers: true) { openCases } }',
        '{ funding(tenant: "kreis-steinfurt", month: "2021-10", includeMembers: true)'
        " { reference } }",
        '{ regionalAreas(tenant: "kreis-steinfurt") { name openCases } }',
    ):
        assert codes(query(client, text, district_only)) == ["FORBIDDEN"], text
    assert audit_heads(platform) == before
    both = auth("nrw", "auditor", mandate=["kreis-steinfurt", "rheine"])
    areas = data_of(query(client, '{ regionalAreas(tenant: "kreis-steinfurt") { name } }', both))
    assert areas["regionalAreas"]


def test_a_tenant_that_does_not_exist_gets_nothing_appended(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    before = platform.store.heads()
    nowhere = auth("atlantis", "auditor", mandate=["rheine", "atlantis"])
    # A token of an unregistered tenant is not taken at all, on REST and in GraphQL.
    assert_problem(
        client.get("/audit/tenants/rheine/verification", headers=nowhere), 401, "unauthenticated"
    )
    for text in ('{ caseFigures(tenant: "rheine") { openCases } }', "{ tenants { key } }"):
        assert_problem(query(client, text, nowhere), 401, "unauthenticated")
    # A registered auditor asking for a tenant that is not registered.
    auditor = auth("nrw", "auditor")
    assert_problem(
        client.get("/audit/tenants/atlantis/verification", headers=auditor), 404, "unknown-tenant"
    )
    assert codes(query(client, '{ caseFigures(tenant: "atlantis") { openCases } }', auditor)) == [
        "FORBIDDEN"
    ]
    # An unknown notice is refused before anything is recorded: its text never reaches a log.
    refused = client.get(
        "/audit/tenants/rheine/statements/free text of mine",
        params={"year": 2021},
        headers=auditor,
    )
    assert_problem(refused, 422, "unknown-notice")
    assert platform.store.heads() == before
    assert ("atlantis", "audit") not in platform.store.heads()


def test_a_failing_audit_log_withholds_the_answer(
    client: TestClient, platform: Platform, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(AuditApplication, "record_query", broken)
    response = query(client, '{ cases(tenant: "rheine") { id person } }', auth("nrw", "auditor"))
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["data"] is None
    assert codes(response) == ["AUDIT_LOG_UNAVAILABLE"]
    # Others' queries do not touch the audit log.
    figures = '{ caseFigures(tenant: "rheine") { openCases } }'
    assert data_of(query(client, figures, auth("rheine", "coordinator")))


PERSON = uuid4()


@strawberry.type
class PersonalQuery:
    @strawberry.field
    def languages(self, info: Info[GatewayContext, Any]) -> list[str]:
        info.context.read_personal_data(
            "rheine", Read(PERSON, ("languages",), Purpose.CASE, uuid4())
        )
        return ["uk"]


async def test_personal_data_a_resolver_gives_out_is_recorded_before_the_answer(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = build_schema([PersonalQuery])
    reader = Principal("anna", "rheine", frozenset({Role.CASE_MANAGER}), uuid4())
    result = await schema.execute("{ languages }", context_value=GatewayContext(platform, reader))
    assert (result.data, result.errors) == ({"languages": ["uk"]}, None)
    (read,) = platform.app(AuditApplication, "rheine").reads_of(PERSON)
    assert (read.reader, read.channel, read.fields) == ("rheine/anna", "graphql", ["languages"])

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(AuditApplication, "record_reads", broken)
    result = await schema.execute("{ languages }", context_value=GatewayContext(platform, reader))
    assert result.data is None
    assert [e.extensions for e in result.errors or []] == [{"code": "AUDIT_LOG_UNAVAILABLE"}]

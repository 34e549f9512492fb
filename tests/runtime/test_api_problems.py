"""Every error of the REST API is an RFC 9457 problem, and a refused request appends nothing."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.support import PROBLEM, Auth, assert_problem

ORGS = "/coordination/tenants/rheine/organisations"


def error_fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


def register(client: TestClient, headers: dict[str, str], **body: Any) -> str:
    payload = {"name": "Lernen fördern e.V.", "kind": "welfare_provider", **body}
    response = client.post(ORGS, json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["events"][0]["aggregate_id"])


def test_unknown_tenant_is_a_404_problem_and_appends_nothing(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    before = platform.store.heads()
    response = client.post(
        "/coordination/tenants/atlantis/organisations",
        json={"name": "Verein", "kind": "welfare_provider"},
        headers=auth("rheine", "coordinator"),
    )
    body = assert_problem(response, 404, "unknown-tenant")
    assert "atlantis" in body["detail"]
    assert body["instance"] == "/coordination/tenants/atlantis/organisations"
    assert platform.store.heads() == before


def test_malformed_json_is_a_400_problem_and_appends_nothing(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    before = platform.store.heads()
    response = client.post(
        ORGS,
        content=b'{"name": "Verein", "kind": ',
        headers={**auth("rheine", "coordinator"), "content-type": "application/json"},
    )
    body = assert_problem(response, 400, "malformed-json")
    assert error_fields(body) == {"body"}
    assert platform.store.heads() == before


def test_wrong_types_are_a_422_problem_naming_the_fields_and_append_nothing(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    before = platform.store.heads()
    response = client.post(
        ORGS,
        json={"name": 42, "kind": "castle"},
        headers=auth("rheine", "coordinator"),
    )
    body = assert_problem(response, 422, "validation-failed")
    assert error_fields(body) == {"name", "kind"}
    assert all(e["reason"] for e in body["errors"])
    assert platform.store.heads() == before


def test_missing_fields_are_a_422_problem_naming_the_fields_and_append_nothing(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    before = platform.store.heads()
    response = client.post(ORGS, json={}, headers=auth("rheine", "coordinator"))
    body = assert_problem(response, 422, "validation-failed")
    assert error_fields(body) == {"name", "kind"}
    assert "name" in body["detail"]
    assert "kind" in body["detail"]
    assert platform.store.heads() == before


@pytest.mark.parametrize(
    ("body", "rule", "fields"),
    [
        ({"name": "   ", "kind": "welfare_provider"}, "validation-failed", {"name"}),
        (
            {"name": "Verein", "kind": "welfare_provider", "colour": "blue"},
            "validation-failed",
            {"colour"},
        ),
        ({"name": "Ausländerbehörde", "kind": "office"}, "office-type-required", {"office_type"}),
        (
            {"name": "Verein", "kind": "welfare_provider", "office_type": "job_centre"},
            "office-type-only-for-offices",
            {"office_type"},
        ),
    ],
    ids=["blank-name", "unknown-extra-field", "office-without-type", "type-on-a-provider"],
)
def test_an_invalid_organisation_is_a_422_problem_naming_the_field_and_appends_nothing(
    client: TestClient,
    platform: Platform,
    auth: Auth,
    body: dict[str, Any],
    rule: str,
    fields: set[str],
) -> None:
    before = platform.store.heads()
    response = client.post(ORGS, json=body, headers=auth("rheine", "coordinator"))
    problem = assert_problem(response, 422, rule)
    assert error_fields(problem) == fields
    assert platform.store.heads() == before


def test_an_office_with_its_office_type_is_registered(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("rheine", "coordinator")
    org = register(
        client, headers, name="Ausländerbehörde", kind="office", office_type="job_centre"
    )
    response = client.get(f"{ORGS}/{org}", headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "id": org,
        "version": 1,
        "name": "Ausländerbehörde",
        "kind": "office",
        "office_type": "job_centre",
        "active": True,
    }


def test_an_unknown_organisation_is_a_404_problem_and_appends_nothing(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("rheine", "coordinator")
    missing = str(uuid.uuid4())
    response = client.get(f"{ORGS}/{missing}", headers=headers)
    body = assert_problem(response, 404, "not-found")
    assert missing in body["detail"]

    before = platform.store.heads()
    response = client.post(f"{ORGS}/{missing}/rename", json={"name": "Neu"}, headers=headers)
    assert_problem(response, 404, "not-found")
    response = client.post(f"{ORGS}/{missing}/close", json={}, headers=headers)
    assert_problem(response, 404, "not-found")
    assert platform.store.heads() == before


def test_a_malformed_organisation_id_is_a_422_problem(client: TestClient, auth: Auth) -> None:
    response = client.get(f"{ORGS}/not-a-uuid", headers=auth("rheine", "coordinator"))
    body = assert_problem(response, 422, "validation-failed")
    assert error_fields(body) == {"organisation_id"}


def test_an_unknown_route_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/no/such/route")
    body = assert_problem(response, 404, "not-found")
    assert body["instance"] == "/no/such/route"


def test_a_wrong_method_is_a_405_problem(client: TestClient, auth: Auth) -> None:
    response = client.delete(ORGS, headers=auth("rheine", "coordinator"))
    assert_problem(response, 405, "method-not-allowed")


def test_a_stale_expected_version_is_a_409_problem_with_the_versions_and_appends_nothing(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("rheine", "coordinator")
    org = register(client, headers)
    before = platform.store.head("rheine", "coordination")

    response = client.post(
        f"{ORGS}/{org}/rename", json={"name": "Neu", "expected_version": 5}, headers=headers
    )
    body = assert_problem(response, 409, "stale-version")
    assert body["facts"] == {"expected_version": 5, "actual_version": 1}
    assert platform.store.head("rheine", "coordination") == before

    response = client.post(f"{ORGS}/{org}/close", json={"expected_version": 2}, headers=headers)
    assert_problem(response, 409, "stale-version")
    assert platform.store.head("rheine", "coordination") == before


def test_the_current_expected_version_renames(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("rheine", "coordinator")
    org = register(client, headers)
    before = platform.store.head("rheine", "coordination")

    response = client.post(
        f"{ORGS}/{org}/rename", json={"name": "Neuer Name", "expected_version": 1}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tenant"] == "rheine"
    assert body["context"] == "coordination"
    assert body["position"] == before + 1
    assert response.headers["KIM-Position"] == str(before + 1)
    assert body["events"] == [
        {
            "aggregate_id": org,
            "version": 2,
            "type": "OrganisationRenamed",
            "position": before + 1,
        }
    ]
    assert platform.store.head("rheine", "coordination") == before + 1
    shown = client.get(f"{ORGS}/{org}", headers=headers).json()
    assert shown["name"] == "Neuer Name"
    assert shown["version"] == 2


def test_of_concurrent_renames_expecting_one_version_exactly_one_wins(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("rheine", "coordinator")
    org = register(client, headers)
    before = platform.store.head("rheine", "coordination")

    def rename(i: int) -> httpx.Response:
        body = {"name": f"Name {i}", "expected_version": 1}
        response: httpx.Response = client.post(f"{ORGS}/{org}/rename", json=body, headers=headers)
        return response

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(rename, range(8)))

    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["rule"] in {"stale-version", "concurrent-write"}
    assert platform.store.head("rheine", "coordination") == before + 1
    (winner,) = (r for r in responses if r.status_code == 200)
    shown = client.get(f"{ORGS}/{org}", headers=headers).json()
    assert shown["version"] == 2
    assert winner.json()["events"][0]["version"] == 2


def test_names_are_trimmed_and_inner_whitespace_collapsed(client: TestClient, auth: Auth) -> None:
    headers = auth("rheine", "coordinator")
    org = register(client, headers, name="  Lernen   fördern \t e.V.  ")
    assert client.get(f"{ORGS}/{org}", headers=headers).json()["name"] == "Lernen fördern e.V."


def test_closing_twice_is_a_422_problem_and_appends_nothing(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("rheine", "coordinator")
    org = register(client, headers)
    assert client.post(f"{ORGS}/{org}/close", json={}, headers=headers).status_code == 200
    before = platform.store.head("rheine", "coordination")

    response = client.post(f"{ORGS}/{org}/close", json={}, headers=headers)
    assert_problem(response, 422, "organisation-closed")
    assert platform.store.head("rheine", "coordination") == before
    assert client.get(f"{ORGS}/{org}", headers=headers).json()["active"] is False


def test_the_service_keeps_answering_after_refused_requests(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("rheine", "coordinator")
    before = platform.store.heads()
    client.post(ORGS, content=b"{", headers={**headers, "content-type": "application/json"})
    client.post(ORGS, json={"name": "x", "kind": "office"}, headers=headers)
    client.get(f"{ORGS}/{uuid.uuid4()}", headers=headers)
    client.get("/coordination/tenants/atlantis/organisations/x", headers=headers)
    assert platform.store.heads() == before

    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/healthz").status_code == 200
    register(client, headers)
    assert (
        platform.store.head("rheine", "coordination")
        == before.get(("rheine", "coordination"), 0) + 1
    )

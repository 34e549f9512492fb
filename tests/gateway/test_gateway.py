"""The GraphQL gateway: bearer authentication, registry queries, limits, GraphiQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform

PROBLEM = "application/problem+json"
Auth = Callable[..., dict[str, str]]
GRAPHQL = "/graphql"


def query(client: TestClient, text: str, headers: dict[str, str] | None = None) -> httpx.Response:
    response: httpx.Response = client.post(GRAPHQL, json={"query": text}, headers=headers or {})
    return response


def data_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def errors_of(response: httpx.Response) -> list[str]:
    body: dict[str, Any] = response.json()
    assert body.get("errors"), body
    return [str(e["message"]) for e in body["errors"]]


def nested(field: str, levels: int) -> str:
    """``field { field { ... { key } } }`` nested ``levels`` deep."""
    return f"{field} {{ " * levels + "key" + " }" * levels


def test_a_query_without_token_is_a_401_problem(client: TestClient) -> None:
    response = query(client, "{ tenants { key } }")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["type"] == "urn:kim:problem:unauthenticated"
    assert body["rule"] == "unauthenticated"
    assert body["status"] == 401
    assert body["title"] == "Unauthorized"
    assert "data" not in body


def test_a_query_with_a_garbage_token_is_a_401_problem(client: TestClient) -> None:
    response = query(client, "{ me { tenant } }", {"Authorization": "Bearer garbage"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["rule"] == "unauthenticated"


def test_me_shows_what_the_token_says(client: TestClient, token: Callable[..., str]) -> None:
    raw = token("rheine", "coordinator", "case_manager", subject="alice")
    response = query(client, "{ me { subject tenant roles } }", {"Authorization": f"Bearer {raw}"})
    assert data_of(response) == {
        "me": {"subject": "alice", "tenant": "rheine", "roles": ["case_manager", "coordinator"]}
    }


def test_a_tenant_shows_its_parent_and_who_holds_its_offices(
    client: TestClient, auth: Auth
) -> None:
    response = query(
        client,
        '{ tenant(key: "aachen") { key name kind ags parent { key name }'
        " officesHeldBy { office holder } } }",
        auth("aachen", "coordinator"),
    )
    assert data_of(response) == {
        "tenant": {
            "key": "aachen",
            "name": "Stadt Aachen",
            "kind": "district_free_city",
            "ags": "05334002",
            "parent": {"key": "nrw", "name": "Landesprogramm KIM Nordrhein-Westfalen"},
            "officesHeldBy": [
                {"office": "health_office", "holder": "staedteregion-aachen"},
                {"office": "immigration_office", "holder": "staedteregion-aachen"},
                {"office": "job_centre", "holder": "staedteregion-aachen"},
            ],
        }
    }


def test_a_district_lists_its_member_towns(client: TestClient, auth: Auth) -> None:
    response = query(
        client,
        '{ tenant(key: "kreis-steinfurt") { children { key parent { key } } } }',
        auth("kreis-steinfurt", "district_coordinator"),
    )
    children = data_of(response)["tenant"]["children"]
    assert {"key": "rheine", "parent": {"key": "kreis-steinfurt"}} in children


def test_the_state_programme_has_no_parent(client: TestClient, auth: Auth) -> None:
    response = query(client, '{ tenant(key: "nrw") { parent { key } } }', auth("nrw", "auditor"))
    assert data_of(response) == {"tenant": {"parent": None}}


def test_an_unknown_tenant_is_null(client: TestClient, auth: Auth) -> None:
    response = query(client, '{ tenant(key: "atlantis") { key } }', auth("rheine", "auditor"))
    assert data_of(response) == {"tenant": None}


def test_tenants_lists_the_registry_and_filters_by_kind(client: TestClient, auth: Auth) -> None:
    headers = auth("rheine", "steering_member")
    everyone = data_of(query(client, "{ tenants { key } }", headers))["tenants"]
    assert [t["key"] for t in everyone] == [
        "aachen",
        "emsdetten",
        "kreis-steinfurt",
        "nrw",
        "rheine",
        "staedteregion-aachen",
    ]
    towns = data_of(query(client, '{ tenants(kind: "member_town") { key } }', headers))
    assert towns == {"tenants": [{"key": "emsdetten"}, {"key": "rheine"}]}


def test_the_gateway_sees_registry_changes_at_once(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    admin = auth("nrw", "platform_admin")
    registered = client.post(
        "/tenancy/tenants",
        json={
            "key": "greven",
            "name": "Stadt Greven",
            "kind": "member_town",
            "parent": "kreis-steinfurt",
        },
        headers=admin,
    )
    assert registered.status_code == 201, registered.text
    renamed = client.post("/tenancy/tenants/rheine/rename", json={"name": "Rheine"}, headers=admin)
    assert renamed.status_code == 200, renamed.text

    response = query(
        client,
        '{ tenant(key: "kreis-steinfurt") { children { key name } } }',
        auth("kreis-steinfurt", "district_coordinator"),
    )
    assert data_of(response)["tenant"]["children"] == [
        {"key": "emsdetten", "name": "Stadt Emsdetten"},
        {"key": "greven", "name": "Stadt Greven"},
        {"key": "rheine", "name": "Rheine"},
    ]


@pytest.mark.parametrize("field", ["parent", "children"])
def test_a_query_nested_deeper_than_ten_levels_is_refused(
    client: TestClient, auth: Auth, field: str
) -> None:
    text = f'{{ tenant(key: "rheine") {{ {nested(field, 12)} }} }}'
    response = query(client, text, auth("rheine", "coordinator"))
    body = response.json()
    assert body.get("data") is None
    messages = errors_of(response)
    assert any("exceeds maximum operation depth of 10" in m for m in messages), messages


def test_a_query_within_the_depth_limit_is_answered(client: TestClient, auth: Auth) -> None:
    text = f'{{ tenant(key: "rheine") {{ {nested("parent", 5)} }} }}'
    data = data_of(query(client, text, auth("rheine", "coordinator")))
    # rheine -> kreis-steinfurt -> nrw -> none
    assert data == {"tenant": {"parent": {"parent": {"parent": None}}}}


def test_the_depth_limit_lies_at_ten_levels(client: TestClient, auth: Auth) -> None:
    headers = auth("nrw", "auditor")
    deepest = f'{{ tenant(key: "nrw") {{ {nested("children", 9)} }} }}'
    assert data_of(query(client, deepest, headers))["tenant"]["children"]
    too_deep = f'{{ tenant(key: "nrw") {{ {nested("children", 10)} }} }}'
    messages = errors_of(query(client, too_deep, headers))
    assert any("exceeds maximum operation depth of 10" in m for m in messages), messages


def test_a_query_with_too_many_tokens_is_refused(client: TestClient, auth: Auth) -> None:
    text = "{ " + " ".join(f"t{i}: tenants {{ key }}" for i in range(600)) + " }"
    response = query(client, text, auth("rheine", "coordinator"))
    assert response.json().get("data") is None
    messages = errors_of(response)
    assert any("token" in m.lower() for m in messages), messages


def test_a_syntax_error_is_reported_not_masked(client: TestClient, auth: Auth) -> None:
    response = query(client, "{ tenants { key ", auth("rheine", "coordinator"))
    messages = errors_of(response)
    assert any("Syntax Error" in m for m in messages), messages


def test_an_unknown_field_is_reported_not_masked(client: TestClient, auth: Auth) -> None:
    response = query(client, "{ tenants { secret } }", auth("rheine", "coordinator"))
    messages = errors_of(response)
    assert any("secret" in m for m in messages), messages


def test_graphiql_is_served_to_a_browser(client: TestClient) -> None:
    response = client.get(GRAPHQL, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


def test_a_query_in_a_browser_get_still_needs_a_token(client: TestClient) -> None:
    response = client.get(
        GRAPHQL, params={"query": "{ tenants { key } }"}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"

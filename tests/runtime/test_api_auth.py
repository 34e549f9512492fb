"""Bearer authentication and tenant/role authorisation: refusals are problems, append nothing."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from runtime.settings import Settings
from tests.support import Auth, assert_problem

ORGS = "/coordination/tenants/{tenant}/organisations"
NEW_ORG = {"name": "Lernen fördern e.V.", "kind": "welfare_provider"}
NEW_TENANT = {"key": "greven", "name": "Stadt Greven", "kind": "member_town"}


def assert_unauthenticated(response: httpx.Response) -> dict[str, Any]:
    body = assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    return body


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "alice",
        "tenant": "rheine",
        "roles": ["coordinator"],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return base


def register(client: TestClient, tenant: str, headers: dict[str, str]) -> str:
    response = client.post(ORGS.format(tenant=tenant), json=NEW_ORG, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["events"][0]["aggregate_id"])


def test_a_request_without_token_is_a_401_problem_asking_for_bearer(
    client: TestClient, platform: Platform
) -> None:
    before = platform.store.heads()
    response = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG)
    body = assert_unauthenticated(response)
    assert "bearer" in body["detail"].lower()
    assert platform.store.heads() == before


def test_a_non_bearer_authorization_header_is_a_401_problem(
    client: TestClient, platform: Platform
) -> None:
    before = platform.store.heads()
    response = client.post(
        ORGS.format(tenant="rheine"), json=NEW_ORG, headers={"Authorization": "Basic YTpi"}
    )
    assert_unauthenticated(response)
    response = client.post(
        ORGS.format(tenant="rheine"), json=NEW_ORG, headers={"Authorization": "Bearer   "}
    )
    assert_unauthenticated(response)
    assert platform.store.heads() == before


def test_a_garbage_token_is_a_401_problem(client: TestClient, platform: Platform) -> None:
    before = platform.store.heads()
    response = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=bearer("not.a.jwt"))
    assert_unauthenticated(response)
    assert platform.store.heads() == before


def test_a_token_signed_with_another_secret_is_a_401_problem(
    client: TestClient, platform: Platform, settings: Settings
) -> None:
    forged = jwt.encode(claims(settings), "another-secret-0123456789abcdef0123", algorithm="HS256")
    before = platform.store.heads()
    response = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=bearer(forged))
    body = assert_unauthenticated(response)
    assert "signature" in body["detail"].lower()
    assert platform.store.heads() == before


def test_an_expired_token_is_a_401_problem(
    client: TestClient, platform: Platform, settings: Settings
) -> None:
    past = int(time.time()) - 3600
    expired = jwt.encode(
        claims(settings, iat=past - 60, exp=past), settings.jwt_secret, algorithm="HS256"
    )
    before = platform.store.heads()
    response = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=bearer(expired))
    body = assert_unauthenticated(response)
    assert "expired" in body["detail"]
    assert platform.store.heads() == before


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"aud": "someone-else"}, id="wrong-audience"),
        pytest.param({"iss": "someone-else"}, id="wrong-issuer"),
        pytest.param({"tenant": None}, id="no-tenant-claim"),
        pytest.param({"exp": None}, id="no-expiry"),
        pytest.param({"sub": None}, id="no-subject"),
        pytest.param({"nbf": int(time.time()) + 3600}, id="not-yet-valid"),
    ],
)
def test_a_token_with_wrong_or_missing_claims_is_a_401_problem(
    client: TestClient, platform: Platform, settings: Settings, overrides: dict[str, Any]
) -> None:
    payload = {k: v for k, v in claims(settings, **overrides).items() if v is not None}
    raw = jwt.encode(payload, settings.jwt_secret, algorithm="HS256")
    before = platform.store.heads()
    response = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=bearer(raw))
    assert_unauthenticated(response)
    assert platform.store.heads() == before


def test_an_unsigned_token_is_a_401_problem(
    client: TestClient, platform: Platform, settings: Settings
) -> None:
    unsigned = jwt.encode(claims(settings), "", algorithm="none")
    before = platform.store.heads()
    response = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=bearer(unsigned))
    assert_unauthenticated(response)
    assert platform.store.heads() == before


def test_a_hand_minted_valid_token_is_accepted(
    client: TestClient, platform: Platform, settings: Settings
) -> None:
    raw = jwt.encode(claims(settings), settings.jwt_secret, algorithm="HS256")
    before = platform.store.head("rheine", "coordination")
    register(client, "rheine", bearer(raw))
    assert platform.store.head("rheine", "coordination") == before + 1


def test_a_token_of_rheine_may_not_write_to_aachen(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    before = platform.store.heads()
    response = client.post(
        ORGS.format(tenant="aachen"), json=NEW_ORG, headers=auth("rheine", "coordinator")
    )
    body = assert_problem(response, 403, "tenant-not-allowed")
    assert body["tenant"] == "aachen"
    assert "rheine" in body["detail"]
    assert platform.store.heads() == before


def test_a_case_manager_may_not_register_an_organisation(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    before = platform.store.heads()
    response = client.post(
        ORGS.format(tenant="rheine"), json=NEW_ORG, headers=auth("rheine", "case_manager")
    )
    body = assert_problem(response, 403, "role-not-allowed")
    assert body["roles"] == ["coordinator", "district_coordinator"]
    assert platform.store.heads() == before


@pytest.mark.parametrize(
    "role",
    ["case_manager", "immigration_officer", "steering_member", "auditor", "platform_admin"],
)
def test_only_coordinators_may_write_organisations(
    client: TestClient, platform: Platform, auth: Auth, role: str
) -> None:
    writer = auth("rheine", "coordinator")
    org = register(client, "rheine", writer)
    before = platform.store.heads()
    headers = auth("rheine", role)
    url = ORGS.format(tenant="rheine")
    assert_problem(client.post(url, json=NEW_ORG, headers=headers), 403, "role-not-allowed")
    response = client.post(f"{url}/{org}/rename", json={"name": "Neu"}, headers=headers)
    assert_problem(response, 403, "role-not-allowed")
    response = client.post(f"{url}/{org}/close", json={}, headers=headers)
    assert_problem(response, 403, "role-not-allowed")
    assert platform.store.heads() == before


@pytest.mark.parametrize(
    "role", ["case_manager", "immigration_officer", "steering_member", "auditor"]
)
def test_reader_roles_may_read_their_own_tenants_organisation(
    client: TestClient, auth: Auth, role: str
) -> None:
    org = register(client, "rheine", auth("rheine", "coordinator"))
    response = client.get(f"{ORGS.format(tenant='rheine')}/{org}", headers=auth("rheine", role))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == org


def test_a_platform_admin_may_not_read_a_tenants_organisation(
    client: TestClient, auth: Auth
) -> None:
    org = register(client, "rheine", auth("rheine", "coordinator"))
    response = client.get(
        f"{ORGS.format(tenant='rheine')}/{org}", headers=auth("nrw", "platform_admin")
    )
    assert_problem(response, 403, "role-not-allowed")


def test_a_token_without_any_known_role_is_refused(
    client: TestClient, platform: Platform, settings: Settings
) -> None:
    raw = jwt.encode(
        claims(settings, roles=["superuser", "root"]), settings.jwt_secret, algorithm="HS256"
    )
    before = platform.store.heads()
    response = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=bearer(raw))
    assert_problem(response, 403, "role-not-allowed")
    assert platform.store.heads() == before


def test_the_district_may_read_but_not_write_its_member_towns_organisation(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    org = register(client, "rheine", auth("rheine", "coordinator"))
    district = auth("kreis-steinfurt", "district_coordinator")
    url = ORGS.format(tenant="rheine")

    response = client.get(f"{url}/{org}", headers=district)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == NEW_ORG["name"]

    before = platform.store.heads()
    assert_problem(client.post(url, json=NEW_ORG, headers=district), 403, "tenant-not-allowed")
    response = client.post(f"{url}/{org}/rename", json={"name": "Neu"}, headers=district)
    assert_problem(response, 403, "tenant-not-allowed")
    response = client.post(f"{url}/{org}/close", json={}, headers=district)
    assert_problem(response, 403, "tenant-not-allowed")
    assert platform.store.heads() == before


def test_the_state_programme_may_read_down_the_whole_hierarchy(
    client: TestClient, auth: Auth
) -> None:
    org = register(client, "rheine", auth("rheine", "coordinator"))
    response = client.get(
        f"{ORGS.format(tenant='rheine')}/{org}", headers=auth("nrw", "steering_member")
    )
    assert response.status_code == 200, response.text


def test_a_member_town_may_not_read_up_to_its_district(client: TestClient, auth: Auth) -> None:
    org = register(client, "kreis-steinfurt", auth("kreis-steinfurt", "district_coordinator"))
    response = client.get(
        f"{ORGS.format(tenant='kreis-steinfurt')}/{org}", headers=auth("rheine", "coordinator")
    )
    assert_problem(response, 403, "tenant-not-allowed")


def test_rheine_may_not_read_aachens_organisation(client: TestClient, auth: Auth) -> None:
    org = register(client, "aachen", auth("aachen", "coordinator"))
    response = client.get(
        f"{ORGS.format(tenant='aachen')}/{org}", headers=auth("rheine", "coordinator")
    )
    body = assert_problem(response, 403, "tenant-not-allowed")
    assert body["tenant"] == "aachen"


def test_the_region_may_not_read_the_district_free_city_whose_offices_it_holds(
    client: TestClient, auth: Auth
) -> None:
    org = register(client, "aachen", auth("aachen", "coordinator"))
    response = client.get(
        f"{ORGS.format(tenant='aachen')}/{org}",
        headers=auth("staedteregion-aachen", "district_coordinator"),
    )
    assert_problem(response, 403, "tenant-not-allowed")


@pytest.mark.parametrize(
    ("tenant", "role"),
    [
        ("nrw", "coordinator"),
        ("nrw", "district_coordinator"),
        ("rheine", "coordinator"),
        ("kreis-steinfurt", "district_coordinator"),
        ("nrw", "auditor"),
    ],
)
def test_only_a_platform_admin_may_register_tenants(
    client: TestClient, platform: Platform, auth: Auth, tenant: str, role: str
) -> None:
    before = platform.store.heads()
    body = {**NEW_TENANT, "parent": "kreis-steinfurt"}
    response = client.post("/tenancy/tenants", json=body, headers=auth(tenant, role))
    assert_problem(response, 403, "role-not-allowed")
    response = client.post(
        "/tenancy/tenants/rheine/rename", json={"name": "Rheine"}, headers=auth(tenant, role)
    )
    assert_problem(response, 403, "role-not-allowed")
    assert platform.store.heads() == before
    assert client.get("/tenancy/tenants/greven", headers=auth(tenant, role)).status_code == 404


def test_the_tenant_registry_needs_a_token(client: TestClient, platform: Platform) -> None:
    before = platform.store.heads()
    assert_unauthenticated(client.get("/tenancy/tenants"))
    assert_unauthenticated(client.get("/tenancy/tenants/rheine"))
    assert_unauthenticated(client.post("/tenancy/tenants", json=NEW_TENANT))
    assert platform.store.heads() == before


def test_health_endpoints_need_no_token(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"


# -- the tenant claim, platform_admin and the token's lifetime ------------------------------

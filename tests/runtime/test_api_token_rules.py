"""The token rules beyond the signature: a registered tenant, the platform administrator only
of the state programme, a maximum lifetime."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from runtime.settings import Settings
from tests.runtime.test_api_auth import (
    NEW_TENANT,
    assert_unauthenticated,
    bearer,
    claims,
)
from tests.support import Auth, assert_problem


def test_a_token_naming_no_registered_tenant_is_a_401_problem(
    client: TestClient, settings: Settings
) -> None:
    raw = jwt.encode(claims(settings, tenant="atlantis"), settings.jwt_secret, algorithm="HS256")
    body = assert_unauthenticated(client.get("/tenancy/tenants", headers=bearer(raw)))
    assert "registered tenant" in body["detail"]
    graphql = client.post("/graphql", json={"query": "{ me { tenant } }"}, headers=bearer(raw))
    assert_unauthenticated(graphql)


@pytest.mark.parametrize("tenant", ["rheine", "kreis-steinfurt", "aachen"])
def test_platform_admin_counts_only_in_a_token_of_the_state_programme(
    client: TestClient, platform: Platform, auth: Auth, tenant: str
) -> None:
    before = platform.store.heads()
    body = {**NEW_TENANT, "parent": "kreis-steinfurt"}
    refused = client.post("/tenancy/tenants", json=body, headers=auth(tenant, "platform_admin"))
    assert_problem(refused, 403, "role-not-allowed")
    assert platform.store.heads() == before
    me = client.post(
        "/graphql", json={"query": "{ me { roles } }"}, headers=auth(tenant, "platform_admin")
    )
    assert me.json() == {"data": {"me": {"roles": []}}}
    admitted = client.post("/tenancy/tenants", json=body, headers=auth("nrw", "platform_admin"))
    assert admitted.status_code == 201, admitted.text


def test_on_an_empty_registry_a_platform_admin_registers_the_state_programme(
    settings: Settings, store: Any, bus_factory: Any, auth: Auth
) -> None:
    from kim.assembly import build_app

    empty = Platform(settings, store=store, bus=bus_factory())
    try:
        with TestClient(build_app(settings, platform=empty)) as c:
            nrw = {"key": "nrw", "name": "Landesprogramm KIM", "kind": "state_programme"}
            made = c.post("/tenancy/tenants", json=nrw, headers=auth("nrw", "platform_admin"))
            assert made.status_code == 201, made.text
            town = {**NEW_TENANT, "kind": "district", "key": "kreis-x", "parent": "nrw"}
            stranger = auth("kreis-x", "platform_admin")
            assert_unauthenticated(c.post("/tenancy/tenants", json=town, headers=stranger))
    finally:
        empty.close_read()


@pytest.mark.parametrize(
    ("issued", "expires"),
    [(0, 12 * 3600 + 60), (-3600, 100 * 365 * 24 * 3600), (None, 13 * 3600)],
    ids=["13h-from-iat", "100-years", "no-iat-13h"],
)
def test_a_token_valid_for_longer_than_the_maximum_is_a_401_problem(
    client: TestClient, settings: Settings, issued: int | None, expires: int
) -> None:
    now = int(time.time())
    payload = claims(settings, exp=now + expires, iat=now + (issued or 0))
    if issued is None:
        del payload["iat"]
    raw = jwt.encode(payload, settings.jwt_secret, algorithm="HS256")
    body = assert_unauthenticated(client.get("/tenancy/tenants", headers=bearer(raw)))
    assert "longer than the maximum" in body["detail"]


def test_the_maximum_lifetime_is_configurable_and_development_tokens_fit(
    client: TestClient, settings: Settings, token: Any
) -> None:
    assert settings.token_max_lifetime == 12 * 3600
    assert client.get("/tenancy/tenants", headers=bearer(token("rheine", "coordinator"))).is_success
    short = Settings(**{**settings.model_dump(), "token_max_lifetime": 300})
    from runtime.http.auth import TokenVerifier

    raw = jwt.encode(claims(settings, exp=int(time.time()) + 600), settings.jwt_secret)
    with pytest.raises(Exception, match="longer than the maximum of 300"):
        TokenVerifier(short).verify(raw)
    TokenVerifier(settings).verify(raw)

"""Who may read and write funding data, and idempotent retries of funding commands."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.funding_support import (
    CONTRACTS,
    KS,
    NEW_B2_NOTICE,
    amendment,
    b2_id,
    forwarding,
    head,
    notice,
    notices,
)
from tests.support import Auth, assert_problem


@pytest.fixture
def ks(auth: Auth) -> dict[str, str]:
    """Headers of Kreis Steinfurt's district coordinator."""
    return auth(KS, "district_coordinator")


def test_the_district_coordinator_may_not_write_a_member_towns_notices_or_contracts(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    rheine_b3 = notices(client, ks, "rheine")[3]["id"]
    before = platform.store.heads()
    rheine = "/coordination/tenants/rheine"
    response = client.post(f"{rheine}/notices", json=NEW_B2_NOTICE, headers=ks)
    assert_problem(response, 403, "tenant-not-allowed")
    response = client.post(f"{rheine}/notices/{rheine_b3}/amend", json=amendment(), headers=ks)
    assert_problem(response, 403, "tenant-not-allowed")
    response = client.post(f"{rheine}/contracts", json=forwarding(rheine_b3), headers=ks)
    assert_problem(response, 403, "tenant-not-allowed")
    assert platform.store.heads() == before


def test_a_retried_contract_with_the_same_idempotency_key_is_concluded_once(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    headers = {**ks, "Idempotency-Key": "weiterleitung-rheine-2021-09"}
    body = forwarding(b2)
    before = head(platform)

    first = client.post(CONTRACTS, json=body, headers=headers)
    second = client.post(CONTRACTS, json=body, headers=headers)

    assert first.status_code == second.status_code == 201, first.text
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert head(platform) == before + 2
    assert sorted(r["fte"] for r in notice(client, ks, b2)["forwarding"]) == ["1.00", "1.90"]

    reused = client.post(CONTRACTS, json=forwarding(b2, fte="2.0"), headers=headers)
    assert_problem(reused, 422, "idempotency-key-reused")
    assert head(platform) == before + 2

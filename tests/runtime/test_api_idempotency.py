"""Idempotency-Key: a retried command gets the first answer again and appends nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.support import Auth, assert_problem

ORGS = "/coordination/tenants/{tenant}/organisations"
NEW_ORG = {"name": "Lernen fördern e.V.", "kind": "welfare_provider"}
KEY = "order-2024-0001"


def with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def head(platform: Platform, tenant: str = "rheine", context: str = "coordination") -> int:
    return platform.store.head(tenant, context)


def test_a_retry_with_the_same_key_and_body_replays_the_answer_and_appends_once(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = with_key(auth("rheine", "coordinator"), KEY)
    before = head(platform)

    first = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=headers)
    second = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=headers)

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["KIM-Position"] == first.headers["KIM-Position"] == str(before + 1)
    assert first.json()["events"][0]["type"] == "OrganisationRegistered"

    assert head(platform) == before + 1
    log = platform.store.read_log("rheine", "coordination", after=before)
    assert [str(r.originator_id) for r in log] == [first.json()["events"][0]["aggregate_id"]]


def test_a_retry_replays_the_first_answer_even_after_later_changes(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("rheine", "coordinator")
    url = ORGS.format(tenant="rheine")
    first = client.post(url, json=NEW_ORG, headers=with_key(headers, KEY))
    org = first.json()["events"][0]["aggregate_id"]
    assert client.post(f"{url}/{org}/rename", json={"name": "Neu"}, headers=headers).is_success
    before = head(platform)

    retry = client.post(url, json=NEW_ORG, headers=with_key(headers, KEY))
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert head(platform) == before
    assert client.get(f"{url}/{org}", headers=headers).json()["name"] == "Neu"


def test_a_retried_rename_is_replayed_with_its_200(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("rheine", "coordinator")
    url = ORGS.format(tenant="rheine")
    org = client.post(url, json=NEW_ORG, headers=headers).json()["events"][0]["aggregate_id"]
    before = head(platform)
    body = {"name": "Neuer Name", "expected_version": 1}

    first = client.post(f"{url}/{org}/rename", json=body, headers=with_key(headers, KEY))
    # Were it not replayed, the stale expected version would now be refused with 409.
    second = client.post(f"{url}/{org}/rename", json=body, headers=with_key(headers, KEY))

    assert first.status_code == second.status_code == 200, second.text
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert head(platform) == before + 1


def test_the_same_key_with_a_different_body_is_refused_and_appends_nothing(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = with_key(auth("rheine", "coordinator"), KEY)
    url = ORGS.format(tenant="rheine")
    assert client.post(url, json=NEW_ORG, headers=headers).status_code == 201
    before = platform.store.heads()

    other = {"name": "Ein anderer Verein", "kind": "welfare_provider"}
    response = client.post(url, json=other, headers=headers)
    body = assert_problem(response, 422, "idempotency-key-reused")
    assert [e["field"] for e in body["errors"]] == ["Idempotency-Key"]
    assert platform.store.heads() == before


def test_the_same_key_on_another_endpoint_is_refused_and_appends_nothing(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("rheine", "coordinator")
    url = ORGS.format(tenant="rheine")
    created = client.post(url, json=NEW_ORG, headers=with_key(headers, KEY))
    org = created.json()["events"][0]["aggregate_id"]
    before = platform.store.heads()

    response = client.post(f"{url}/{org}/close", json={}, headers=with_key(headers, KEY))
    assert_problem(response, 422, "idempotency-key-reused")
    assert platform.store.heads() == before
    assert client.get(f"{url}/{org}", headers=headers).json()["active"] is True


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("short", id="too-short"),
        pytest.param("k" * 129, id="too-long"),
        pytest.param("has spaces in it", id="spaces"),
        pytest.param("key/with/slashes", id="slashes"),
        pytest.param("semi;colon;key", id="punctuation"),
    ],
)
def test_a_malformed_key_is_a_400_problem_and_appends_nothing(
    client: TestClient, platform: Platform, auth: Auth, key: str
) -> None:
    before = platform.store.heads()
    headers = with_key(auth("rheine", "coordinator"), key)
    response = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=headers)
    body = assert_problem(response, 400, "invalid-idempotency-key")
    assert [e["field"] for e in body["errors"]] == ["Idempotency-Key"]
    assert platform.store.heads() == before


@pytest.mark.parametrize("key", ["a" * 8, "k" * 128, "A.b_c:d-9"])
def test_keys_of_8_to_128_allowed_characters_are_accepted(
    client: TestClient, platform: Platform, auth: Auth, key: str
) -> None:
    before = head(platform)
    headers = with_key(auth("rheine", "coordinator"), key)
    response = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=headers)
    assert response.status_code == 201, response.text
    assert head(platform) == before + 1


def test_keys_are_per_tenant(client: TestClient, platform: Platform, auth: Auth) -> None:
    before_rheine = head(platform, "rheine")
    before_aachen = head(platform, "aachen")

    rheine = client.post(
        ORGS.format(tenant="rheine"),
        json=NEW_ORG,
        headers=with_key(auth("rheine", "coordinator"), KEY),
    )
    aachen = client.post(
        ORGS.format(tenant="aachen"),
        json=NEW_ORG,
        headers=with_key(auth("aachen", "coordinator"), KEY),
    )

    assert rheine.status_code == aachen.status_code == 201
    assert "idempotent-replayed" not in aachen.headers
    assert aachen.json()["tenant"] == "aachen"
    assert rheine.json()["tenant"] == "rheine"
    assert aachen.json()["events"][0]["aggregate_id"] != rheine.json()["events"][0]["aggregate_id"]
    assert head(platform, "rheine") == before_rheine + 1
    assert head(platform, "aachen") == before_aachen + 1


def test_a_refused_command_does_not_use_up_its_key(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = with_key(auth("rheine", "coordinator"), KEY)
    url = ORGS.format(tenant="rheine")
    before = platform.store.heads()

    refused = client.post(url, json={"name": "Amt", "kind": "office"}, headers=headers)
    assert_problem(refused, 422, "office-type-required")
    assert platform.store.heads() == before

    corrected = {"name": "Amt", "kind": "office", "office_type": "youth_office"}
    accepted = client.post(url, json=corrected, headers=headers)
    assert accepted.status_code == 201, accepted.text
    assert "idempotent-replayed" not in accepted.headers
    assert head(platform) == before.get(("rheine", "coordination"), 0) + 1


def test_concurrent_retries_with_one_key_append_exactly_once(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = with_key(auth("rheine", "coordinator"), KEY)
    url = ORGS.format(tenant="rheine")
    before = head(platform)

    def attempt(_: int) -> httpx.Response:
        response: httpx.Response = client.post(url, json=NEW_ORG, headers=headers)
        return response

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(attempt, range(8)))

    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    ids = {r.json()["events"][0]["aggregate_id"] for r in responses}
    assert len(ids) == 1
    assert all(r.json() == responses[0].json() for r in responses)
    assert sum("idempotent-replayed" not in r.headers for r in responses) == 1
    assert head(platform) == before + 1
    log = platform.store.read_log("rheine", "coordination", after=before)
    assert [str(r.originator_id) for r in log] == list(ids)


def test_a_retried_tenant_registration_is_replayed_and_appends_once(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = with_key(auth("nrw", "platform_admin"), KEY)
    body = {
        "key": "greven",
        "name": "Stadt Greven",
        "kind": "member_town",
        "parent": "kreis-steinfurt",
        "ags": "05566012",
    }
    before = head(platform, "_platform", "tenancy")

    first = client.post("/tenancy/tenants", json=body, headers=headers)
    second = client.post("/tenancy/tenants", json=body, headers=headers)

    assert first.status_code == second.status_code == 201, second.text
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert head(platform, "_platform", "tenancy") == before + 1

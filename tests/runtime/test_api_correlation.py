"""Every event carries who acted and under which correlation id, from the request."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from runtime.platform import Platform

PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Content",
}
Auth = Callable[..., dict[str, str]]
ORGS = "/coordination/tenants/{tenant}/organisations"
NEW_ORG = {"name": "Lernen fördern e.V.", "kind": "welfare_provider"}
NEW_TENANT = {"key": "greven", "name": "Stadt Greven", "kind": "member_town"}


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


# -- request context: who acted, under which correlation id ------------------------------


def test_the_correlation_id_and_the_tokens_subject_are_stamped_on_the_event(
    client: TestClient, platform: Platform, token: Callable[..., str]
) -> None:
    before = platform.store.head("rheine", "coordination")
    headers = {
        **bearer(token("rheine", "coordinator", subject="alice")),
        "X-Correlation-Id": "abc-123",
    }

    response = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=headers)

    assert response.status_code == 201, response.text
    assert response.headers["X-Correlation-Id"] == "abc-123"
    log = platform.store.read_log("rheine", "coordination", after=before)
    assert len(log) == 1
    assert log[0].correlation_id == "abc-123"
    assert log[0].actor == "rheine/alice"
    assert str(log[0].originator_id) == response.json()["events"][0]["aggregate_id"]


def test_without_a_correlation_id_one_is_made_and_stamped_on_the_event(
    client: TestClient, platform: Platform, token: Callable[..., str]
) -> None:
    before = platform.store.head("rheine", "coordination")
    headers = bearer(token("rheine", "coordinator", subject="bob"))

    response = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=headers)

    assert response.status_code == 201, response.text
    made = response.headers["X-Correlation-Id"]
    assert made
    (record,) = platform.store.read_log("rheine", "coordination", after=before)
    assert record.correlation_id == made
    assert record.actor == "rheine/bob"


def test_each_request_gets_its_own_correlation_id(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    before = platform.store.head("rheine", "coordination")
    headers = auth("rheine", "coordinator")
    first = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=headers)
    second = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=headers)

    made = [first.headers["X-Correlation-Id"], second.headers["X-Correlation-Id"]]
    assert made[0] != made[1]
    log = platform.store.read_log("rheine", "coordination", after=before)
    assert [r.correlation_id for r in log] == made


def test_an_overlong_correlation_id_is_replaced(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    before = platform.store.head("rheine", "coordination")
    headers = {**auth("rheine", "coordinator"), "X-Correlation-Id": "x" * 129}

    response = client.post(ORGS.format(tenant="rheine"), json=NEW_ORG, headers=headers)

    made = response.headers["X-Correlation-Id"]
    assert made != "x" * 129
    assert 0 < len(made) <= 128
    (record,) = platform.store.read_log("rheine", "coordination", after=before)
    assert record.correlation_id == made


def test_a_refused_request_still_answers_with_its_correlation_id(client: TestClient) -> None:
    response = client.post(
        ORGS.format(tenant="rheine"), json=NEW_ORG, headers={"X-Correlation-Id": "abc-123"}
    )
    assert response.status_code == 401
    assert response.headers["X-Correlation-Id"] == "abc-123"


def test_a_registry_change_is_stamped_with_the_admins_identity(
    client: TestClient, platform: Platform, token: Callable[..., str]
) -> None:
    before = platform.store.head("_platform", "tenancy")
    headers = {
        **bearer(token("nrw", "platform_admin", subject="root-admin")),
        "X-Correlation-Id": "reg-42",
    }
    body = {**NEW_TENANT, "parent": "kreis-steinfurt"}

    response = client.post("/tenancy/tenants", json=body, headers=headers)

    assert response.status_code == 201, response.text
    (record,) = platform.store.read_log("_platform", "tenancy", after=before)
    assert record.actor == "nrw/root-admin"
    assert record.correlation_id == "reg-42"

"""Idempotency-Key: a retried command gets the first answer again and appends nothing."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient

from runtime.eventstore.base import EventLogStore
from runtime.eventstore.memory import MemoryEventLogStore
from runtime.eventstore.postgres import PostgresEventLogStore
from runtime.eventstore.sqlite import SqliteEventLogStore
from runtime.platform import Platform
from services.case_management.router import RegisterPerson
from tests.case_support import demo_position
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


def raw_rows(platform: Platform, tenant: str) -> list[tuple[str, str]]:
    """(key, request_hash) of the tenant's idempotency records, as the table holds them."""
    store = platform.store
    if isinstance(store, PostgresEventLogStore):
        with psycopg.connect(store.dsn) as conn:
            found = conn.execute(
                f"SELECT key, request_hash FROM {store.schema}.idempotency"
                " WHERE tenant=%s".encode(),
                (tenant,),
            ).fetchall()
        return [(str(k), str(h)) for k, h in found]
    assert isinstance(store, SqliteEventLogStore)
    with closing(sqlite3.connect(store.path / f"{tenant}.sqlite")) as conn:
        rows = conn.execute("SELECT key, request_hash FROM idempotency WHERE tenant=?", (tenant,))
        return [(str(k), str(h)) for k, h in rows.fetchall()]


def test_the_table_keeps_keyed_digests_not_the_body_s_plain_hash_or_the_key(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    """A guessed name and birth date cannot be confirmed against the table: the body is kept
    only as HMAC-SHA256 under the idempotency secret (not the JWT secret)."""
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    path = "/case_management/tenants/rheine/people"
    body = {"personal_data": {"name": "Lina Sommer", "date_of_birth": "1990-03-04"}}
    response = client.post(path, json=body, headers=with_key(cm, KEY))
    assert response.status_code == 201, response.text

    dumped = f"POST {path}\n".encode() + RegisterPerson(**body).model_dump_json().encode()
    plain = hashlib.sha256(dumped).hexdigest()
    secret = platform.settings.idempotency_secret
    assert secret != platform.settings.jwt_secret
    keyed = hmac.new(secret.encode(), b"kim-idempotency:request\n" + dumped, hashlib.sha256)
    under_jwt = hmac.new(
        platform.settings.jwt_secret.encode(), b"kim-idempotency:request\n" + dumped, "sha256"
    )
    rows = raw_rows(platform, "rheine")
    hashes = {h for _, h in rows}
    assert keyed.hexdigest() in hashes
    assert plain not in hashes
    assert under_jwt.hexdigest() not in hashes
    assert all(KEY not in k for k, _ in rows)  # the client's key is kept scoped and keyed too
    assert all("Lina" not in k + h for k, h in rows)


def test_a_colleague_who_reuses_a_key_gets_no_replay_of_anothers_answer(
    client: TestClient, platform: Platform, token: Callable[..., str]
) -> None:
    """Keys are per principal (tenant and subject): the same key from a colleague is a key of
    their own, neither replayed nor refused as reused."""
    url = ORGS.format(tenant="rheine")

    def as_(subject: str) -> dict[str, str]:
        bearer = token("rheine", "coordinator", subject=subject)
        return {"Authorization": f"Bearer {bearer}", "Idempotency-Key": KEY}

    before = head(platform)
    anna = client.post(url, json=NEW_ORG, headers=as_("anna"))
    ben = client.post(url, json=NEW_ORG, headers=as_("ben"))
    assert anna.status_code == ben.status_code == 201, ben.text
    assert "idempotent-replayed" not in ben.headers
    assert ben.json()["events"][0]["aggregate_id"] != anna.json()["events"][0]["aggregate_id"]
    other = {"name": "Ein anderer Verein", "kind": "welfare_provider"}
    carl = client.post(url, json=other, headers=as_("carl"))  # not "reused with another body"
    assert carl.status_code == 201, carl.text
    assert head(platform) == before + 3
    # Each principal's own retry is still replayed.
    again = client.post(url, json=NEW_ORG, headers=as_("anna"))
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == anna.json()
    assert head(platform) == before + 3
    assert_problem(client.post(url, json=other, headers=as_("ben")), 422, "idempotency-key-reused")


def thing(aggregate: UUID, version: int = 1) -> StoredEvent:
    return StoredEvent(aggregate, version, "tests:Thing.Happened", b"{}")


def forgetting(store: EventLogStore) -> None:
    """A record names the aggregates its command appended to; forgetting any of them deletes
    the record (and only the tenant's)."""
    person, case, other = uuid4(), uuid4(), uuid4()
    store.append("rheine", "case_management", [thing(person)], idempotency=("k-1", "h1", 201))
    store.append(
        "rheine", "case_management", [thing(case), thing(person, 2)], idempotency=("k-2", "h2", 200)
    )
    store.append("rheine", "case_management", [thing(other)], idempotency=("k-3", "h3", 201))
    store.append("aachen", "case_management", [thing(person)], idempotency=("k-1", "h4", 201))
    two = store.find_idempotency("rheine", "k-2")
    assert two is not None
    assert two.subjects == {str(case), str(person)}
    assert store.position_of("rheine", "case_management", person, 2) == 3
    assert store.position_of("rheine", "case_management", person, 3) is None
    assert store.forget_idempotency("rheine", [person]) == 2
    assert store.find_idempotency("rheine", "k-1") is None
    assert store.find_idempotency("rheine", "k-2") is None
    assert store.find_idempotency("rheine", "k-3") is not None
    assert store.find_idempotency("aachen", "k-1") is not None  # another tenant's own
    assert store.forget_idempotency("rheine", [person, case]) == 0
    assert store.forget_idempotency("rheine", []) == 0
    assert store.forget_idempotency("nowhere", [other]) == 0


def test_erasing_forgets_the_records_of_the_commands_that_concerned_a_person(
    store: EventLogStore,
) -> None:
    forgetting(store)


def test_the_memory_store_forgets_alike(memory_store: MemoryEventLogStore) -> None:
    forgetting(memory_store)


def test_records_from_before_keyed_digests_are_dropped_once_by_an_existing_store(
    store: EventLogStore,
) -> None:
    """A store written before: its records hold unsalted hashes under unscoped keys (no
    subjects). Opening it deletes them once; new records work as usual afterwards."""
    store.append("rheine", "coordination", [thing(uuid4())], idempotency=("old-1", "h", 201))
    if isinstance(store, PostgresEventLogStore):
        with psycopg.connect(store.dsn, autocommit=True) as conn:
            conn.execute(f"ALTER TABLE {store.schema}.idempotency DROP COLUMN subjects".encode())
        store.migrate()
        reopened: EventLogStore = store
    else:
        assert isinstance(store, SqliteEventLogStore)
        path = Path(store.path)
        store.close()
        with closing(sqlite3.connect(path / "rheine.sqlite")) as conn:
            conn.execute("DROP TABLE idempotency_subjects")
            conn.commit()
        reopened = SqliteEventLogStore(path)
    try:
        assert reopened.find_idempotency("rheine", "old-1") is None
        aggregate = uuid4()
        reopened.append(
            "rheine", "coordination", [thing(aggregate)], idempotency=("new-1", "h", 201)
        )
        found = reopened.find_idempotency("rheine", "new-1")
        assert found is not None
        assert found.subjects == {str(aggregate)}
        assert reopened.forget_idempotency("rheine", [aggregate]) == 1
        if isinstance(reopened, PostgresEventLogStore):
            reopened.migrate()  # again: nothing more is deleted
    finally:
        if reopened is not store:
            reopened.close()

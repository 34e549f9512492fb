"""A PostgreSQL outage answers 503 with Retry-After within the bounds, never a 500 or a hang;
a service starts while PostgreSQL is down and works once it returns.

Against a cluster of the module's own (``tests.faults.own_postgres``), stopped and started
by the tests. The clients re-raise what the server would re-raise: a 503 here was answered
by a handler, so the server keeps the keep-alive connection (a re-raise closes it).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import PoolTimeout

from kim.assembly import build_app
from kim.demo import load_demo
from runtime.eventstore import unavailable
from runtime.http.auth import mint_token
from runtime.keyring import create_key_file
from runtime.platform import Platform
from runtime.settings import Settings
from tests.conftest import TEST_SECRET
from tests.faults import OwnPostgres, own_postgres
from tests.support import assert_problem

STATEMENT_TIMEOUT = 1.0
MARGIN = 1.5
"""An outage is answered within the statement timeout and this."""
ORGS = "/coordination/tenants/rheine/organisations"
NEW_ORG = {"name": "Lernen fördern e.V.", "kind": "welfare_provider"}
POSITIONS = '{ positions(tenant: "rheine") { id } }'


@pytest.fixture(scope="module")
def cluster() -> Iterator[OwnPostgres]:
    with own_postgres("kimoutage") as server:
        yield server


@pytest.fixture(scope="module")
def settings(cluster: OwnPostgres, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    keys = tmp_path_factory.mktemp("keys")
    return Settings(
        event_store=cluster.dsn,
        pg_schema="kim",
        pg_max_connections=8,
        bus="memory",
        jwt_secret=TEST_SECRET,
        relay_poll_interval=0.02,
        key_file=str(create_key_file(Path(keys) / "kek.json")),
        db_statement_timeout=STATEMENT_TIMEOUT,
        db_pool_timeout=1.0,
        db_connect_timeout=2.0,
        db_retry_after=3,
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    platform = Platform(settings)
    load_demo(platform)
    with TestClient(build_app(settings, platform=platform)) as c:
        yield c
    platform.close()


@pytest.fixture
def down(cluster: OwnPostgres) -> Iterator[OwnPostgres]:
    """The cluster stopped for the test; started again afterwards, whatever happened."""
    cluster.stop()
    try:
        yield cluster
    finally:
        if not _accepts(cluster):
            cluster.start()


def _accepts(cluster: OwnPostgres) -> bool:
    try:
        psycopg.connect(cluster.dsn, connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


def headers(settings: Settings, key: str | None = None) -> dict[str, str]:
    token = mint_token(settings, tenant="rheine", roles=["coordinator"])
    found = {"Authorization": f"Bearer {token}"}
    return {**found, "Idempotency-Key": key} if key else found


def heads(cluster: OwnPostgres) -> int:
    with psycopg.connect(cluster.dsn) as conn:
        row = conn.execute(
            "SELECT position FROM kim.log_heads WHERE tenant='rheine' AND context='coordination'"
        ).fetchone()
    return int(row[0]) if row else 0


def timed(send: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = send()
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response, seconds: float) -> None:
    assert_problem(response, 503, "store-unavailable")
    assert response.headers["Retry-After"] == "3"
    assert seconds < STATEMENT_TIMEOUT + MARGIN, f"answered after {seconds:.2f} s"


def test_a_command_in_an_outage_is_a_503_and_its_retry_appends_once(
    client: TestClient, settings: Settings, down: OwnPostgres
) -> None:
    down.start()
    before = heads(down)
    down.stop()
    key = headers(settings, "outage-retry-0001")

    response, seconds = timed(lambda: client.post(ORGS, json=NEW_ORG, headers=key))
    assert_unavailable(response, seconds)
    again, seconds = timed(lambda: client.post(ORGS, json=NEW_ORG, headers=key))
    assert_unavailable(again, seconds)  # the same client and connection: still answered

    down.start()
    first = client.post(ORGS, json=NEW_ORG, headers=key)
    assert first.status_code == 201, first.text
    replay = client.post(ORGS, json=NEW_ORG, headers=key)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert heads(down) == before + 1  # nothing of the refused attempts, the retry once


def test_graphql_in_an_outage_is_an_http_503(
    client: TestClient, settings: Settings, down: OwnPostgres
) -> None:
    ask = {"json": {"query": POSITIONS}, "headers": headers(settings)}

    response, seconds = timed(lambda: client.post("/graphql", **ask))
    assert_unavailable(response, seconds)

    down.start()
    answer = client.post("/graphql", **ask)
    assert answer.status_code == 200, answer.text
    assert "errors" not in answer.json()
    assert isinstance(answer.json()["data"]["positions"], list)


def test_a_statement_past_the_statement_timeout_is_a_503(
    client: TestClient, settings: Settings, cluster: OwnPostgres
) -> None:
    """Another session holds the log's head row: the append waits, is cancelled by
    statement_timeout, and nothing is appended."""
    before = heads(cluster)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with psycopg.connect(cluster.dsn) as conn, conn.transaction():
            conn.execute(
                "SELECT 1 FROM kim.log_heads WHERE tenant='rheine' AND context='coordination'"
                " FOR UPDATE"
            )
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(5)
        response, seconds = timed(
            lambda: client.post(ORGS, json=NEW_ORG, headers=headers(settings, "locked-0001"))
        )
        assert_unavailable(response, seconds)
        assert seconds >= STATEMENT_TIMEOUT * 0.9  # it did wait for the lock, then gave up
    finally:
        release.set()
        holder.join(10)
    assert heads(cluster) == before
    retry = client.post(ORGS, json=NEW_ORG, headers=headers(settings, "locked-0001"))
    assert retry.status_code == 201, retry.text
    assert heads(cluster) == before + 1


def test_a_service_starts_while_postgresql_is_down_and_works_once_it_returns(
    client: TestClient, settings: Settings, down: OwnPostgres
) -> None:
    """A process of its own (store, pools, read models, relay) started with the cluster
    stopped: no migration, no key or signer lookup and no relay position fails its start."""
    platform = Platform(settings)
    try:
        with TestClient(build_app(settings, platform=platform)) as fresh:
            assert fresh.get("/healthz").status_code == 200
            ready, seconds = timed(lambda: fresh.get("/readyz"))
            assert ready.status_code == 503
            assert ready.json()["checks"]["event_store"].startswith("unavailable")
            assert seconds < STATEMENT_TIMEOUT + MARGIN

            down.start()
            first = fresh.post(ORGS, json=NEW_ORG, headers=headers(settings))
            assert first.status_code == 201, first.text
            assert fresh.get("/readyz").json()["checks"]["event_store"] == "ok"
    finally:
        platform.close()


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (psycopg.OperationalError("connection failed: Connection refused"), True),
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), True),
        (psycopg.errors.AdminShutdown("terminating connection"), True),
        (PoolTimeout("couldn't get a connection after 1.00 sec"), True),
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("no such table: events"), False),
        (psycopg.errors.UndefinedTable("relation does not exist"), False),
        (ValueError("a bug"), False),
    ],
)
def test_what_counts_as_a_database_outage(error: Exception, outage: bool) -> None:
    assert unavailable(error) is outage
    wrapped = RuntimeError("raised from it")
    wrapped.__cause__ = error
    assert unavailable(wrapped) is outage

"""Per-tenant logs: positions, concurrency, storage-level isolation."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import Organisation, OrganisationKind
from runtime import context as request_context
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.postgres import PostgresEventLogStore
from runtime.eventstore.sqlite import SqliteEventLogStore


def register(store: EventLogStore, tenant: str, name: str = "Caritas") -> Organisation:
    app = CoordinationApplication(tenant, store.recorder)
    org = Organisation(name=name, kind=OrganisationKind.WELFARE_PROVIDER, office_type=None)
    app.save(org)
    return org


def test_each_tenant_log_numbers_its_own_positions_from_one(store: EventLogStore) -> None:
    for _ in range(3):
        register(store, "rheine")
    register(store, "aachen")
    assert [r.position for r in store.read_log("rheine", "coordination")] == [1, 2, 3]
    assert [r.position for r in store.read_log("aachen", "coordination")] == [1]
    assert store.head("rheine", "coordination") == 3
    assert store.heads() == {("rheine", "coordination"): 3, ("aachen", "coordination"): 1}


def test_a_log_can_be_read_from_any_position_and_up_to_any_position(
    store: EventLogStore,
) -> None:
    for i in range(5):
        register(store, "rheine", f"Träger {i}")
    assert [r.position for r in store.read_log("rheine", "coordination", after=2)] == [3, 4, 5]
    assert [r.position for r in store.read_log("rheine", "coordination", after=1, upto=3)] == [
        2,
        3,
    ]
    assert [r.position for r in store.read_log("rheine", "coordination", limit=2)] == [1, 2]


def test_actor_and_correlation_are_stamped_from_the_request_context(
    store: EventLogStore,
) -> None:
    with request_context.bound(actor="rheine/anna", correlation_id="corr-1"):
        register(store, "rheine")
    (record,) = store.read_log("rheine", "coordination")
    assert record.actor == "rheine/anna"
    assert record.correlation_id == "corr-1"
    assert record.event_type == "OrganisationRegistered"


def test_concurrent_appends_to_one_log_get_gapless_distinct_positions(
    store: EventLogStore,
) -> None:
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(10):
                register(store, "rheine")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    positions = [r.position for r in store.read_log("rheine", "coordination")]
    assert positions == list(range(1, 41))


def test_a_stale_aggregate_version_is_refused_and_nothing_is_appended(
    store: EventLogStore,
) -> None:
    org = register(store, "rheine")
    first = CoordinationApplication("rheine", store.recorder)
    second = CoordinationApplication("rheine", store.recorder)
    a: Organisation = first.repository.get(org.id)
    b: Organisation = second.repository.get(org.id)
    a.rename("Caritas Rheine")
    first.save(a)
    b.rename("Caritas Greven")
    with pytest.raises(IntegrityError):
        second.save(b)
    assert store.head("rheine", "coordination") == 2
    assert first.repository.get(org.id).name == "Caritas Rheine"


def test_one_tenant_cannot_load_another_tenants_aggregate(store: EventLogStore) -> None:
    org = register(store, "rheine")
    aachen = CoordinationApplication("aachen", store.recorder)
    assert aachen.recorder.select_events(org.id) == []
    assert store.read_log("aachen", "coordination") == []


def test_invalid_log_addresses_are_refused(store: EventLogStore) -> None:
    with pytest.raises(ValueError, match="tenant"):
        store.read_log("../etc", "coordination")
    with pytest.raises(ValueError, match="context"):
        store.read_log("rheine", "x; DROP TABLE events")


# -- storage-level isolation ------------------------------------------------------------------


def test_sqlite_keeps_each_tenant_in_its_own_file(tmp_path: Path) -> None:
    store = SqliteEventLogStore(tmp_path / "data")
    try:
        register(store, "rheine")
        register(store, "aachen")
    finally:
        store.close()
    files = sorted(p.name for p in (tmp_path / "data").glob("*.sqlite"))
    assert files == ["aachen.sqlite", "rheine.sqlite"]
    conn = sqlite3.connect(tmp_path / "data" / "rheine.sqlite")
    try:
        tenants = {row[0] for row in conn.execute("SELECT tenant FROM events")}
    finally:
        conn.close()
    assert tenants == {"rheine"}


def _tenant_session(
    store: PostgresEventLogStore, tenant: str | None
) -> psycopg.Connection[tuple[object, ...]]:
    store.ready()  # the schema is made before the store's first statement, not on construction
    conn = psycopg.connect(store.dsn)
    conn.execute("SET ROLE kim_tenant")
    if tenant is not None:
        conn.execute("SELECT set_config('kim.tenant', %s, false)", (tenant,))
    return conn


def test_sqlite_heads_show_appends_of_this_and_of_another_process(tmp_path: Path) -> None:
    here = SqliteEventLogStore(tmp_path / "kim-data")
    elsewhere = SqliteEventLogStore(tmp_path / "kim-data")  # its own connections, as a process
    try:
        CoordinationApplication("rheine", here.recorder).register_organisation(
            "Caritas", OrganisationKind.WELFARE_PROVIDER
        )
        assert here.heads() == {("rheine", "coordination"): 1}
        assert here.heads() == {("rheine", "coordination"): 1}  # unchanged file: from memory
        for store, expected in ((elsewhere, 2), (here, 3)):
            CoordinationApplication("rheine", store.recorder).register_organisation(
                "Diakonie", OrganisationKind.WELFARE_PROVIDER
            )
            assert here.heads() == {("rheine", "coordination"): expected}
        CoordinationApplication("aachen", elsewhere.recorder).register_organisation(
            "AWO", OrganisationKind.WELFARE_PROVIDER
        )
        assert here.heads() == {("rheine", "coordination"): 3, ("aachen", "coordination"): 1}
    finally:
        here.close()
        elsewhere.close()


def test_postgres_row_level_security_hides_other_tenants_rows(
    pg_store: PostgresEventLogStore,
) -> None:
    store = pg_store
    register(store, "rheine")
    register(store, "aachen")
    s = store.schema
    with _tenant_session(store, "rheine") as conn:
        rows = conn.execute(f"SELECT DISTINCT tenant FROM {s}.events").fetchall()
        assert rows == [("rheine",)]
        heads = conn.execute(f"SELECT tenant FROM {s}.log_heads").fetchall()
        assert heads == [("rheine",)]
    with _tenant_session(store, None) as conn:
        assert conn.execute(f"SELECT count(*) FROM {s}.events").fetchone() == (0,)


def test_postgres_row_level_security_refuses_writes_into_another_tenant(
    pg_store: PostgresEventLogStore,
) -> None:
    store = pg_store
    s = store.schema
    with (
        _tenant_session(store, "rheine") as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"),
    ):
        conn.execute(
            f"INSERT INTO {s}.events (tenant, context, position, event_id, originator_id,"
            " originator_version, topic, state, actor, correlation_id)"
            " VALUES ('aachen', 'coordination', 1, %s, %s, 1, 't', '\\x00', 'x', 'y')",
            (uuid4(), uuid4()),
        )
    assert store.head("aachen", "coordination") == 0


def test_postgres_tenant_sessions_see_nothing_without_a_tenant(
    pg_store: PostgresEventLogStore,
) -> None:
    register(pg_store, "rheine")
    with pg_store.pool.connection() as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("kim_tenant",)
        count = conn.execute(f"SELECT count(*) FROM {pg_store.schema}.events").fetchone()
        assert count == (0,)
    assert pg_store.head("rheine", "coordination") == 1

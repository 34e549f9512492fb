"""Tamper evidence: the hash chain catches changed, deleted, inserted and reordered events."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import OrganisationKind
from kim.cli import main
from runtime import audit
from runtime import context as request_context
from runtime.eventstore import chain
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.postgres import PostgresEventLogStore
from runtime.eventstore.sqlite import SqliteEventLogStore
from runtime.platform import Platform
from runtime.settings import Settings, get_settings

TENANT, CONTEXT = "rheine", "coordination"


def five_events(store: EventLogStore) -> None:
    app = CoordinationApplication(TENANT, store.recorder)
    with request_context.bound(actor="rheine/test"):
        for n in range(4):
            app.register_organisation(f"Träger {n}", OrganisationKind.WELFARE_PROVIDER)
    # With an idempotency key the append takes PostgreSQL's group-commit path.
    with request_context.bound(
        actor="rheine/test", idempotency_key="key-00000001", request_hash="h", response_status=201
    ):
        app.register_organisation("Träger 4", OrganisationKind.WELFARE_PROVIDER)
    assert store.head(TENANT, CONTEXT) == 5


@contextmanager
def raw(store: EventLogStore) -> Iterator[Callable[[str, tuple[Any, ...]], None]]:
    """Write to the stored events behind the store's back, as an attacker with file or
    database access would."""
    if isinstance(store, PostgresEventLogStore):
        with psycopg.connect(store.dsn, autocommit=True) as pg:

            def run_pg(sql: str, args: tuple[Any, ...]) -> None:
                text = sql.replace("?", "%s").replace("events", f"{store.schema}.events")
                pg.execute(text.encode(), args)

            yield run_pg
        return
    assert isinstance(store, SqliteEventLogStore)
    lite = sqlite3.connect(store.path / f"{TENANT}.sqlite", isolation_level=None)
    try:

        def run_lite(sql: str, args: tuple[Any, ...]) -> None:
            lite.execute(sql, args)

        yield run_lite
    finally:
        lite.close()


def first_break(store: EventLogStore) -> tuple[int, str] | None:
    result = audit.verify(store, [TENANT])
    if result.intact:
        return None
    (finding,) = result.findings
    assert (finding.tenant, finding.context) == (TENANT, CONTEXT)
    return finding.position, finding.reason


def test_an_intact_log_verifies_and_every_event_is_chained(store: EventLogStore) -> None:
    five_events(store)
    records = store.read_log(TENANT, CONTEXT)
    previous = chain.genesis(TENANT, CONTEXT)
    for r in records:
        assert r.hash == chain.link_v2(
            previous, r.position, chain.record_digest_v2(r), r.recorded_at
        )
        previous = r.hash
    assert first_break(store) is None
    assert audit.checkpoint(store, [TENANT]) == 1
    assert store.checkpoints(TENANT, CONTEXT) == [(5, records[-1].hash)]


TAMPERING: dict[str, tuple[list[tuple[str, tuple[Any, ...]]], int]] = {
    "changed": (
        [("UPDATE events SET actor = ? WHERE tenant = ? AND position = 3", ("mallory", TENANT))],
        3,
    ),
    "changed state": (
        [("UPDATE events SET state = ? WHERE tenant = ? AND position = 2", (b'{"x":1}', TENANT))],
        2,
    ),
    "deleted": ([("DELETE FROM events WHERE tenant = ? AND position = 3", (TENANT,))], 3),
    "reordered": (
        [
            ("UPDATE events SET position = 100 WHERE tenant = ? AND position = 2", (TENANT,)),
            ("UPDATE events SET position = 2 WHERE tenant = ? AND position = 3", (TENANT,)),
            ("UPDATE events SET position = 3 WHERE tenant = ? AND position = 100", (TENANT,)),
        ],
        2,
    ),
    "inserted": (
        [
            (
                "UPDATE events SET position = position + 100 WHERE tenant = ? AND position >= 4",
                (TENANT,),
            ),
            (
                "UPDATE events SET position = position - 99 WHERE tenant = ? AND position >= 100",
                (TENANT,),
            ),
            (
                "INSERT INTO events (tenant, context, position, event_id, originator_id,"
                " originator_version, topic, state, actor, correlation_id, causation_id,"
                " traceparent, recorded_at, hash) SELECT tenant, context, 4,"
                " '00000000-0000-4000-8000-000000000001', originator_id, originator_version + 1,"
                " topic, state, actor, correlation_id, causation_id, traceparent, recorded_at, hash"
                " FROM events WHERE tenant = ? AND position = 3",
                (TENANT,),
            ),
        ],
        4,
    ),
    "tail deleted": ([("DELETE FROM events WHERE tenant = ? AND position = 5", (TENANT,))], 5),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_verify_names_the_first_bad_position(store: EventLogStore, kind: str) -> None:
    five_events(store)
    audit.checkpoint(store, [TENANT])  # the tail is known apart from the events
    statements, position = TAMPERING[kind]
    with raw(store) as run:
        for sql, args in statements:
            run(sql, args)
    found = first_break(store)
    assert found is not None, kind
    assert found[0] == position, found


def test_kim_audit_verify_exits_non_zero_on_a_break(
    store: EventLogStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    five_events(store)
    monkeypatch.setenv("KIM_EVENT_STORE", settings.event_store)
    monkeypatch.setenv("KIM_PG_SCHEMA", settings.pg_schema)
    get_settings.cache_clear()
    try:
        assert main(["audit", "verify"]) == 0
        assert main(["audit", "checkpoint"]) == 0
        with raw(store) as run:
            run("UPDATE events SET actor = ? WHERE tenant = ? AND position = 4", ("x", TENANT))
        assert main(["audit", "verify", "--tenant", TENANT]) == 1
    finally:
        get_settings.cache_clear()


def test_concurrent_appends_to_one_log_keep_one_chain(store: EventLogStore) -> None:
    app = CoordinationApplication(TENANT, store.recorder)

    def write(n: int) -> None:
        with request_context.bound(actor="rheine/test"):
            for i in range(15):
                app.register_organisation(f"T {n}-{i}", OrganisationKind.WELFARE_PROVIDER)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.head(TENANT, CONTEXT) == 60
    assert first_break(store) is None


def test_the_relay_records_checkpoints_of_the_logs_it_publishes(
    client: TestClient, platform: Platform
) -> None:
    import time

    deadline = time.monotonic() + 20
    head = platform.store.head("kreis-steinfurt", "coordination")
    found: list[tuple[int, bytes]] = []
    while time.monotonic() < deadline:
        found = platform.store.checkpoints("kreis-steinfurt", "coordination")
        if found:
            break
        time.sleep(0.05)
    assert found, "no checkpoint recorded"
    position, hash_ = found[-1]
    assert position == head
    (last,) = platform.store.read_log("kreis-steinfurt", "coordination", after=head - 1, upto=head)
    assert hash_ == last.hash
    assert audit.verify(platform.store).intact

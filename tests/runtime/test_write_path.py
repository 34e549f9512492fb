"""The write path's fast steps keep what they replaced: the digest rule, the append span
(also on failure), the listeners, the application's recordings, and the write
benchmark's own timing and Message DB's install and drop."""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, StoredEvent
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from bench import messagedb
from bench.writers import run_threads
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import Organisation, OrganisationKind
from contexts.shared.errors import DomainError
from runtime.eventstore import chain
from runtime.eventstore.memory import MemoryEventLogStore
from tests.conftest import PG_DSN, require


def test_the_v2_digest_is_the_documented_rule() -> None:
    fields = {
        "tenant": "rheine", "context": "coordination", "event_id": "E-1",
        "originator_id": "A-2", "originator_version": 3, "topic": "m:T", "state": b'{"x":1}',
        "actor": "rheine/dev-ä", "correlation_id": "c", "causation_id": None,
        "traceparent": "00-abc-def-01",
    }  # fmt: skip
    parts = [
        "rheine",
        "coordination",
        "e-1",
        "a-2",
        "3",
        "m:T",
        "rheine/dev-ä",
        "c",
        "",
        "00-abc-def-01",
    ]
    expected = hashlib.sha256(
        b"\x1f".join(p.encode() for p in parts) + b"\x1e" + b'{"x":1}'
    ).digest()
    assert chain.content_digest_v2(**fields) == expected  # type: ignore[arg-type]


def test_an_append_is_a_span_and_a_failed_one_is_an_error_span(
    memory_store: MemoryEventLogStore, spans: InMemorySpanExporter
) -> None:
    event = StoredEvent(uuid.uuid4(), 1, "m:T", b"{}")
    memory_store.append("rheine", "coordination", [event])
    with pytest.raises(IntegrityError):
        memory_store.append("rheine", "coordination", [event])  # the same version again
    appends = [s for s in spans.get_finished_spans() if s.name == "append coordination"]
    assert [s.status.status_code for s in appends[-2:]] == [StatusCode.UNSET, StatusCode.ERROR]
    assert appends[-1].attributes is not None
    assert appends[-1].attributes["kim.tenant"] == "rheine"


def test_listeners_hear_appends_until_removed(memory_store: MemoryEventLogStore) -> None:
    heard: list[tuple[str, str, int]] = []

    def listener(tenant: str, context: str, position: int) -> None:
        heard.append((tenant, context, position))

    memory_store.add_listener(listener)
    memory_store.append("rheine", "coordination", [StoredEvent(uuid.uuid4(), 1, "m:T", b"{}")])
    memory_store.remove_listener(listener)
    memory_store.remove_listener(listener)  # twice: nothing happens
    memory_store.append("rheine", "coordination", [StoredEvent(uuid.uuid4(), 1, "m:T", b"{}")])
    assert heard == [("rheine", "coordination", 1)]


def test_a_saved_aggregate_answers_with_its_position_and_loads_again(
    memory_store: MemoryEventLogStore,
) -> None:
    app = CoordinationApplication("rheine", memory_store.recorder)
    first = app.register_organisation("Caritas", OrganisationKind.WELFARE_PROVIDER)
    second = app.register_organisation("Diakonie", OrganisationKind.WELFARE_PROVIDER)
    assert [r.notification.id for r in first + second] == [1, 2]
    org_id = second[0].domain_event.originator_id
    assert second[0].notification.originator_id == org_id
    loaded = app.get_organisation(org_id)
    assert isinstance(loaded, Organisation)
    assert loaded.name == "Diakonie"
    assert [n.id for n in app.recorder.select_notifications(start=1, limit=10)] == [1, 2]


def test_saving_nothing_new_appends_nothing(memory_store: MemoryEventLogStore) -> None:
    app = CoordinationApplication("rheine", memory_store.recorder)
    app.register_organisation("Caritas", OrganisationKind.WELFARE_PROVIDER)
    first = app.recorder.select_notifications(start=1, limit=1)[0]
    org = app.get_organisation(uuid.UUID(str(first.originator_id)))
    assert isinstance(org, Aggregate)
    assert app.save(org) == []
    assert memory_store.head("rheine", "coordination") == 1


def test_a_benchmark_run_lasts_from_the_first_command_to_the_last() -> None:
    result = run_threads("sleepers", 2, 3, ["a", "b"], lambda w, t: time.sleep(0.02))
    assert result.commands == 6
    assert 0.06 <= result.seconds < 0.2  # not rounded up to a poll
    assert result.client_cpu < result.seconds * 2


def test_message_db_is_installed_in_a_database_of_its_own_and_dropped(tmp_path: Path) -> None:
    """The mechanism on a stand-in package of the same layout (the real one comes from the
    npm registry at bench time only)."""
    require("PostgreSQL", PG_DSN, 5432)
    db = tmp_path / "database"
    for name, text in {
        "schema/message-store.sql": "CREATE SCHEMA IF NOT EXISTS message_store;",
        "extensions/pgcrypto.sql": "CREATE EXTENSION IF NOT EXISTS no_such_extension;",
        "tables/messages.sql": "CREATE TABLE message_store.messages (position bigint);",
        "functions/count.sql": "CREATE FUNCTION message_store.n() RETURNS bigint"
        " LANGUAGE sql AS 'SELECT count(*) FROM message_store.messages';",
    }.items():
        (db / name).parent.mkdir(parents=True, exist_ok=True)
        (db / name).write_text(text)
    (db / "install-functions.sh").write_text("run_psql_file $base/functions/count.sql\n")
    (db / "install-indexes.sh").write_text("")
    assert [p.name for p in messagedb.install_files(db)] == [
        "message-store.sql", "pgcrypto.sql", "messages.sql", "count.sql"
    ]  # fmt: skip
    target = messagedb.install(PG_DSN, db)
    try:
        assert messagedb.count_messages(target) == 0
        with psycopg.connect(target) as conn:
            assert conn.execute("SELECT message_store.n()").fetchone() == (0,)
    finally:
        messagedb.drop(PG_DSN, target)
    name = str(psycopg.conninfo.conninfo_to_dict(target)["dbname"])
    with psycopg.connect(PG_DSN) as conn:
        row = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
        assert row.fetchone() == (0,)


def test_the_ablation_puts_every_guarantee_back_and_its_parts_add_up() -> None:
    """``bench write --ablate`` takes a guarantee out only while its variant runs, and the
    parts it reports add up to the platform's distance from the statement alone."""
    import contexts.coordination.application as coordination_app
    import runtime.eventstore.base as store_base
    from bench import write_ablate

    swapped = [(store_base, "tracer"), (chain, "content_digest_v2"),
               (coordination_app, "check_name")]  # fmt: skip
    before = [getattr(module, name) for module, name in swapped]
    for variant in write_ablate.VARIANTS:
        undo = variant.patch()
        undo()
    assert [getattr(module, name) for module, name in swapped] == before
    undo = write_ablate.without_name_rule()
    try:  # taken out ...
        assert vars(coordination_app)["check_name"]("a@b.de") == "a@b.de"
    finally:
        undo()
    with pytest.raises(DomainError):  # ... and back
        vars(coordination_app)["check_name"]("a@b.de")
    us = {v.key: float(10 * i) for i, v in enumerate(write_ablate.VARIANTS)}
    parts = write_ablate.attribution(us)
    assert sum(p for _part, _g, p in parts) == pytest.approx(us["platform"] - us["statement"])

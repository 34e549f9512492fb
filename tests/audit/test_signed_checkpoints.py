"""Evidence an auditor can verify without trusting the operator (ADR 0003).

Every case of the tamper table in docs/adr/0003-hash-chain.md, on both stacks: what the
store alone shows (``audit.verify``) and what a check against the checkpoints the auditor
kept shows (``audit.verify(..., against=...)``, signatures checked with the file's key).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from runtime import audit
from runtime.eventstore import chain
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.postgres import PostgresEventLogStore
from runtime.eventstore.records import LogRecord
from runtime.eventstore.sqlite import SqliteEventLogStore
from runtime.platform import Platform
from runtime.signing import (
    SignedHead,
    Signer,
    export_lines,
    load_signer,
    public_key_of,
    read_auditor_file,
)
from services.audit.labels import chain_reason
from tests.audit.test_audit_chain import CONTEXT, TENANT, five_events
from tests.support import Auth

Run = Callable[[str, tuple[Any, ...]], None]


@contextmanager
def raw(store: EventLogStore) -> Iterator[Run]:
    """Statements behind the store's back, as an insider with database access; ``{s}``
    stands for the schema (PostgreSQL) or nothing (SQLite)."""
    if isinstance(store, PostgresEventLogStore):
        with psycopg.connect(store.dsn, autocommit=True) as pg:

            def run_pg(sql: str, args: tuple[Any, ...]) -> None:
                pg.execute(sql.format(s=f"{store.schema}.").replace("?", "%s").encode(), args)

            yield run_pg
        return
    assert isinstance(store, SqliteEventLogStore)
    lite = sqlite3.connect(store.path / f"{TENANT}.sqlite", isolation_level=None)
    try:

        def run_lite(sql: str, args: tuple[Any, ...]) -> None:
            lite.execute(sql.format(s=""), args)

        yield run_lite
    finally:
        lite.close()


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return load_signer(tmp_path / "signing.json", create=True)


def auditor_copy(store: EventLogStore, signer: Signer) -> list[SignedHead]:
    """Sign the heads now and take the export out of the operator's reach."""
    audit.checkpoint(store, [TENANT], signer)
    text = export_lines(signer.public_key, store.signed_checkpoints(TENANT))
    found = read_auditor_file(text)
    assert not found.unsigned
    return found.heads


def log(store: EventLogStore) -> list[LogRecord]:
    return store.read_log(TENANT, CONTEXT)


def insert(run: Run, r: LogRecord) -> None:
    run(
        "INSERT INTO {s}events (tenant, context, position, event_id, originator_id,"
        " originator_version, topic, state, actor, correlation_id, causation_id, traceparent,"
        " recorded_at, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            r.tenant, r.context, r.position, r.event_id, str(r.originator_id),
            r.originator_version, r.topic, r.state, r.actor, r.correlation_id, r.causation_id,
            r.traceparent, r.recorded_at, r.hash,
        ),
    )  # fmt: skip


def forge_tail(store: EventLogStore, run: Run, *, move_head: bool) -> None:
    """An event appended at the end with a correctly computed hash (the chain has no key)."""
    last = log(store)[-1]
    forged = replace(
        last,
        position=last.position + 1,
        event_id="00000000-0000-4000-8000-00000000f0f0",
        originator_version=last.originator_version + 1,
    )
    forged = replace(forged, hash=chain.seal(forged, bytes(last.hash or b"")))
    insert(run, forged)
    if move_head:
        run(
            "UPDATE {s}log_heads SET position = ?, hash = ? WHERE tenant = ? AND context = ?",
            (forged.position, forged.hash, TENANT, CONTEXT),
        )


def rewrite(store: EventLogStore, run: Run) -> None:
    """A full rewrite: event 2 changed, every later hash recomputed, the head row and the
    store's checkpoints (signed ones too) replaced by consistent ones."""
    records = log(store)
    previous = chain.genesis(TENANT, CONTEXT)
    for r in records:
        if r.position == 2:
            r = replace(r, actor="mallory")
        sealed = replace(r, hash=chain.seal(r, previous))
        previous = bytes(sealed.hash or b"")
        run(
            "UPDATE {s}events SET actor = ?, hash = ? WHERE tenant = ? AND position = ?",
            (sealed.actor, sealed.hash, TENANT, r.position),
        )
    run(
        "UPDATE {s}log_heads SET hash = ? WHERE tenant = ? AND context = ?",
        (previous, TENANT, CONTEXT),
    )
    run("DELETE FROM {s}checkpoints WHERE tenant = ?", (TENANT,))
    mallory = load_signer(elsewhere() / "mallory.json", create=True)
    audit.checkpoint(store, [TENANT], mallory)  # signed, with a key the auditor never had


def elsewhere() -> Path:
    """A directory of its own for a key the auditor never had."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix="kim-other-key-"))


def shift_recorded_at(store: EventLogStore, run: Run) -> None:
    """Backdate an event: ``--as-of`` filters on recorded_at."""
    run(
        "UPDATE {s}events SET recorded_at = ? WHERE tenant = ? AND position = 3",
        ("2020-01-01T00:00:00.000000+00:00", TENANT),
    )


def delete_last_and_cover_up(store: EventLogStore, run: Run) -> None:
    """The last event deleted, the head row moved back to the one before, checkpoints gone."""
    run("DELETE FROM {s}events WHERE tenant = ? AND position = 5", (TENANT,))
    run(
        "UPDATE {s}log_heads SET position = 4, hash = (SELECT hash FROM {s}events"
        " WHERE tenant = ? AND context = ? AND position = 4) WHERE tenant = ?",
        (TENANT, CONTEXT, TENANT),
    )
    run("DELETE FROM {s}checkpoints WHERE tenant = ?", (TENANT,))


def insert_in_the_middle(store: EventLogStore, run: Run) -> None:
    """A copy of event 3 inserted as 4 (its hash copied too), the later ones moved up."""
    run("UPDATE {s}events SET position = position + 100 WHERE tenant = ? AND position >= 4",
        (TENANT,))  # fmt: skip
    run("UPDATE {s}events SET position = position - 99 WHERE tenant = ? AND position >= 100",
        (TENANT,))  # fmt: skip
    run(
        "INSERT INTO {s}events (tenant, context, position, event_id, originator_id,"
        " originator_version, topic, state, actor, correlation_id, causation_id, traceparent,"
        " recorded_at, hash) SELECT tenant, context, 4, '00000000-0000-4000-8000-000000000001',"
        " originator_id, originator_version + 1, topic, state, actor, correlation_id,"
        " causation_id, traceparent, recorded_at, hash FROM {s}events"
        " WHERE tenant = ? AND position = 3",
        (TENANT,),
    )


def swap(store: EventLogStore, run: Run) -> None:
    for a, b in ((2, 100), (3, 2), (100, 3)):
        run("UPDATE {s}events SET position = ? WHERE tenant = ? AND position = ?", (b, TENANT, a))


# case: (tamper, first bad position alone, first bad position against the auditor's file;
# None: intact; "open": intact but not covered by a signed checkpoint)
CASES: dict[str, tuple[Callable[[EventLogStore, Run], None], Any, Any]] = {
    "changed byte": (
        lambda s, run: run(
            "UPDATE {s}events SET actor = ? WHERE tenant = ? AND position = 3", ("x", TENANT)
        ),
        3, 3,
    ),
    "changed state": (
        lambda s, run: run(
            "UPDATE {s}events SET state = ? WHERE tenant = ? AND position = 2", (b'{"x":1}', TENANT)
        ),
        2, 2,
    ),
    "inserted middle": (insert_in_the_middle, 4, 4),
    "deleted middle": (
        lambda s, run: run("DELETE FROM {s}events WHERE tenant = ? AND position = 3", (TENANT,)),
        3, 3,
    ),
    "deleted last": (
        lambda s, run: run("DELETE FROM {s}events WHERE tenant = ? AND position = 5", (TENANT,)),
        5, 5,
    ),
    "deleted last, head row moved back": (delete_last_and_cover_up, None, 5),
    "forged tail, correct hash": (lambda s, run: forge_tail(s, run, move_head=False), 6, 6),
    "forged tail, correct hash, head row moved": (
        lambda s, run: forge_tail(s, run, move_head=True),
        None, "open",
    ),
    "changed recorded_at": (shift_recorded_at, 3, 3),
    "swapped": (swap, 2, 2),
    "full rewrite with checkpoints": (rewrite, None, 5),
    "head row behind": (
        lambda s, run: run("UPDATE {s}log_heads SET position = 4 WHERE tenant = ?", (TENANT,)),
        5, 5,
    ),
    "head row deleted": (
        lambda s, run: run("DELETE FROM {s}log_heads WHERE tenant = ?", (TENANT,)),
        1, 1,
    ),
    "head row ahead": (
        lambda s, run: run("UPDATE {s}log_heads SET position = 6 WHERE tenant = ?", (TENANT,)),
        6, 6,
    ),
}  # fmt: skip


def outcome(result: audit.Verification) -> Any:
    if result.findings:
        (finding,) = result.findings
        assert (finding.tenant, finding.context) == (TENANT, CONTEXT)
        return finding.position
    return "open" if result.uncovered else None


@pytest.mark.parametrize("case", list(CASES))
def test_the_tamper_table(store: EventLogStore, signer: Signer, case: str) -> None:
    five_events(store)
    kept = auditor_copy(store, signer)
    tamper, alone, against = CASES[case]
    with raw(store) as run:
        tamper(store, run)
    first = audit.verify(store, [TENANT])
    assert outcome(first) == alone, case
    result = audit.verify(store, [TENANT], against=kept)
    assert outcome(result) == against, case
    assert result.exit_code == {None: 0, "open": 3}.get(against, 1)
    for f in first.findings + result.findings:  # what kim audit verify prints: in German
        assert chain_reason(f.reason) != f.reason, f.reason


def test_the_v2_rule_covers_every_column_and_old_events_keep_verifying(
    store: EventLogStore,
) -> None:
    five_events(store)
    previous = chain.genesis(TENANT, CONTEXT)
    for r in log(store):
        assert r.hash == chain.link_v2(
            previous, r.position, chain.record_digest_v2(r), r.recorded_at
        )
        previous = r.hash
    # A log sealed under v1 up to position 3 (events from before v2) still verifies ...
    with raw(store) as run:
        previous = chain.genesis(TENANT, CONTEXT)
        for r in log(store):
            if r.position <= 3:
                h = chain.link(previous, r.position, chain.record_digest(r))
            else:
                h = chain.seal(r, previous)
            run("UPDATE {s}events SET hash = ? WHERE tenant = ? AND position = ?",
                (h, TENANT, r.position))  # fmt: skip
            previous = h
        run("UPDATE {s}log_heads SET hash = ? WHERE tenant = ?", (previous, TENANT))
        run("DELETE FROM {s}checkpoints WHERE tenant = ?", (TENANT,))
    assert audit.verify(store, [TENANT]).intact
    # ... but a v1 event after a v2 one does not (no downgrade to leave recorded_at out).
    with raw(store) as run:
        records = log(store)
        h = chain.link(bytes(records[3].hash or b""), 5, chain.record_digest(records[4]))
        run("UPDATE {s}events SET hash = ? WHERE tenant = ? AND position = 5", (h, TENANT))
        run("UPDATE {s}log_heads SET hash = ? WHERE tenant = ?", (h, TENANT))
    assert outcome(audit.verify(store, [TENANT])) == 5


def test_a_checkpoint_changed_in_the_auditors_file_is_not_used(
    store: EventLogStore, signer: Signer
) -> None:
    five_events(store)
    audit.checkpoint(store, [TENANT], signer)
    text = export_lines(signer.public_key, store.signed_checkpoints(TENANT))
    found = read_auditor_file(text.replace('"position":5', '"position":4'))
    assert found.heads == []
    assert len(found.unsigned) == 1
    # The key in the file decides, not one from the store: another key's lines don't count.
    other = load_signer(elsewhere() / "other.json", create=True)
    found = read_auditor_file(export_lines(other.public_key, store.signed_checkpoints(TENANT)))
    assert found.heads == []


def five_events_more(store: EventLogStore) -> None:
    from contexts.coordination.application import CoordinationApplication
    from contexts.coordination.domain import OrganisationKind
    from runtime import context as request_context

    app = CoordinationApplication(TENANT, store.recorder)
    with request_context.bound(actor="rheine/test"):
        app.register_organisation("Träger 9", OrganisationKind.WELFARE_PROVIDER)


def test_the_relay_signs_on_a_schedule_of_time_and_events(
    client: TestClient, platform: Platform, auth: Auth, tmp_path: Path
) -> None:
    import time

    signer = load_signer(tmp_path / "relay-signing.json", create=True)
    platform.relay.signer = signer
    platform.relay.checkpoint_seconds = 0.0  # every save of a log that grew
    client.post(
        "/coordination/tenants/rheine/organisations",
        json={"name": "Träger Zeitplan", "kind": "welfare_provider"},
        headers=auth("rheine", "coordinator"),
    )
    head = platform.store.head("rheine", "coordination")
    deadline = time.monotonic() + 20
    found: list[SignedHead] = []
    while time.monotonic() < deadline:
        found = [h for h in audit.signed_heads(platform.store, "rheine") if h.context == CONTEXT]
        if found and found[0].position == head:
            break
        time.sleep(0.05)
    assert found
    assert found[0].position == head
    assert found[0].key_id == signer.key_id
    response = client.get("/audit/tenants/rheine/verification", headers=auth("rheine", "auditor"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intact"] is True
    assert body["public_key"] == signer.public_key
    heads = [SignedHead.of_json(h) for h in body["signed_heads"]]
    assert any(h.context == CONTEXT and h.position == head for h in heads)
    key = public_key_of(signer.public_key)
    assert all(h.valid_under(key) for h in heads)


def test_an_embedded_file_from_before_the_head_rows_gets_them_from_its_events(
    tmp_path: Path,
) -> None:
    store = SqliteEventLogStore(tmp_path / "data")
    five_events(store)
    store.close()
    lite = sqlite3.connect(tmp_path / "data" / f"{TENANT}.sqlite", isolation_level=None)
    lite.execute("DROP TABLE log_heads")
    lite.close()
    reopened = SqliteEventLogStore(tmp_path / "data")
    try:
        (last,) = reopened.read_log(TENANT, CONTEXT, after=4)
        assert reopened.recorded_heads() == {(TENANT, CONTEXT): (5, last.hash)}
        assert audit.verify(reopened).intact
    finally:
        reopened.close()

"""The relay and the bus: no dual write, de-duplication, redelivery, tracked consumers."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import Organisation, OrganisationKind
from runtime.bus import Bus
from runtime.bus.consumer import TrackedConsumer
from runtime.bus.relay import LogRelay
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import LogRecord
from runtime.settings import Settings
from tests.conftest import make_store


def register(store: EventLogStore, tenant: str, count: int = 1) -> None:
    app = CoordinationApplication(tenant, store.recorder)
    for i in range(count):
        app.save(
            Organisation(
                name=f"Träger {i}", kind=OrganisationKind.WELFARE_PROVIDER, office_type=None
            )
        )


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


class Collector:
    def __init__(self) -> None:
        self.records: list[LogRecord] = []
        self.headers: list[dict[str, str]] = []

    async def __call__(self, record: LogRecord, headers: dict[str, str]) -> None:
        self.records.append(record)
        self.headers.append(headers)


async def test_the_relay_publishes_committed_events_in_log_order_with_subjects_and_ids(
    store: EventLogStore, bus: Bus
) -> None:
    collector = Collector()
    sub = await bus.subscribe("collector", f"{bus.prefix}.rheine.coordination.>", collector)
    relay = LogRelay(store, bus, poll_interval=0.02)
    await relay.start()
    try:
        await asyncio.to_thread(register, store, "rheine", 3)
        await asyncio.to_thread(register, store, "aachen", 1)
        await eventually(lambda: len(collector.records) == 3)
    finally:
        await relay.stop()
        await sub.stop()
    assert [r.position for r in collector.records] == [1, 2, 3]
    assert {r.tenant for r in collector.records} == {"rheine"}
    log = store.read_log("rheine", "coordination")
    assert [h["Nats-Msg-Id"] for h in collector.headers] == [r.event_id for r in log]
    assert all(h.get("traceparent", "").startswith("00-") for h in collector.headers)


async def test_a_restarted_relay_publishes_again_and_the_bus_drops_the_duplicates(
    store: EventLogStore, bus: Bus
) -> None:
    collector = Collector()
    sub = await bus.subscribe("collector", f"{bus.prefix}.>", collector)
    register(store, "rheine", 2)
    first = LogRelay(store, bus, name="relay-a")
    assert await first.drain() == 2
    # A relay that lost its position (crash before recording it) publishes everything again.
    second = LogRelay(store, bus, name="relay-b")
    assert await second.drain() == 2
    assert second.duplicates == 2
    await asyncio.sleep(0.3)
    await sub.stop()
    assert [r.position for r in collector.records] == [1, 2]


async def test_the_relay_resumes_from_its_recorded_position(store: EventLogStore, bus: Bus) -> None:
    register(store, "rheine", 2)
    assert await LogRelay(store, bus).drain() == 2
    register(store, "rheine", 1)
    resumed = LogRelay(store, bus)
    assert await resumed.drain() == 1
    assert resumed.duplicates == 0


async def test_a_failing_consumer_gets_the_event_again_and_applies_it_once(
    store: EventLogStore, bus: Bus
) -> None:
    applied: dict[tuple[str, str], int] = {}
    effects: list[int] = []
    failures = {"left": 2}

    def process(record: LogRecord) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise RuntimeError("read model database briefly unavailable")
        effects.append(record.position)
        applied[(record.tenant, record.context)] = record.position

    consumer = TrackedConsumer(
        name="flaky",
        subject=f"{bus.prefix}.rheine.>",
        process=process,
        position=lambda t, c: applied.get((t, c), 0),
    )
    if hasattr(bus, "redelivery_delay"):
        bus.redelivery_delay = 0.05
    sub = await bus.subscribe(consumer.name, consumer.subject, consumer)
    register(store, "rheine", 3)
    await LogRelay(store, bus).drain()
    try:
        await eventually(lambda: len(effects) == 3, timeout=15)
    finally:
        await sub.stop()
    assert effects == [1, 2, 3]


async def test_the_relay_finds_appends_of_another_process_by_scanning_the_log_heads(
    store: EventLogStore, bus: Bus, settings: Settings
) -> None:
    collector = Collector()
    sub = await bus.subscribe("scanned", f"{bus.prefix}.*.coordination.>", collector)
    relay = LogRelay(store, bus, poll_interval=0.02)
    await relay.start()
    elsewhere = make_store(settings)  # its own connections, no listener of this relay
    try:
        await asyncio.to_thread(register, elsewhere, "rheine", 2)
        await asyncio.to_thread(register, elsewhere, "aachen", 1)
        await eventually(lambda: len(collector.records) == 3)
    finally:
        await relay.stop()
        await sub.stop()
        elsewhere.close()
    assert sorted((r.tenant, r.position) for r in collector.records) == [
        ("aachen", 1), ("rheine", 1), ("rheine", 2)
    ]  # fmt: skip


async def test_a_tracked_consumer_skips_duplicates_and_fills_gaps_from_the_log(
    store: EventLogStore,
) -> None:
    register(store, "rheine", 4)
    log = store.read_log("rheine", "coordination")
    applied: list[int] = []
    consumer = TrackedConsumer(
        name="gaps",
        subject="kim.>",
        process=lambda r: applied.append(r.position),
        position=lambda t, c: applied[-1] if applied else 0,
        log_reader=lambda t, c, after, upto: store.read_log(t, c, after=after, upto=upto),
    )
    await consumer(log[0], {})
    await consumer(log[0], {})  # redelivered
    await consumer(log[3], {})  # 2 and 3 never arrived
    assert applied == [1, 2, 3, 4]
    assert consumer.skipped == 1
    assert consumer.gap_filled == 2


async def test_a_batch_consumer_takes_a_backlog_at_once_skips_duplicates_and_fills_gaps(
    store: EventLogStore,
) -> None:
    register(store, "rheine", 6)
    log = store.read_log("rheine", "coordination")
    applied: list[int] = []
    batches: list[list[int]] = []

    def process_batch(records: list[LogRecord]) -> None:
        batches.append([r.position for r in records])
        applied.extend(r.position for r in records)

    consumer = TrackedConsumer(
        name="batches",
        subject="kim.>",
        process=lambda r: process_batch([r]),
        position=lambda t, c: applied[-1] if applied else 0,
        log_reader=lambda t, c, after, upto: store.read_log(t, c, after=after, upto=upto),
        process_batch=process_batch,
    )
    await consumer.handle_batch([(log[0], {}), (log[1], {})])
    # 2 again (redelivered), 3 and 4 lost on the way, 5 and 6 arrive: one call, gaps filled.
    await consumer.handle_batch([(log[1], {}), (log[4], {}), (log[5], {})])
    assert batches == [[1, 2], [3, 4, 5, 6]]
    assert applied == [1, 2, 3, 4, 5, 6]
    assert (consumer.skipped, consumer.gap_filled, consumer.processed) == (1, 2, 6)


async def test_the_bus_hands_a_backlog_to_a_batch_consumer_and_redelivers_a_failed_batch(
    store: EventLogStore, bus: Bus
) -> None:
    applied: dict[tuple[str, str], int] = {}
    effects: list[int] = []
    calls: list[int] = []
    failures = {"left": 1}

    def process_batch(records: list[LogRecord]) -> None:
        calls.append(len(records))
        if failures["left"] > 0:
            failures["left"] -= 1
            raise RuntimeError("read model database briefly unavailable")
        for r in records:
            effects.append(r.position)
            applied[(r.tenant, r.context)] = r.position

    consumer = TrackedConsumer(
        name="backlog",
        subject=f"{bus.prefix}.rheine.>",
        process=lambda r: process_batch([r]),
        position=lambda t, c: applied.get((t, c), 0),
        log_reader=lambda t, c, after, upto: store.read_log(t, c, after=after, upto=upto),
        process_batch=process_batch,
    )
    if hasattr(bus, "redelivery_delay"):
        bus.redelivery_delay = 0.05
    register(store, "rheine", 30)
    await LogRelay(store, bus).drain()  # the backlog is on the bus before the consumer comes
    sub = await bus.subscribe(consumer.name, consumer.subject, consumer)
    try:
        await eventually(lambda: len(effects) == 30, timeout=15)
    finally:
        await sub.stop()
    assert effects == list(range(1, 31))  # each once, in order, after the failed attempt
    assert calls[0] == 30  # the backlog came at once, not record by record


async def test_a_durable_consumer_with_sql_tracking_resumes_without_reapplying(
    store: EventLogStore, bus: Bus, tmp_path: Path
) -> None:
    db = sqlite3.connect(tmp_path / "readmodel.db", check_same_thread=False, isolation_level=None)
    db.executescript(
        "CREATE TABLE names (tenant TEXT, position INTEGER, PRIMARY KEY (tenant, position));"
        "CREATE TABLE tracking (tenant TEXT, context TEXT, position INTEGER,"
        " PRIMARY KEY (tenant, context));"
    )

    def process(record: LogRecord) -> None:
        db.execute("BEGIN")
        db.execute("INSERT INTO names VALUES (?, ?)", (record.tenant, record.position))
        db.execute(
            "INSERT INTO tracking VALUES (?, ?, ?)"
            " ON CONFLICT DO UPDATE SET position=excluded.position",
            (record.tenant, record.context, record.position),
        )
        db.execute("COMMIT")

    def position(tenant: str, context: str) -> int:
        row = db.execute(
            "SELECT position FROM tracking WHERE tenant=? AND context=?", (tenant, context)
        ).fetchone()
        return int(row[0]) if row else 0

    def consumer() -> TrackedConsumer:
        return TrackedConsumer("names", f"{bus.prefix}.>", process, position)

    relay = LogRelay(store, bus)
    register(store, "rheine", 2)
    await relay.drain()
    c1 = consumer()
    sub = await bus.subscribe(c1.name, c1.subject, c1)
    await eventually(lambda: position("rheine", "coordination") == 2)
    await sub.stop()
    register(store, "rheine", 1)
    await relay.drain()
    c2 = consumer()
    sub = await bus.subscribe(c2.name, c2.subject, c2)
    await eventually(lambda: position("rheine", "coordination") == 3)
    await sub.stop()
    rows = db.execute("SELECT position FROM names ORDER BY position").fetchall()
    assert rows == [(1,), (2,), (3,)]
    db.close()


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("kim.>", "kim.rheine.coordination.OrganisationRegistered", True),
        ("kim.*.coordination.>", "kim.rheine.coordination.OrganisationRegistered", True),
        ("kim.*.tenancy.>", "kim.rheine.coordination.OrganisationRegistered", False),
        (
            "kim.rheine.coordination.OrganisationRegistered",
            "kim.rheine.coordination.OrganisationRegistered",
            True,
        ),
        ("kim.rheine", "kim.rheine.coordination", False),
    ],
)
def test_subject_patterns_follow_nats_wildcards(pattern: str, subject: str, expected: bool) -> None:
    from runtime.bus import subject_matches

    assert subject_matches(pattern, subject) is expected


async def test_the_relay_checkpoints_each_log_every_n_events(
    store: EventLogStore, bus: Bus
) -> None:
    relay = LogRelay(store, bus, name="relay-cp")
    relay.save_interval = 0  # save on every drain
    relay.checkpoint_every = 2
    register(store, "rheine", 1)
    await relay.drain()
    register(store, "rheine", 1)
    await relay.drain()  # one event since the checkpoint at 1: none yet
    register(store, "rheine", 1)
    await relay.drain()
    assert [p for p, _ in store.checkpoints("rheine", "coordination")] == [1, 3]

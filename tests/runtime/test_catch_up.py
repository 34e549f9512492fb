"""A consumer behind a log's head with nothing arriving reads the rest from the log
(``runtime.bus.catch_up``): a position lost with a killed process, or events a crashed bus
node lost, no longer wait for the next event of the log."""

from __future__ import annotations

import asyncio
from pathlib import Path

from runtime.bus.catch_up import CatchUp
from runtime.bus.consumer import TrackedConsumer
from runtime.bus.lag import LagMonitor
from runtime.eventstore.records import LogRecord
from tests.conftest import make_store
from tests.runtime.test_bus import register
from tests.runtime.test_bus_faults import fault_settings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_idle_consumer_behind_the_head_reads_what_it_misses_from_the_log(
    tmp_path: Path,
) -> None:
    store = make_store(fault_settings(tmp_path, "memory"))
    applied: list[int] = []
    positions: dict[tuple[str, str], int] = {}

    def process(record: LogRecord) -> None:
        applied.append(record.position)
        positions[(record.tenant, record.context)] = record.position

    consumer = TrackedConsumer(
        name="intake",
        subject="kim.*.coordination.>",
        process=process,
        position=lambda t, c: positions.get((t, c), 0),
        log_reader=lambda t, c, after, upto: store.read_log(t, c, after=after, upto=upto),
    )
    register(store, "rheine", 2)
    positions[("rheine", "coordination")] = 1  # applied 1 and 2, saved only 1, then killed
    clock = Clock()
    lag = LagMonitor(
        store,
        prefix="kim",
        relay=lambda: None,
        consumers=lambda: [consumer],
        max_lag=0,
        stall_seconds=30,
        clock=clock,
    )
    catch_up = CatchUp(lag, lambda: [consumer], idle=5.0)

    async def run() -> None:
        assert await catch_up.once() == 0  # behind, but only just seen so: wait for the bus
        clock.now += 4
        assert await catch_up.once() == 0
        clock.now += 2
        assert await catch_up.once() == 1  # idle for 6 s: read position 2 from the log
        register(store, "rheine", 1)
        clock.now += 10
        assert await catch_up.once() == 0  # just seen behind again: not yet
        clock.now += 6
        assert await catch_up.once() == 1

    asyncio.run(run())
    assert applied == [2, 3]
    assert positions[("rheine", "coordination")] == 3
    assert lag.checks(lag.lags(), ["consumer:intake"]) == {"consumer:intake": "ok"}
    store.close()

"""A message a consumer cannot apply: delivered again with a growing delay, its traceback
logged once (``runtime.bus.redelivery``); a database outage keeps the bus's base delay."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

import pytest

from runtime.bus import Bus
from runtime.bus.consumer import OutOfOrderError, TrackedConsumer
from runtime.bus.redelivery import MAX_DELAY, delay_after, log_attempt
from runtime.bus.relay import LogRelay
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.outage import StoreUnavailable
from runtime.eventstore.records import LogRecord
from tests.runtime.test_bus import eventually, register


def test_a_bug_waits_longer_each_time_an_outage_does_not() -> None:
    bug = ValueError("cannot apply")
    assert [delay_after(0.5, n, bug) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert delay_after(0.5, 40, bug) == MAX_DELAY
    for healing in (StoreUnavailable("down"), OutOfOrderError("early")):
        assert delay_after(0.5, 40, healing) == 0.5


def test_a_bug_is_logged_with_its_traceback_once_then_a_line_now_and_then(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("kim.test.redelivery")
    bug = ValueError("cannot apply")
    with caplog.at_level(logging.DEBUG, logger=log.name):
        for attempt in range(1, 101):
            log_attempt(log, bug, attempt, "consumer %s failed on %s", "c", "e1")
        log_attempt(log, StoreUnavailable("down"), 1, "consumer %s failed on %s", "c", "e2")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.exc_info is not None for r in errors] == [True] + [False] * 6  # 1, then 2..64
    assert "failed 64 times" in errors[-1].getMessage()
    outage = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(outage) == 1
    assert outage[0].exc_info is None


async def test_an_event_a_consumer_cannot_apply_is_tried_less_often_and_logged_once(
    store: EventLogStore, bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    """On the memory bus and on NATS JetStream: in 4 s a message failing at a constant
    base delay would come 80 (memory) or 8 (NATS) times; doubling, it comes at most 7 or 4
    times, and only the first failure writes a traceback. The next event waits behind it
    (per-log order), and once the consumer can apply it, both are applied."""
    deliveries: list[float] = []
    applied: dict[tuple[str, str], int] = {}
    broken = {"yes": True}

    def process(record: LogRecord) -> None:
        if record.position == 1 and broken["yes"]:
            deliveries.append(time.monotonic())
            raise ValueError("this consumer cannot apply the event")
        applied[(record.tenant, record.context)] = record.position

    consumer = TrackedConsumer(
        name="poisoned",
        subject=f"{bus.prefix}.rheine.>",
        process=process,
        position=lambda t, c: applied.get((t, c), 0),
    )
    base = getattr(bus, "redelivery_delay", 0.05)
    sub = await bus.subscribe(consumer.name, consumer.subject, consumer)
    try:
        with caplog.at_level(logging.INFO):
            await asyncio.to_thread(register, store, "rheine", 2)
            await LogRelay(store, bus).drain()
            await eventually(lambda: len(deliveries) >= 1, timeout=15)
            await asyncio.sleep(4.0)
            at_constant = 4.0 / base
            assert 2 <= len(deliveries) <= (7 if base < 0.1 else 4) < at_constant, deliveries
            gaps = [b - a for a, b in itertools.pairwise(deliveries)]
            assert gaps == sorted(gaps) or max(gaps) >= 2 * min(gaps), gaps  # it grows
            tracebacks = [r for r in caplog.records if r.exc_info and "poisoned" in r.getMessage()]
            assert len(tracebacks) == 1
            assert applied == {}  # the second event waits behind the first
            broken["yes"] = False
            await eventually(lambda: applied.get(("rheine", "coordination")) == 2, timeout=40)
    finally:
        await sub.stop()

"""A consumer's saved positions are loaded once, even when two threads ask at the same time.

Readiness and the lag gauges ask a consumer for its positions from their own threads while
the consumer applies a record in another. If both loaded the saved positions, the slower
load would replace the dict the consumer had just advanced: the consumer then looks one
record behind, is caught up from the log seconds later and applies that record twice.
"""

from __future__ import annotations

import threading
import uuid

from runtime.bus.consumer import Intake
from runtime.eventstore.memory import MemoryEventLogStore
from runtime.eventstore.records import LogRecord


class SlowFirstLoad(MemoryEventLogStore):
    """The first load of relay positions waits until the test lets it finish."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.loads = 0

    def relay_positions(self, relay: str) -> dict[tuple[str, str], int]:
        self.loads += 1
        found = super().relay_positions(relay)
        if self.loads == 1:
            self.entered.set()
            assert self.release.wait(10)
        return found


class Noting(Intake):
    name = "noting"

    def __init__(self, store: SlowFirstLoad) -> None:
        super().__init__(store, "kim.*.coordination.>")
        self.handled: list[int] = []

    def handle(self, record: LogRecord) -> None:
        self.handled.append(record.position)


def record(position: int) -> LogRecord:
    return LogRecord(
        tenant="rheine",
        context="coordination",
        position=position,
        event_id=str(uuid.uuid4()),
        originator_id=uuid.uuid4(),
        originator_version=1,
        topic="contexts.coordination.domain:Topic.Opened",
        state=b"{}",
        actor="test",
        correlation_id="c",
        causation_id=None,
        traceparent=None,
        recorded_at="2026-12-02T00:00:00+00:00",
    )


def test_a_position_stored_while_another_thread_loads_them_is_kept() -> None:
    store = SlowFirstLoad()
    intake = Noting(store)
    looker = threading.Thread(target=lambda: intake.consumer.position("rheine", "coordination"))
    looker.start()
    assert store.entered.wait(10)  # readiness is loading the saved positions
    applier = threading.Thread(target=lambda: intake.process(record(1)))
    applier.start()
    applier.join(0.2)  # the consumer applies a record meanwhile (it waits for the load)
    store.release.set()
    looker.join(10)
    applier.join(10)
    assert intake.handled == [1]
    assert intake.consumer.position("rheine", "coordination") == 1
    assert store.loads == 1

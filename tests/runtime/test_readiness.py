"""Honest readiness: /readyz is a 503 with Retry-After naming the check that failed when the
store or the bus is unreachable, or the relay or a consumer falls behind or stalls; the lag
per log is an OpenTelemetry gauge."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint

from kim.assembly import build_app
from runtime.bus.consumer import TrackedConsumer
from runtime.bus.lag import LagGauges, LagMonitor
from runtime.bus.memory import InMemoryBus
from runtime.bus.relay import LogRelay
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import LogRecord
from runtime.platform import Platform
from runtime.settings import Settings
from tests.conftest import make_store
from tests.faults import own_nats
from tests.runtime.test_bus import register
from tests.runtime.test_bus_faults import fault_settings


class Gated:
    """A consumer that applies nothing until its gate opens."""

    def __init__(self, name: str, subject: str) -> None:
        self.gate = threading.Event()
        self.positions: dict[tuple[str, str], int] = {}
        self.consumer = TrackedConsumer(
            name=name,
            subject=subject,
            process=self.process,
            position=lambda t, c: self.positions.get((t, c), 0),
        )

    def process(self, record: LogRecord) -> None:
        if not self.gate.wait(20):
            raise RuntimeError("gate never opened")
        self.positions[(record.tenant, record.context)] = record.position


@pytest.fixture
def gated_client(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[TestClient, Platform, Gated, Settings]]:
    extra: dict[str, Any] = getattr(request, "param", {})
    settings = fault_settings(tmp_path, "memory", **extra)
    platform = Platform(settings, store=make_store(settings))
    gated = Gated("gated", f"{platform.bus.prefix}.*.coordination.>")
    platform.add_consumer(gated.consumer)
    with TestClient(build_app(settings, ["tenancy"], platform=platform)) as client:
        yield client, platform, gated, settings
        gated.gate.set()
    platform.close()


def wait_for_status(client: TestClient, status: int, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while (ready := client.get("/readyz")).status_code != status:
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.05)
    return ready


def wait_for_relay(client: TestClient, timeout: float = 10.0) -> Any:
    """The first /readyz at which the relay has published everything."""
    deadline = time.monotonic() + timeout
    while (ready := client.get("/readyz")).json()["checks"].get("relay") != "ok":
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.02)
    return ready


def assert_not_ready(ready: Any, check: str, reason: str, settings: Settings) -> None:
    assert ready.status_code == 503, ready.text
    assert ready.headers["Retry-After"] == str(settings.ready_retry_after)
    body = ready.json()
    assert body["failed"] == [check], body
    assert body["checks"][check].startswith(reason), body
    assert body["status"] == 503
    assert body["rule"] == "not-ready"


@pytest.mark.parametrize(
    "gated_client", [{"ready_stall_seconds": 0.3, "ready_max_lag": 0}], indirect=True
)
def test_a_stalled_consumer_makes_the_service_unready_until_it_moves_again(
    gated_client: tuple[TestClient, Platform, Gated, Settings],
) -> None:
    client, platform, gated, settings = gated_client
    assert wait_for_status(client, 200).json()["checks"]["consumer:gated"] == "ok"
    register(platform.store, "rheine", 2)
    first = client.get("/readyz")  # behind, but not yet for long: still ready
    assert first.status_code == 200, first.text
    time.sleep(0.4)
    assert_not_ready(
        client.get("/readyz"), "consumer:gated", "stalled: rheine/coordination 2 behind", settings
    )
    gated.gate.set()
    assert wait_for_status(client, 200).json()["checks"]["consumer:gated"] == "ok"


@pytest.mark.parametrize(
    "gated_client", [{"ready_stall_seconds": 0, "ready_max_lag": 2}], indirect=True
)
def test_a_consumer_too_far_behind_makes_the_service_unready_until_it_caught_up(
    gated_client: tuple[TestClient, Platform, Gated, Settings],
) -> None:
    client, platform, gated, settings = gated_client
    register(platform.store, "rheine", 3)
    ready = wait_for_relay(client)  # the relay publishes in its own thread; the consumer waits
    assert_not_ready(ready, "consumer:gated", "lagging: rheine/coordination 3 behind", settings)
    gated.gate.set()
    wait_for_status(client, 200)


def test_a_relay_that_cannot_publish_makes_the_service_unready_until_it_can(
    tmp_path: Path,
) -> None:
    with own_nats(tmp_path) as server:
        settings = fault_settings(tmp_path, server.url)
        platform = Platform(settings, store=make_store(settings))
        with TestClient(build_app(settings, ["tenancy"], platform=platform)) as client:
            wait_for_status(client, 200)
            server.nodes[0].freeze()  # connected, but nothing is acknowledged
            try:
                register(platform.store, "rheine", 1)
                ready = wait_for_status(client, 503)
                assert_not_ready(ready, "relay", "failing: BusUnavailable", settings)
            finally:
                server.nodes[0].thaw()
            assert wait_for_status(client, 200).json()["checks"]["relay"] == "ok"
        platform.close()


def test_readiness_names_a_bus_that_is_gone(tmp_path: Path) -> None:
    with own_nats(tmp_path) as server:
        settings = fault_settings(tmp_path, server.url)
        platform = Platform(settings, store=make_store(settings))
        with TestClient(build_app(settings, ["tenancy"], platform=platform)) as client:
            wait_for_status(client, 200)
            server.nodes[0].kill()
            ready = wait_for_status(client, 503)
            assert "bus" in ready.json()["failed"]
            assert ready.headers["Retry-After"] == str(settings.ready_retry_after)
            server.nodes[0].start()
            wait_for_status(client, 200)
        platform.close()


def test_the_stall_clock_starts_when_a_component_is_first_seen_behind(
    memory_store: EventLogStore,
) -> None:
    now = [1000.0]
    positions: dict[tuple[str, str], int] = {}
    consumer = TrackedConsumer("idle", "kim.*.coordination.>", lambda r: None,
                               lambda t, c: positions.get((t, c), 0))  # fmt: skip
    monitor = LagMonitor(
        memory_store,
        prefix="kim",
        relay=lambda: None,
        consumers=lambda: [consumer],
        max_lag=0,
        stall_seconds=30,
        clock=lambda: now[0],
    )
    register(memory_store, "rheine", 1)
    positions[("rheine", "coordination")] = 1
    assert monitor.checks(monitor.lags(), ["consumer:idle"]) == {"consumer:idle": "ok"}
    now[0] += 3600  # idle for an hour, then an event arrives
    register(memory_store, "rheine", 1)
    assert monitor.checks(monitor.lags(), ["consumer:idle"]) == {"consumer:idle": "ok"}
    now[0] += 29
    assert monitor.checks(monitor.lags(), ["consumer:idle"]) == {"consumer:idle": "ok"}
    now[0] += 2
    stalled = monitor.checks(monitor.lags(), ["consumer:idle"])["consumer:idle"]
    assert stalled == "stalled: rheine/coordination 1 behind, no progress for 31 s"
    positions[("rheine", "coordination")] = 2
    assert monitor.checks(monitor.lags(), ["consumer:idle"]) == {"consumer:idle": "ok"}


def gauge_points(reader: InMemoryMetricReader) -> dict[str, dict[tuple[Any, ...], int]]:
    found: dict[str, dict[tuple[Any, ...], int]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    assert isinstance(point, NumberDataPoint)
                    key = tuple(sorted(point.attributes.items())) if point.attributes else ()
                    found.setdefault(metric.name, {})[key] = int(point.value)
    return found


async def test_the_lag_gauges_count_the_events_behind_each_log_head(
    memory_store: EventLogStore,
) -> None:
    bus = InMemoryBus()
    await bus.connect()
    relay = LogRelay(memory_store, bus, contexts=["coordination"])
    register(memory_store, "rheine", 5)
    register(memory_store, "aachen", 2)
    await relay.drain()  # published: rheine 5, aachen 2
    register(memory_store, "rheine", 2)  # rheine's head 7, not yet published
    positions = {("rheine", "coordination"): 3}
    consumer = TrackedConsumer("catalogue", "kim.*.coordination.>", lambda r: None,
                               lambda t, c: positions.get((t, c), 0))  # fmt: skip
    monitor = LagMonitor(
        memory_store,
        prefix="kim",
        relay=lambda: relay,
        consumers=lambda: [consumer],
        max_lag=0,
        stall_seconds=0,
    )
    reader = InMemoryMetricReader()
    gauges = LagGauges(MeterProvider(metric_readers=[reader]).get_meter("test"))
    gauges.add(monitor)
    points = gauge_points(reader)
    assert points["kim.relay.lag"] == {
        (("context", "coordination"), ("tenant", "aachen")): 0,
        (("context", "coordination"), ("tenant", "rheine")): 2,
    }
    assert points["kim.consumer.lag"] == {
        (("consumer", "catalogue"), ("context", "coordination"), ("tenant", "aachen")): 2,
        (("consumer", "catalogue"), ("context", "coordination"), ("tenant", "rheine")): 4,
    }
    await bus.close()

"""How far the relay and the consumers are behind the logs: gauges and readiness checks.

The lag of a log is its head (``store.heads()``, one query) minus the position the relay
published (acknowledged) or a consumer applied (what the consumer tracks in memory); nothing
is replayed to compute it. A component is *stalled* when it stays behind on a log without
any progress for ``stall_seconds``: the clock starts when a look finds it behind after a
look that found it level, or finds it moved, so an idle consumer that receives a new event
is not stalled at once. Looks happen on every readiness request and every gauge collection.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Meter, Observation

from runtime.bus.base import subject_matches
from runtime.bus.consumer import TrackedConsumer
from runtime.bus.relay import LogRelay
from runtime.eventstore.base import EventLogStore

Log = tuple[str, str]


@dataclass(frozen=True)
class Lag:
    """One component's distance behind one log."""

    component: str
    """``relay`` or the consumer's name."""
    tenant: str
    context: str
    behind: int
    stalled_for: float
    """Seconds behind without progress (0 when level or moving)."""


class LagMonitor:
    def __init__(
        self,
        store: EventLogStore,
        *,
        prefix: str,
        relay: Callable[[], LogRelay | None],
        consumers: Callable[[], Iterable[TrackedConsumer]],
        max_lag: int,
        stall_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.prefix = prefix
        self.relay = relay
        self.consumers = consumers
        self.max_lag = max_lag
        self.stall_seconds = stall_seconds
        self.clock = clock
        self._seen: dict[tuple[str, str, str], tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _observe(self, component: str, log: Log, head: int, position: int) -> Lag:
        now = self.clock()
        key = (component, *log)
        behind = max(0, head - position)
        with self._lock:
            seen = self._seen.get(key)
            # Level, moved, or behind for the first time since it was level: clock from now.
            if behind == 0 or seen is None or seen[0] != position or seen[0] < 0:
                since = now
                self._seen[key] = (position if behind else -1, now)
            else:
                since = seen[1]
        return Lag(component, log[0], log[1], behind, now - since if behind else 0.0)

    def lags(self) -> list[Lag]:
        """Every log of the relay's contexts and every log a consumer subscribes to."""
        heads = self.store.heads()
        found: list[Lag] = []
        relay = self.relay()
        if relay is not None:
            positions = relay.known_positions()
            for log, head in sorted(heads.items()):
                if relay.contexts is None or log[1] in relay.contexts:
                    found.append(self._observe("relay", log, head, positions.get(log, 0)))
        for consumer in self.consumers():
            for log, head in sorted(heads.items()):
                if subject_matches(consumer.subject, f"{self.prefix}.{log[0]}.{log[1]}.Any"):
                    found.append(self._observe(consumer.name, log, head, consumer.position(*log)))
        return found

    def checks(self, lags: list[Lag], names: Iterable[str]) -> dict[str, str]:
        """``relay`` and ``consumer:<name>``: ``ok``, or what is wrong with the worst log."""
        checks = {name: "ok" for name in names}
        worst: dict[str, tuple[float, str]] = {}
        for lag in lags:
            where = f"{lag.tenant}/{lag.context} {lag.behind} behind"
            problem = None
            if self.stall_seconds and lag.behind and lag.stalled_for >= self.stall_seconds:
                text = f"stalled: {where}, no progress for {lag.stalled_for:.0f} s"
                problem = (2.0 + lag.stalled_for, text)
            elif self.max_lag and lag.behind > self.max_lag:
                problem = (1.0, f"lagging: {where} (limit {self.max_lag})")
            name = "relay" if lag.component == "relay" else f"consumer:{lag.component}"
            if problem is not None and problem[0] > worst.get(name, (0.0, ""))[0]:
                worst[name] = problem
        checks.update({name: text for name, (_, text) in worst.items()})
        return checks


class LagGauges:
    """``kim.relay.lag`` (tenant, context) and ``kim.consumer.lag`` (consumer, tenant,
    context): observable gauges over the monitors added, in events behind the head."""

    def __init__(self, meter: Meter) -> None:
        self._monitors: weakref.WeakSet[LagMonitor] = weakref.WeakSet()
        meter.create_observable_gauge(
            "kim.relay.lag",
            callbacks=[self._relay],
            unit="{event}",
            description="events of a log not yet published (acknowledged) by the relay",
        )
        meter.create_observable_gauge(
            "kim.consumer.lag",
            callbacks=[self._consumer],
            unit="{event}",
            description="events of a log a consumer has not yet applied",
        )
        self._last: list[Lag] = []
        self._last_at = 0.0

    def add(self, monitor: LagMonitor) -> None:
        self._monitors.add(monitor)

    def discard(self, monitor: LagMonitor) -> None:
        self._monitors.discard(monitor)

    def _lags(self) -> list[Lag]:
        # Both gauges are collected together: one look at the heads serves them both.
        now = time.monotonic()
        if now - self._last_at > 0.5:
            found: list[Lag] = []
            for monitor in list(self._monitors):
                try:
                    found += monitor.lags()
                except Exception:  # noqa: S112 - a store that is down has no lag to show
                    continue
            self._last, self._last_at = found, now
        return self._last

    def _relay(self, options: CallbackOptions) -> Iterator[Observation]:
        for lag in self._lags():
            if lag.component == "relay":
                yield Observation(lag.behind, {"tenant": lag.tenant, "context": lag.context})

    def _consumer(self, options: CallbackOptions) -> Iterator[Observation]:
        for lag in self._lags():
            if lag.component != "relay":
                attributes = {"consumer": lag.component, "tenant": lag.tenant}
                yield Observation(lag.behind, {**attributes, "context": lag.context})


_gauges: LagGauges | None = None
_gauges_lock = threading.Lock()


def lag_gauges() -> LagGauges:
    """The process's gauges on the global meter provider (``runtime.telemetry``)."""
    global _gauges
    with _gauges_lock:
        if _gauges is None:
            _gauges = LagGauges(metrics.get_meter("kim"))
        return _gauges

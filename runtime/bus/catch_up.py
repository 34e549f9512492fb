"""Consumers that stand behind a log's head with nothing arriving read the rest from the log.

The bus delivers at least once, but not always everything a consumer still needs: a
consumer that applied an event and was killed before it saved its position resumes behind
that event, which the bus already counts as acknowledged; a single NATS node that crashed
can lose what it had not written to disk. Such a consumer would wait for the next event of
the log to notice the gap. So every ``interval`` seconds the platform looks at the lags it
already computes for readiness (``runtime.bus.lag``; one query of the log heads, nothing
replayed) and lets each consumer that has stood behind without progress for ``idle``
seconds read what it misses from the log, in order, under its own lock (what the bus
delivers meanwhile is skipped by position). Readiness then calls a consumer stalled only
when even that does not move it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from runtime.bus.consumer import TrackedConsumer
from runtime.bus.lag import LagMonitor

log = logging.getLogger(__name__)


class CatchUp:
    def __init__(
        self,
        lag: LagMonitor,
        consumers: Callable[[], Iterable[TrackedConsumer]],
        *,
        idle: float = 5.0,
        interval: float = 2.0,
    ) -> None:
        self.lag = lag
        self.consumers = consumers
        self.idle = idle
        self.interval = interval
        self.caught_up = 0
        """Records read from the log this way (for tests and logs)."""
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="catch-up")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.once()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a store that is down: readiness says so; try later
                log.debug("catch-up: looking at the lags failed (%s)", type(e).__name__)

    async def once(self) -> int:
        """One look: every idle consumer behind a head reads up to it; returns the records."""
        by_name = {c.name: c for c in self.consumers() if c.log_reader is not None}
        read = 0
        for lag in await asyncio.to_thread(self.lag.lags):
            consumer = by_name.get(lag.component)
            if consumer is None or not lag.behind or lag.stalled_for < self.idle:
                continue
            upto = consumer.position(lag.tenant, lag.context) + lag.behind
            found = await consumer.catch_up(lag.tenant, lag.context, upto)
            if found:
                log.info(
                    "consumer %s: read %d record(s) of %s/%s from the log (nothing arrived"
                    " for %.0f s)",
                    consumer.name,
                    found,
                    lag.tenant,
                    lag.context,
                    lag.stalled_for,
                )
            read += found
        self.caught_up += read
        return read

"""The relay: tails every per-tenant log and publishes committed events to the bus.

No dual write: a command only appends to its log. The relay publishes from the log and
records how far it got; after a crash it publishes again from there, and the event id
(``Nats-Msg-Id``) lets the bus drop what it already has. The same holds after a failed
publish: the relay advances its positions only over what the bus acknowledged, so after any
bus failure it publishes again from there, after a growing pause and with one warning per
outage. Every wait on the bus is bounded by the bus itself (``ack_timeout``), so the lock
around a drain is never held across an unbounded wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable

from opentelemetry.trace import SpanKind

from runtime.bus.base import Bus, Outage, subject_for
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.outage import log_failure, unavailable
from runtime.signing import Signer
from runtime.telemetry import current_traceparent, span_from

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 1000  # events of a log between two checkpoints, at most
CHECKPOINT_SECONDS = 300.0  # seconds between two checkpoints of a log that grew, at most


class LogRelay:
    def __init__(
        self,
        store: EventLogStore,
        bus: Bus,
        *,
        contexts: Iterable[str] | None = None,
        name: str = "relay",
        poll_interval: float = 0.1,
        batch_size: int = 500,
    ) -> None:
        self.store = store
        self.bus = bus
        self.contexts = set(contexts) if contexts is not None else None
        self.name = name
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.published = 0
        self.duplicates = 0
        self._positions: dict[tuple[str, str], int] | None = None
        self._dirty: set[tuple[str, str]] = set()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._stopped = asyncio.Event()
        self._lock = asyncio.Lock()
        self.outage = Outage(f"relay {name}: publishing", log, first=poll_interval)
        """Failing while the bus refuses or times out; readiness reports it."""
        # Other processes append too (PostgreSQL): scan all heads on every poll there.
        self._full_scan_every = 1 if store.kind == "postgresql" else 10
        # Positions are saved at most every ``save_interval`` seconds (and on stop): after a
        # crash the relay publishes a little again, which the bus and the consumers drop.
        self.save_interval = 0.5
        self._unsaved: dict[tuple[str, str], int] = {}
        self._saved_at = 0.0
        # Periodic checkpoints of the hash chain (position and hash, kept apart from the
        # events; signed with ``signer`` when the platform has a signing key, ADR 0003): at
        # the first save after the start, then once a log has grown by ``checkpoint_every``
        # events or ``checkpoint_seconds`` have passed since its last one, whichever is first.
        self.checkpoint_every = CHECKPOINT_EVERY
        self.checkpoint_seconds = CHECKPOINT_SECONDS
        self.signer: Signer | None = None
        self._heads: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._head_times: dict[tuple[str, str], str] = {}
        self._checkpointed: dict[tuple[str, str], int] = {}
        self._checkpointed_at: dict[tuple[str, str], float] = {}
        self._saving: asyncio.Task[None] | None = None
        self._scan: asyncio.Task[None] | None = None

    def _on_append(self, tenant: str, context: str, position: int) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._mark, tenant, context)

    def _mark(self, tenant: str, context: str) -> None:
        self._dirty.add((tenant, context))
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._stopped.clear()
        self._loop = asyncio.get_running_loop()
        self.store.add_listener(self._on_append)
        self._task = asyncio.create_task(self._run(), name=f"relay-{self.name}")

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop publishing and save the positions, within about ``timeout`` seconds.

        The loop finishes the batch under way (each bus wait is bounded) or is cancelled;
        then what was acknowledged is saved. Whatever was not is published again by the next
        relay (the bus drops the duplicates).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self.store.remove_listener(self._on_append)
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        for task in (self._task, self._scan):
            if task is not None and not task.done():
                done, _ = await asyncio.wait({task}, timeout=max(0.1, (deadline - loop.time()) / 2))
                if not done:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
        self._task = self._scan = None
        try:
            async with asyncio.timeout(max(0.1, deadline - loop.time())):
                async with self._lock:
                    if self._saving is not None:
                        await self._saving
                    if self._unsaved:
                        self._save_positions()
                    if self._saving is not None:
                        await self._saving
        except TimeoutError:
            log.warning("relay %s: saving positions on stop did not finish in time", self.name)
        except Exception:
            log.exception("relay %s: saving positions on stop failed", self.name)

    def known_positions(self) -> dict[tuple[str, str], int]:
        """How far each log is published (acknowledged): in memory, else as last saved."""
        positions = self._positions
        if positions is None:
            return self.store.relay_positions(self.name)
        return dict(positions)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopped.wait()

    async def _run(self) -> None:
        # No asyncio.wait_for here: on Python 3.11 it can swallow a cancellation.
        cycle = 0
        last_full = 0.0
        retry = False
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            if self._stopping:
                return
            self._wake.clear()
            cycle += 1
            # The first cycle catches up with everything appended before the start. Appends of
            # this process mark their logs dirty; a scan of all heads (for appends of other
            # processes) runs beside the publishing, at most once per poll interval (PostgreSQL)
            # or every ten (SQLite), and marks the logs it finds behind as dirty. After a
            # failure every log is looked at again (the failed drain had taken the dirty ones).
            now = time.monotonic()
            full = cycle == 1 or retry
            due = now - last_full >= self.poll_interval * self._full_scan_every
            if not full and due and (self._scan is None or self._scan.done()):
                last_full = now
                self._scan = asyncio.create_task(self._scan_heads())
            try:
                await self.drain(full_scan=full, background=True)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                retry = True
                await self._pause(self.outage.failed(e))
                continue
            retry = False
            self.outage.recovered()

    async def _scan_heads(self) -> None:
        try:
            heads = await asyncio.to_thread(self.store.heads)
        except Exception as e:
            if not unavailable(e):  # a database outage is logged once, by the store
                log.exception("relay %s: scanning the heads failed; scanned again later", self.name)
            return
        positions = self._positions or {}
        for (tenant, context), head in heads.items():
            if head > positions.get((tenant, context), 0):
                self._mark(tenant, context)

    async def drain(self, *, full_scan: bool = True, background: bool = False) -> int:
        """Publish everything appended so far; returns how many records were published.

        The relay's own loop saves positions in the background; a direct call waits until
        they are saved.
        """
        async with self._lock:
            if self._positions is None:
                self._positions = await asyncio.to_thread(self.store.relay_positions, self.name)
            if full_scan:
                heads = await asyncio.to_thread(self.store.heads)
                pending = [k for k, h in heads.items() if h > self._positions.get(k, 0)]
            else:
                pending = list(self._dirty)
            self._dirty.clear()
            count = 0
            for tenant, context in sorted(pending):
                if self.contexts is not None and context not in self.contexts:
                    continue
                count += await self._publish_log(tenant, context)
            if (
                self._unsaved
                and time.monotonic() - self._saved_at >= self.save_interval
                and (self._saving is None or self._saving.done())
            ):
                self._save_positions()
            if not background and self._saving is not None:
                await self._saving
            return count

    def _save_positions(self) -> None:
        """Save positions and due checkpoints in the background: publishing goes on."""
        unsaved, self._unsaved = self._unsaved, {}
        self._saved_at = time.monotonic()
        now = self._saved_at
        due = {
            log: head
            for log, head in self._heads.items()
            if log not in self._checkpointed
            or head[0] - self._checkpointed[log] >= self.checkpoint_every
            or (
                head[0] > self._checkpointed[log]
                and now - self._checkpointed_at.get(log, 0.0) >= self.checkpoint_seconds
            )
        }
        for key, (position, _) in due.items():
            self._checkpointed[key] = position
            self._checkpointed_at[key] = now
        signer = self.signer
        times = {log: self._head_times.get(log, "") for log in due}

        def save() -> None:
            self.store.set_relay_positions(self.name, unsaved)
            if due and signer is not None:
                self.store.add_signed_checkpoints(
                    [
                        signer.sign(t, c, p, h, times[(t, c)])
                        for (t, c), (p, h) in sorted(due.items())
                    ]
                )
            elif due:
                self.store.add_checkpoints(due)

        async def run() -> None:
            try:
                await asyncio.to_thread(save)
            except Exception as e:
                log_failure(
                    log, e, "relay %s: saving positions failed; saved again later", self.name
                )
                for key, position in unsaved.items():
                    self._unsaved[key] = max(position, self._unsaved.get(key, 0))
                for key in due:
                    self._checkpointed.pop(key, None)

        self._saving = asyncio.get_running_loop().create_task(run())

    async def _publish_log(self, tenant: str, context: str) -> int:
        assert self._positions is not None
        count = 0
        while True:
            after = self._positions.get((tenant, context), 0)
            records = await asyncio.to_thread(
                self.store.read_log, tenant, context, after=after, limit=self.batch_size
            )
            if not records:
                return count
            with contextlib.ExitStack() as spans:
                messages = []
                for record in records:
                    spans.enter_context(
                        span_from(
                            f"publish {subject_for(record, self.bus.prefix)}",
                            record.traceparent,
                            SpanKind.PRODUCER,
                            tenant=tenant,
                            context=context,
                        )
                    )
                    messages.append((record, {"traceparent": current_traceparent() or ""}))
                fresh = await self.bus.publish_many(messages)
            self.duplicates += fresh.count(False)
            self.published += len(records)
            count += len(records)
            last = records[-1].position
            self._positions[(tenant, context)] = last
            self._unsaved[(tenant, context)] = last
            if records[-1].hash is not None:
                self._heads[(tenant, context)] = (last, records[-1].hash)
                self._head_times[(tenant, context)] = records[-1].recorded_at
            if len(records) < self.batch_size:
                return count  # the log's end: no need to read it again

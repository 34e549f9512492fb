"""In-process bus for the embedded default: same semantics as the JetStream adapter."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, field

from runtime.bus.base import (
    MAX_BATCH,
    BatchHandler,
    Bus,
    BusSubscription,
    Handler,
    subject_for,
    subject_matches,
)
from runtime.bus.redelivery import delay_after, log_attempt
from runtime.eventstore.records import LogRecord

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = 100_000  # remembered event ids, like JetStream's duplicate window


@dataclass
class _Consumer:
    name: str
    subject: str
    handler: Handler
    queue: asyncio.Queue[tuple[LogRecord, dict[str, str]]] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    redelivery_delay: float = 0.05


class _Subscription(BusSubscription):
    def __init__(self, bus: InMemoryBus, consumer: _Consumer) -> None:
        self.bus = bus
        self.consumer = consumer

    async def stop(self) -> None:
        self.bus._consumers.pop(self.consumer.name, None)
        if self.consumer.task is not None:
            self.consumer.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.consumer.task


class InMemoryBus(Bus):
    def __init__(self, prefix: str = "kim") -> None:
        self.prefix = prefix
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._consumers: dict[str, _Consumer] = {}
        self._retained: list[
            tuple[LogRecord, dict[str, str]]
        ] = []  # like a stream: new consumers start from the top
        self._connected = False
        self.deliveries = 0
        self.redeliveries = 0

    async def connect(self) -> None:
        self._connected = True

    async def close(self) -> None:
        for consumer in list(self._consumers.values()):
            await _Subscription(self, consumer).stop()
        self._connected = False

    @property
    def ready(self) -> bool:
        return self._connected

    async def publish(self, record: LogRecord, headers: dict[str, str]) -> bool:
        if record.event_id in self._seen:
            return False
        self._seen[record.event_id] = None
        if len(self._seen) > DUPLICATE_WINDOW:
            self._seen.popitem(last=False)
        message = (record, {**headers, "Nats-Msg-Id": record.event_id})
        self._retained.append(message)
        if len(self._retained) > DUPLICATE_WINDOW:
            # Like a stream's limits: late consumers fill older gaps from the log.
            del self._retained[: len(self._retained) - DUPLICATE_WINDOW]
        subject = subject_for(record, self.prefix)
        for consumer in self._consumers.values():
            if subject_matches(consumer.subject, subject):
                consumer.queue.put_nowait(message)
        return True

    async def subscribe(self, consumer: str, subject: str, handler: Handler) -> BusSubscription:
        c = _Consumer(consumer, subject, handler)
        for message in self._retained:
            if subject_matches(subject, subject_for(message[0], self.prefix)):
                c.queue.put_nowait(message)
        self._consumers[consumer] = c
        c.task = asyncio.create_task(self._deliver(c), name=f"bus-consumer-{consumer}")
        return _Subscription(self, c)

    async def _deliver(self, c: _Consumer) -> None:
        batch_handler = c.handler if isinstance(c.handler, BatchHandler) else None
        while True:
            messages = [await c.queue.get()]
            while batch_handler is not None and len(messages) < MAX_BATCH and not c.queue.empty():
                messages.append(c.queue.get_nowait())
            record, headers = messages[0]
            attempt = 0
            while True:
                try:
                    self.deliveries += len(messages)
                    if len(messages) > 1 and batch_handler is not None:
                        await batch_handler.handle_batch(messages)
                    else:
                        await c.handler(record, headers)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    # Not acknowledged: deliver the same messages again, in order.
                    self.redeliveries += 1
                    attempt += 1
                    log_attempt(
                        log, e, attempt, "consumer %s failed on %s; redelivering", c.name,
                        record.event_id,
                    )  # fmt: skip
                    await asyncio.sleep(delay_after(c.redelivery_delay, attempt, e))

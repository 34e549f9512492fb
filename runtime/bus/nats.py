"""NATS JetStream adapter: one stream over ``kim.>``, durable pull consumers, explicit acks."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NotFoundError

from runtime.bus.base import (
    MAX_BATCH,
    BatchHandler,
    Bus,
    BusSubscription,
    Handler,
    Message,
    decode,
    encode,
    subject_for,
)
from runtime.eventstore.records import LogRecord

log = logging.getLogger(__name__)
FETCH_TIMEOUT = 0.1  # also the longest a stop waits for the fetch under way


def consumer_name(name: str) -> str:
    """Durable names may not contain '.', '*', '>' or spaces."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


class _PullSubscription(BusSubscription):
    """Stops between fetches, so no message is left delivered to a reader that is gone."""

    def __init__(self, psub: JetStreamContext.PullSubscription) -> None:
        self.psub = psub
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        self.stopping.set()
        if self.task is not None:
            done, _ = await asyncio.wait({self.task}, timeout=FETCH_TIMEOUT + 5)
            if not done:
                self.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.task
        with contextlib.suppress(Exception):
            await self.psub.unsubscribe()


class NatsBus(Bus):
    redelivery_delay = 0.5

    def __init__(self, url: str, *, stream: str = "KIM", prefix: str = "kim") -> None:
        self.prefix = prefix
        self.servers = [s.strip() for s in url.split(",") if s.strip()]
        self.stream = stream
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._subs: list[_PullSubscription] = []

    async def connect(self) -> None:
        self._nc = await nats.connect(
            servers=self.servers, name="kim", max_reconnect_attempts=-1, connect_timeout=5
        )
        self._js = self._nc.jetstream()
        config = api.StreamConfig(
            name=self.stream,
            subjects=[f"{self.prefix}.>"],
            storage=api.StorageType.FILE,
            retention=api.RetentionPolicy.LIMITS,
            duplicate_window=120.0,
        )
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            try:
                await self._js.add_stream(config)
            except BadRequestError as e:
                raise RuntimeError(
                    f"cannot create the JetStream stream {self.stream!r} for {self.prefix}.>:"
                    f" {e.description}. Another stream already holds these subjects; set"
                    " KIM_NATS_STREAM to its name."
                ) from e

    async def close(self) -> None:
        for sub in list(self._subs):
            await sub.stop()
        self._subs.clear()
        if self._nc is not None and not self._nc.is_closed:
            try:
                async with asyncio.timeout(5):
                    await self._nc.close()
            except TimeoutError:
                log.warning("NATS connection did not close within 5 s")
        self._nc = None
        self._js = None

    @property
    def ready(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("NATS bus is not connected")
        return self._js

    async def publish(self, record: LogRecord, headers: dict[str, str]) -> bool:
        ack = await self._jetstream().publish(
            subject_for(record, self.prefix),
            encode(record),
            headers={**headers, "Nats-Msg-Id": record.event_id},
        )
        return not ack.duplicate

    async def publish_many(self, messages: list[Message]) -> list[bool]:
        """All sent in order before the first acknowledgement is awaited (one round trip
        for the lot instead of one per record)."""
        js = self._jetstream()
        acks = [
            await js.publish_async(
                subject_for(record, self.prefix),
                encode(record),
                headers={**headers, "Nats-Msg-Id": record.event_id},
            )
            for record, headers in messages
        ]
        return [not (await ack).duplicate for ack in acks]

    async def subscribe(self, consumer: str, subject: str, handler: Handler) -> BusSubscription:
        js = self._jetstream()
        durable = consumer_name(consumer)
        config = api.ConsumerConfig(
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_wait=30.0,
            max_ack_pending=1000,
        )
        psub = await js.pull_subscribe(subject, durable=durable, stream=self.stream, config=config)
        sub = _PullSubscription(psub)
        sub.task = asyncio.create_task(self._pull(sub, durable, handler), name=f"nats-{durable}")
        self._subs.append(sub)
        return sub

    async def _pull(self, sub: _PullSubscription, durable: str, handler: Handler) -> None:
        while not sub.stopping.is_set():
            try:
                msgs = await self._fetch(sub.psub)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            if len(msgs) > 1 and isinstance(handler, BatchHandler):
                await self._handle_batch(msgs, durable, handler)
                continue
            for i, msg in enumerate(msgs):
                if not await self._handle(msg, durable, handler):
                    # Keep per-log order: give back what is left of the batch too.
                    for rest in msgs[i + 1 :]:
                        await rest.nak(delay=self.redelivery_delay)
                    break

    @staticmethod
    async def _fetch(psub: JetStreamContext.PullSubscription) -> list[Msg]:
        """Wait for the next message, then take what else is there without waiting.

        A single ``fetch(batch=100)`` that finds nothing waiting holds back the first
        message that arrives until the batch is full or its timeout has passed (nats-py
        2.x), which adds up to the whole timeout to every event's delivery when events
        trickle in. So the first message is taken alone, as soon as it arrives; its
        metadata says how many wait behind it, and exactly those are fetched at once.
        """
        msgs = await psub.fetch(batch=1, timeout=FETCH_TIMEOUT)
        pending = msgs[-1].metadata.num_pending if msgs else 0
        if pending:  # known to be there: a fetch of exactly these returns without lingering
            with contextlib.suppress(TimeoutError, nats.errors.TimeoutError):
                msgs += await psub.fetch(batch=min(pending, MAX_BATCH - 1), timeout=FETCH_TIMEOUT)
        return msgs

    @staticmethod
    async def _decode(msg: Msg, durable: str) -> LogRecord | None:
        """The message's record; an undecodable message is terminated (never redelivered)."""
        try:
            return decode(msg.data)
        except Exception:
            log.exception(
                "consumer %s: undecodable message on %s, terminated", durable, msg.subject
            )
            await msg.term()
            return None

    async def _handle_batch(self, msgs: list[Msg], durable: str, handler: BatchHandler) -> None:
        messages: list[Message] = []
        delivered: list[Msg] = []
        for msg in msgs:
            record = await self._decode(msg, durable)
            if record is not None:
                messages.append((record, dict(msg.headers or {})))
                delivered.append(msg)
        try:
            await handler.handle_batch(messages)
        except Exception:
            log.exception("consumer %s failed on a batch of %d; redelivered", durable, len(msgs))
            for msg in delivered:
                await msg.nak(delay=self.redelivery_delay)
            return
        for msg in delivered:
            await msg.ack()

    async def _handle(self, msg: Msg, durable: str, handler: Handler) -> bool:
        record = await self._decode(msg, durable)
        if record is None:
            return True
        try:
            await handler(record, dict(msg.headers or {}))
        except Exception:
            log.exception("consumer %s failed on %s; will be redelivered", durable, record.event_id)
            await msg.nak(delay=self.redelivery_delay)
            return False
        await msg.ack()
        return True

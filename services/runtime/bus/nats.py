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

from services.runtime.bus.base import Bus, BusSubscription, Handler, decode, encode, subject_for
from services.runtime.eventstore.records import LogRecord

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
                msgs = await sub.psub.fetch(batch=100, timeout=FETCH_TIMEOUT)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            for i, msg in enumerate(msgs):
                if not await self._handle(msg, durable, handler):
                    # Keep per-log order: give back what is left of the batch too.
                    for rest in msgs[i + 1 :]:
                        await rest.nak(delay=self.redelivery_delay)
                    break

    async def _handle(self, msg: Msg, durable: str, handler: Handler) -> bool:
        try:
            record = decode(msg.data)
        except Exception:
            log.exception(
                "consumer %s: undecodable message on %s, terminated", durable, msg.subject
            )
            await msg.term()
            return True
        try:
            await handler(record, dict(msg.headers or {}))
        except Exception:
            log.exception("consumer %s failed on %s; will be redelivered", durable, record.event_id)
            await msg.nak(delay=self.redelivery_delay)
            return False
        await msg.ack()
        return True

"""NATS JetStream consumers: a durable pull subscription per consumer, explicit acks.

Its loop never gives up: it creates the server-side consumer once the bus is there, and
again whenever the server lost it (an error, or a check after a reconnect and after
``CONSUMER_CHECK`` seconds without messages: a pull from a lost consumer only times out).
Failures are logged once per outage; unacknowledged messages are redelivered, and the
tracked consumers skip what they already applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from runtime.bus.base import (
    MAX_BATCH,
    BatchHandler,
    BusSubscription,
    BusUnavailable,
    Handler,
    Message,
    Outage,
    decode,
)
from runtime.bus.redelivery import delay_after, log_attempt
from runtime.eventstore.records import LogRecord

if TYPE_CHECKING:
    from runtime.bus.nats import NatsBus

log = logging.getLogger("runtime.bus.nats")
FETCH_TIMEOUT = 2.0
"""How long one pull waits for a message. An idle consumer asks the server again after it:
at 0.1 s, 13 idle consumers of one process cost it about 8 % of a core; at 2 s, a
twentieth of that. A stop does not wait for a pull under way: it cancels it."""
BATCH_TIMEOUT = 0.1  # for what is known to wait already (another replica may take it first)
CONSUMER_CHECK = 10.0  # seconds without messages after which a consumer checks it exists
STOP_WAIT = 2.0  # seconds a subscription's stop waits for the message in hand


def consumer_name(name: str) -> str:
    """Durable names may not contain '.', '*', '>' or spaces."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def delivered_count(msg: Msg) -> int:
    """How often JetStream has delivered this message, this delivery included (1 if unknown)."""
    try:
        return int(msg.metadata.num_delivered or 1)
    except Exception:  # not a JetStream message (no reply subject to parse)
        return 1


class PullSubscription(BusSubscription):
    """Stops after the message in hand; a pull still waiting for a message is cancelled.

    A message the server sends to a pull just cancelled stays unacknowledged and comes
    again after the ack wait; the consumer that resumes reads it from the log before that
    (``runtime.bus.catch_up``) and skips it by position when it comes.
    """

    def __init__(self, bus: NatsBus, durable: str, subject: str, handler: Handler) -> None:
        self.bus = bus
        self.durable = durable
        self.subject = subject
        self.handler = handler
        self.psub: JetStreamContext.PullSubscription | None = None
        self.generation = 0
        """The bus's connection generation when the consumer was last known to exist."""
        self.checked_at = 0.0
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.waiting = False
        """In a pull with nothing in hand (what a stop may cancel at once)."""

    async def pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.stopping.wait()

    async def drop(self) -> None:
        """Forget the server-side subscription (it is made again when the bus is back)."""
        psub, self.psub = self.psub, None
        if psub is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    await psub.unsubscribe()

    async def stop(self) -> None:
        self.stopping.set()
        if self.task is not None:
            # The message in hand is finished (up to STOP_WAIT); a pull that waits for one
            # is cancelled as soon as the loop is in it.
            deadline = asyncio.get_running_loop().time() + STOP_WAIT
            while not (self.task.done() or self.waiting):
                if asyncio.get_running_loop().time() >= deadline:
                    break
                await asyncio.wait({self.task}, timeout=0.01)
            if not self.task.done():
                self.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.task
        await self.drop()

    async def run(self) -> None:
        outage = Outage(f"NATS consumer {self.durable}", log, first=0.2)
        bus, handler = self.bus, self.handler
        while not self.stopping.is_set():
            try:
                if self.psub is None:
                    if not bus.ready:  # the bus's own outage is logged by its keeper
                        await self.pause(0.2)
                        continue
                    self.psub = await bus.pull_subscribe(self)
                msgs = await self._fetch(self.psub)
                outage.recovered()
                if len(msgs) > 1 and isinstance(handler, BatchHandler):
                    await self._handle_batch(msgs, handler)
                    continue
                for i, msg in enumerate(msgs):
                    if not await self._handle(msg, handler):
                        # Keep per-log order: give back what is left of the batch too.
                        for rest in msgs[i + 1 :]:
                            await self._settle(rest.nak(delay=bus.redelivery_delay))
                        break
            except (TimeoutError, nats.errors.TimeoutError):
                try:
                    if self.psub is not None and bus.ready:
                        await bus.check_consumer(self)
                except Exception as e:  # lost (or unanswered): subscribe again
                    await self.drop()
                    await self.pause(outage.failed(e))
                continue
            except asyncio.CancelledError:
                raise
            except Exception as e:
                # The server lost the consumer, or the connection is gone: subscribe again
                # (unacknowledged messages are redelivered; the consumer skips what it has).
                delay = outage.failed(e)
                await self.drop()
                await self.pause(delay)

    async def _settle(self, reply: Coroutine[Any, Any, None]) -> None:
        """An ack, nak or term, bounded: a client whose buffer is full waits for the server
        to read (a frozen server never does); the loop then subscribes again and the
        unacknowledged messages come again after the ack wait (and are skipped)."""
        try:
            async with asyncio.timeout(self.bus.ack_timeout):
                await reply
        except TimeoutError as e:
            raise BusUnavailable(f"no room to acknowledge within {self.bus.ack_timeout} s") from e

    async def _fetch(self, psub: JetStreamContext.PullSubscription) -> list[Msg]:
        """Wait for the next message, then take what else is there without waiting.

        A single ``fetch(batch=100)`` that finds nothing waiting holds back the first
        message that arrives until the batch is full or its timeout has passed (nats-py
        2.x), which adds up to the whole timeout to every event's delivery when events
        trickle in. So the first message is taken alone, as soon as it arrives; its
        metadata says how many wait behind it, and exactly those are fetched at once.
        """
        if self.stopping.is_set():
            return []
        self.waiting = True
        try:
            msgs = await psub.fetch(batch=1, timeout=FETCH_TIMEOUT)
        finally:
            self.waiting = False
        pending = msgs[-1].metadata.num_pending if msgs else 0
        if pending:  # known to be there: a fetch of exactly these returns without lingering
            with contextlib.suppress(TimeoutError, nats.errors.TimeoutError):
                msgs += await psub.fetch(batch=min(pending, MAX_BATCH - 1), timeout=BATCH_TIMEOUT)
        return msgs

    async def _decode(self, msg: Msg) -> LogRecord | None:
        """The message's record; an undecodable message is terminated (never redelivered)."""
        try:
            return decode(msg.data)
        except Exception:
            log.exception(
                "consumer %s: undecodable message on %s, terminated", self.durable, msg.subject
            )
            await self._settle(msg.term())
            return None

    async def _handle_batch(self, msgs: list[Msg], handler: BatchHandler) -> None:
        messages: list[Message] = []
        delivered: list[Msg] = []
        for msg in msgs:
            record = await self._decode(msg)
            if record is not None:
                messages.append((record, dict(msg.headers or {})))
                delivered.append(msg)
        try:
            await handler.handle_batch(messages)
        except Exception as e:
            attempt = max(delivered_count(m) for m in msgs)
            log_attempt(log, e, attempt, "consumer %s failed on a batch of %d; redelivered",
                        self.durable, len(msgs))  # fmt: skip
            delay = delay_after(self.bus.redelivery_delay, attempt, e)
            for msg in delivered:
                await self._settle(msg.nak(delay=delay))
            return
        for msg in delivered:
            await self._settle(msg.ack())

    async def _handle(self, msg: Msg, handler: Handler) -> bool:
        record = await self._decode(msg)
        if record is None:
            return True
        try:
            await handler(record, dict(msg.headers or {}))
        except Exception as e:
            attempt = delivered_count(msg)
            log_attempt(log, e, attempt, "consumer %s failed on %s; will be redelivered",
                        self.durable, record.event_id)  # fmt: skip
            await self._settle(msg.nak(delay=delay_after(self.bus.redelivery_delay, attempt, e)))
            return False
        await self._settle(msg.ack())
        return True

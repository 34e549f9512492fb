"""NATS JetStream adapter: one stream over ``kim.>``, durable pull consumers, explicit acks.

Every wait on the server is bounded: a connection attempt and each JetStream request by
``request_timeout``, a batch of publishes and its acknowledgements by ``ack_timeout``. A
publish that times out raises ``BusUnavailable`` and leaves nothing pending behind it. With
``start`` the bus connects in the background and keeps trying (one warning per outage);
subscriptions never wait for the server either: each consumer's loop creates its pull
subscription once the bus is there, and again whenever the server lost it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import nats
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NotFoundError

from runtime.bus.base import (
    Bus,
    BusSubscription,
    BusUnavailable,
    Handler,
    Message,
    Outage,
    encode,
    subject_for,
)
from runtime.bus.nats_consumer import CONSUMER_CHECK, PullSubscription, consumer_name
from runtime.eventstore.records import LogRecord

__all__ = ["NatsBus", "StreamConflict", "consumer_name"]

log = logging.getLogger(__name__)
RECONNECT_WAIT = 1  # seconds between two connection attempts to the same server
PING_INTERVAL = 5  # a frozen or unreachable server is noticed after about 2 pings


class StreamConflict(RuntimeError):
    """Another stream holds the subjects: a configuration error (``KIM_NATS_STREAM``)."""


class NatsBus(Bus):
    redelivery_delay = 0.5

    def __init__(
        self,
        url: str,
        *,
        stream: str = "KIM",
        prefix: str = "kim",
        replicas: int = 1,
        ack_timeout: float = 5.0,
        request_timeout: float = 5.0,
    ) -> None:
        self.prefix = prefix
        self.servers = [s.strip() for s in url.split(",") if s.strip()]
        self.stream = stream
        self.replicas = replicas
        self.ack_timeout = ack_timeout
        self.request_timeout = request_timeout
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._stream_ready = False
        self._subs: list[PullSubscription] = []
        self._keeper: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._outage = Outage(f"NATS bus {url}", log, first=0.2, most=2.0)
        self._last_error = ""
        self._attempt_errors = 0
        self._attempt_failed = asyncio.Event()
        self._generation = 0
        """Counts connections and reconnects: after one, consumers check they still exist."""

    # -- connection ------------------------------------------------------------------------
    async def connect(self) -> None:
        """One bounded attempt: connect (if not connected) and make sure the stream exists."""
        if self._nc is None or self._nc.is_closed:
            await self._open()
        await self._ensure_stream()

    async def start(self) -> None:
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.create_task(self._keep(), name=f"nats-bus-{self.stream}")

    async def _keep(self) -> None:
        while True:
            try:
                await self.connect()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                await asyncio.sleep(self._outage.failed(e))
                continue
            self._outage.recovered()
            self._changed.clear()
            # Woken by a lost connection, a reconnect or a publish that found no stream.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self._changed.wait()

    async def _open(self) -> None:
        nc = Client()
        self._attempt_errors = 0
        self._attempt_failed = asyncio.Event()
        connecting = asyncio.ensure_future(
            nc.connect(
                servers=self.servers,
                name="kim",
                max_reconnect_attempts=-1,
                connect_timeout=max(1, min(2, int(self.request_timeout))),
                reconnect_time_wait=RECONNECT_WAIT,
                ping_interval=PING_INTERVAL,
                max_outstanding_pings=2,
                error_cb=self._on_error,
                disconnected_cb=self._on_disconnected,
                reconnected_cb=self._on_reconnected,
                closed_cb=self._on_disconnected,
            )
        )
        # The client would try forever; one attempt ends when every server has failed once.
        failed = asyncio.ensure_future(self._attempt_failed.wait())
        try:
            await asyncio.wait(
                {connecting, failed},
                timeout=self.request_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            failed.cancel()
            if not connecting.done():
                connecting.cancel()
                with contextlib.suppress(BaseException):
                    await connecting
                with contextlib.suppress(BaseException):
                    async with asyncio.timeout(0.2):
                        await nc.close()
        if connecting.cancelled() or connecting.exception() is not None:
            raise BusUnavailable(
                f"no NATS server reachable: {self._last_error}"
                if self._last_error
                else f"no NATS server answered within {self.request_timeout} s"
            )
        self._nc = nc
        self._js = nc.jetstream(timeout=self.request_timeout)
        self._stream_ready = False
        self._generation += 1

    async def _on_error(self, error: Exception) -> None:
        # Every failed attempt lands here; the outage is logged once, by the keeper.
        self._last_error = f"{type(error).__name__}: {error}".rstrip(": ")
        log.debug("NATS: %s", self._last_error)
        self._attempt_errors += 1
        if self._attempt_errors >= len(self.servers):
            self._attempt_failed.set()

    async def _on_disconnected(self) -> None:
        self._stream_ready = False
        self._changed.set()

    async def _on_reconnected(self) -> None:
        self._generation += 1
        self._changed.set()  # the keeper checks the stream again (the server may be new)

    async def _ensure_stream(self) -> None:
        js = self._jetstream()
        config = api.StreamConfig(
            name=self.stream,
            subjects=[f"{self.prefix}.>"],
            storage=api.StorageType.FILE,
            retention=api.RetentionPolicy.LIMITS,
            duplicate_window=120.0,
            num_replicas=self.replicas,
        )
        async with self._bounded(self.request_timeout, "stream check"):
            try:
                info = await js.stream_info(self.stream)
            except NotFoundError:
                try:
                    await js.add_stream(config)
                except BadRequestError as e:
                    raise StreamConflict(
                        f"cannot create the JetStream stream {self.stream!r} for {self.prefix}.>:"
                        f" {e.description}. Another stream already holds these subjects; set"
                        " KIM_NATS_STREAM to its name."
                    ) from e
            else:
                if info.config.num_replicas not in (None, self.replicas):
                    log.warning(
                        "JetStream stream %s has %s replicas, KIM_NATS_REPLICAS is %d;"
                        " the existing stream is used as it is",
                        self.stream,
                        info.config.num_replicas,
                        self.replicas,
                    )
        self._stream_ready = True

    async def close(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
            self._keeper = None
        subs, self._subs = list(self._subs), []
        await asyncio.gather(*(sub.stop() for sub in subs), return_exceptions=True)
        nc, self._nc, self._js = self._nc, None, None
        self._stream_ready = False
        if nc is not None and not nc.is_closed:
            try:
                async with asyncio.timeout(min(5.0, self.request_timeout)):
                    await nc.close()
            except TimeoutError:
                log.warning("NATS connection did not close in time; abandoned")
            except Exception as e:  # the server is gone: nothing left to close cleanly
                log.info("NATS connection closed with %s", type(e).__name__)

    @property
    def ready(self) -> bool:
        return self._nc is not None and self._nc.is_connected and self._stream_ready

    @property
    def problem(self) -> str:
        if self.ready:
            return ""
        if self._outage.error:
            return self._outage.error
        if self._nc is not None and self._nc.is_reconnecting:
            return "reconnecting"
        return "connecting" if self._keeper is not None else "not connected"

    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise BusUnavailable("NATS bus is not connected")
        return self._js

    @contextlib.asynccontextmanager
    async def _bounded(self, seconds: float, what: str) -> AsyncIterator[None]:
        """At most ``seconds``; a timeout or a missing stream is a ``BusUnavailable``."""
        try:
            async with asyncio.timeout(seconds):
                yield
        except (TimeoutError, nats.errors.TimeoutError) as e:
            raise BusUnavailable(f"no {what} from NATS within {seconds} s") from e
        except nats.js.errors.NoStreamResponseError as e:
            self._stream_ready = False  # a server without our stream: the keeper makes it
            self._changed.set()
            raise BusUnavailable(f"no JetStream stream answered the {what}") from e
        except (nats.errors.ConnectionClosedError, nats.errors.OutboundBufferLimitError) as e:
            raise BusUnavailable(f"NATS connection unusable: {type(e).__name__}") from e

    # -- publishing ------------------------------------------------------------------------
    async def publish(self, record: LogRecord, headers: dict[str, str]) -> bool:
        async with self._bounded(self.ack_timeout, "acknowledgement"):
            ack = await self._jetstream().publish(
                subject_for(record, self.prefix),
                encode(record),
                timeout=self.ack_timeout,
                headers={**headers, "Nats-Msg-Id": record.event_id},
            )
        return not ack.duplicate

    async def publish_many(self, messages: list[Message]) -> list[bool]:
        """All sent in order before the first acknowledgement is awaited (one round trip
        for the lot instead of one per record); all acknowledged within ``ack_timeout``, or
        ``BusUnavailable`` and nothing of the batch left waiting (the caller publishes the
        batch again; the ``Nats-Msg-Id`` drops what had arrived)."""
        js = self._jetstream()
        futures: list[asyncio.Future[api.PubAck]] = []
        try:
            async with self._bounded(self.ack_timeout, "acknowledgement"):
                for record, headers in messages:
                    futures.append(
                        await js.publish_async(
                            subject_for(record, self.prefix),
                            encode(record),
                            wait_stall=self.ack_timeout,
                            headers={**headers, "Nats-Msg-Id": record.event_id},
                        )
                    )
                acks = [await future for future in futures]
        except nats.js.errors.TooManyStalledMsgsError as e:
            raise BusUnavailable("too many publishes wait for an acknowledgement") from e
        finally:
            for future in futures:
                if not future.done():
                    future.cancel()  # frees its slot of the client's pending publishes
                elif not future.cancelled():
                    future.exception()  # retrieved: one failure is reported, by the raise
        return [not ack.duplicate for ack in acks]

    # -- consuming -------------------------------------------------------------------------
    async def subscribe(self, consumer: str, subject: str, handler: Handler) -> BusSubscription:
        """Never waits for the server: the durable consumer is made now when the bus is
        there, else by the subscription's loop once it is."""
        sub = PullSubscription(self, consumer_name(consumer), subject, handler)
        if self.ready:
            with contextlib.suppress(Exception):
                sub.psub = await self.pull_subscribe(sub)
        sub.task = asyncio.create_task(sub.run(), name=f"nats-{sub.durable}")
        self._subs.append(sub)
        return sub

    async def pull_subscribe(self, sub: PullSubscription) -> JetStreamContext.PullSubscription:
        """Create (or bind to) the durable consumer of ``sub``; bounded."""
        config = api.ConsumerConfig(
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_wait=30.0,
            max_ack_pending=1000,
        )
        js = self._jetstream()
        generation = self._generation
        async with self._bounded(self.request_timeout, "consumer"):
            psub = await js.pull_subscribe(
                sub.subject, durable=sub.durable, stream=self.stream, config=config
            )
        sub.generation = generation
        sub.checked_at = asyncio.get_running_loop().time()
        return psub

    async def check_consumer(self, sub: PullSubscription) -> None:
        """A pull from a consumer the server lost just times out: after a reconnect, and
        every ``CONSUMER_CHECK`` seconds without messages, ask whether it still exists."""
        now = asyncio.get_running_loop().time()
        if sub.generation == self._generation and now - sub.checked_at < CONSUMER_CHECK:
            return
        generation = self._generation
        async with self._bounded(self.request_timeout, "consumer check"):
            await self._jetstream().consumer_info(self.stream, sub.durable)
        sub.generation = generation
        sub.checked_at = now

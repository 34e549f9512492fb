"""Bus port: publish log records on subjects, deliver them at least once to durable consumers."""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from runtime.eventstore.records import LogRecord

Handler = Callable[[LogRecord, dict[str, str]], Awaitable[None]]
"""Receives a record and its message headers (``traceparent``, ``Nats-Msg-Id``)."""

Message = tuple[LogRecord, dict[str, str]]
MAX_BATCH = 200
"""Most messages a bus hands to a batch handler at once."""


@runtime_checkable
class BatchHandler(Protocol):
    """A handler that can also take several messages at once (in delivery order).

    Buses hand it what has queued up behind a message, so a consumer that fell behind
    catches up in fewer, larger transactions. If it raises, every message of the batch is
    delivered again (the handler skips what it had already applied).
    """

    async def __call__(self, record: LogRecord, headers: dict[str, str]) -> None: ...

    async def handle_batch(self, messages: list[Message]) -> None: ...


def subject_for(record: LogRecord, prefix: str = "kim") -> str:
    """``kim.<tenant>.<context>.<EventType>``."""
    return f"{prefix}.{record.tenant}.{record.context}.{record.event_type}"


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard semantics: ``*`` matches one token, ``>`` the rest."""
    p_tokens = pattern.split(".")
    s_tokens = subject.split(".")
    for i, part in enumerate(p_tokens):
        if part == ">":
            return len(s_tokens) > i
        if i >= len(s_tokens) or (part != "*" and part != s_tokens[i]):
            return False
    return len(p_tokens) == len(s_tokens)


def encode(record: LogRecord) -> bytes:
    return record.to_json_bytes()


def decode(payload: bytes) -> LogRecord:
    return LogRecord.from_json(json.loads(payload))


class BusUnavailable(Exception):
    """The bus did not answer in time (or is not connected); try again later."""


class Outage:
    """One warning when a failure starts, one line when it ends, a growing delay between.

    A component retrying against an unavailable dependency logs one line per outage instead
    of a traceback per attempt; ``failed`` returns how long to wait before the next try
    (doubling from ``first`` up to ``most`` seconds).
    """

    def __init__(
        self, what: str, logger: logging.Logger, *, first: float = 0.1, most: float = 5.0
    ) -> None:
        self.what = what
        self.log = logger
        self.first = first
        self.most = most
        self.since: float | None = None
        self.error = ""
        self.failures = 0
        """Failed attempts in all (every outage)."""
        self._delay = first

    @property
    def failing(self) -> bool:
        return self.since is not None

    def failed(self, error: BaseException) -> float:
        self.error = f"{type(error).__name__}: {error}".rstrip(": ")
        self.failures += 1
        if self.since is None:
            self.since = time.monotonic()
            self._delay = self.first
            self.log.warning("%s failed (%s); retrying in the background", self.what, self.error)
        delay = self._delay
        self._delay = min(self._delay * 2, self.most)
        return delay

    def recovered(self) -> None:
        if self.since is not None:
            self.log.warning(
                "%s works again after %.1f s", self.what, time.monotonic() - self.since
            )
        self.since = None
        self.error = ""
        self._delay = self.first


class BusSubscription(ABC):
    @abstractmethod
    async def stop(self) -> None: ...


class Bus(ABC):
    """At-least-once delivery; the event id de-duplicates publishes (``Nats-Msg-Id``)."""

    prefix: str = "kim"
    """First subject token; only tests and parallel installations change it."""

    @abstractmethod
    async def connect(self) -> None:
        """Connect now (bounded in time); raises when the bus is unavailable."""

    async def start(self) -> None:
        """Connect in the background, retrying until it works; returns at once.

        In-process buses connect at once; network buses override this.
        """
        await self.connect()

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def publish(self, record: LogRecord, headers: dict[str, str]) -> bool:
        """Publish one record; False when the bus recognised it as a duplicate."""

    async def publish_many(self, messages: list[Message]) -> list[bool]:
        """Publish records in order; per record False when it was a duplicate.

        Adapters with a network round trip per publish override this to pipeline them.
        """
        return [await self.publish(record, headers) for record, headers in messages]

    @abstractmethod
    async def subscribe(self, consumer: str, subject: str, handler: Handler) -> BusSubscription:
        """Deliver matching records to ``handler`` under a durable consumer name.

        A handler that raises gets the record again later (redelivery).
        """

    @property
    @abstractmethod
    def ready(self) -> bool: ...

    @property
    def problem(self) -> str:
        """Why the bus is not ready ("" when it is, or when the adapter cannot tell)."""
        return ""

"""The hash chain of every (tenant, context) log: tamper evidence for auditors.

Two rules (docs/adr/0003-hash-chain.md states both exactly):

- **v2** (every event appended now): ``hash = sha256(previous || position (8 bytes,
  big-endian) || digest_v2 || 0x1e || recorded_at)``; ``digest_v2`` covers tenant, context,
  event id, aggregate id and version, topic, actor, correlation, causation and traceparent
  (joined by 0x1f), then 0x1e and the state. With ``recorded_at`` (the text as stored, ISO
  8601 in UTC with microseconds) every column of the row is inside the hash.
- **v1** (events from before): ``hash = sha256(previous || position || digest_v1)``;
  ``digest_v1`` leaves traceparent and recorded_at out.

A log's events are v1 up to some position and v2 from there on: once an event verified
under v2, no later one may verify under v1 (no downgrade inside a log). The first event
links to a genesis value of its log. The chain is computed when events are appended: in
Python for SQLite, inside the append statement for PostgreSQL (the head row carries the
last hash, so the chain follows the order in which positions are given, also under
concurrency; PostgreSQL gives ``recorded_at`` there too and hashes its text).

Verification recomputes every digest and link from the stored records; a changed,
deleted, inserted or reordered event breaks the chain at its position. Heads and
checkpoints kept apart from the events make a deleted or appended tail visible too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from runtime.eventstore.records import LogRecord

SEPARATOR = b"\x1f"
RECORD_SEPARATOR = b"\x1e"


def genesis(tenant: str, context: str) -> bytes:
    return hashlib.sha256(f"kim-chain:{tenant}:{context}".encode()).digest()


def content_digest(
    *,
    tenant: str,
    context: str,
    event_id: str,
    originator_id: str,
    originator_version: int,
    topic: str,
    state: bytes,
    actor: str,
    correlation_id: str,
    causation_id: str | None,
) -> bytes:
    head = SEPARATOR.join(
        part.encode()
        for part in (
            tenant, context, str(event_id).lower(), str(originator_id).lower(),
            str(originator_version), topic, actor, correlation_id, causation_id or "",
        )
    )  # fmt: skip
    return hashlib.sha256(head + b"\x1e" + state).digest()


def content_digest_v2(
    *,
    tenant: str,
    context: str,
    event_id: str,
    originator_id: str,
    originator_version: int,
    topic: str,
    state: bytes,
    actor: str,
    correlation_id: str,
    causation_id: str | None,
    traceparent: str | None,
) -> bytes:
    """The v2 digest: every field of the event but position and recorded_at (those two
    go into the link, see ``link_v2``)."""
    # One join and one encode: UTF-8 of the joined text is the join of the encoded parts.
    head = "\x1f".join(
        (
            tenant, context, str(event_id).lower(), str(originator_id).lower(),
            str(originator_version), topic, actor, correlation_id, causation_id or "",
            traceparent or "",
        )
    ).encode()  # fmt: skip
    return hashlib.sha256(head + RECORD_SEPARATOR + state).digest()


def _digest_fields(r: LogRecord) -> dict[str, Any]:
    """The record's fields both rules hash (v2 adds the trace parent)."""
    return {
        "tenant": r.tenant,
        "context": r.context,
        "event_id": r.event_id,
        "originator_id": str(r.originator_id),
        "originator_version": r.originator_version,
        "topic": r.topic,
        "state": r.state,
        "actor": r.actor,
        "correlation_id": r.correlation_id,
        "causation_id": r.causation_id,
    }


def record_digest_v2(r: LogRecord) -> bytes:
    return content_digest_v2(**_digest_fields(r), traceparent=r.traceparent)


def link_v2(previous: bytes, position: int, digest: bytes, recorded_at: str) -> bytes:
    return hashlib.sha256(
        previous
        + position.to_bytes(8, "big", signed=True)
        + digest
        + RECORD_SEPARATOR
        + recorded_at.encode()
    ).digest()


def seal(r: LogRecord, previous: bytes) -> bytes:
    """The hash of a record appended now (v2)."""
    return link_v2(previous, r.position, record_digest_v2(r), r.recorded_at)


def record_digest(r: LogRecord) -> bytes:
    return content_digest(**_digest_fields(r))


def link(previous: bytes, position: int, digest: bytes) -> bytes:
    return hashlib.sha256(previous + position.to_bytes(8, "big", signed=True) + digest).digest()


@dataclass(frozen=True)
class Finding:
    tenant: str
    context: str
    position: int
    reason: str


@dataclass
class LogCheck:
    """Walks one log in position order; ``finding`` is the first break, if any."""

    tenant: str
    context: str
    checked: int = 0
    last_position: int = 0
    last_hash: bytes | None = None
    finding: Finding | None = None
    v2_from: int | None = None  # the first position sealed under v2

    def __post_init__(self) -> None:
        self.last_hash = genesis(self.tenant, self.context)

    def feed(self, records: Iterable[LogRecord]) -> bool:
        """Check the next records; False once a break was found."""
        for r in records:
            if self.finding is not None:
                return False
            expected = self.last_position + 1
            if r.position != expected:
                what = "missing" if r.position > expected else "duplicated"
                self._break(expected, f"position {expected} is {what} (found {r.position})")
                return False
            assert self.last_hash is not None
            if r.hash is None:
                self._break(r.position, "the event carries no hash (not sealed)")
                return False
            if seal(r, self.last_hash) == r.hash:
                if self.v2_from is None:
                    self.v2_from = r.position
            elif self.v2_from is not None or (
                link(self.last_hash, r.position, record_digest(r)) != r.hash
            ):
                self._break(r.position, "content or order does not match the chain")
                return False
            self.last_position, self.last_hash = r.position, r.hash
            self.checked += 1
        return self.finding is None

    def expect_head(self, position: int, hash_: bytes | None) -> None:
        """Compare with a checkpoint kept apart from the events (at or before the end)."""
        if self.finding is not None:
            return
        if position > self.last_position:
            self._break(
                self.last_position + 1,
                f"events up to {position} were recorded, the log ends at {self.last_position}",
            )
        elif hash_ is not None and position == self.last_position and hash_ != self.last_hash:
            self._break(position, "the head's hash does not match the chain")

    def expect_not_behind(self, position: int) -> None:
        """Compare with the head row read after the walk: the log must not go on past it
        (events appended behind the store's back; an ahead head is ``expect_head``'s)."""
        if self.finding is None and position < self.last_position:
            self._break(
                position + 1,
                f"the head row says {position}, the log goes on to {self.last_position}",
            )

    def _break(self, position: int, reason: str) -> None:
        self.finding = Finding(self.tenant, self.context, position, reason)

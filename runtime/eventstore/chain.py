"""The hash chain of every (tenant, context) log: tamper evidence for auditors.

Each event's ``hash`` is ``sha256(previous hash || position (8 bytes, big-endian) || digest)``
where ``digest`` covers the event's content: tenant, context, event id, aggregate id and
version, topic, state (the domain event, with its own timestamp), actor, correlation and
causation. The first event links to a genesis value of its log. The chain is computed when
events are appended: in Python for SQLite, inside the append statement for PostgreSQL (the
head row carries the last hash, so the chain follows the order in which positions are
given, also under concurrency). Transport metadata (traceparent, recorded_at) is left out.

Verification recomputes every digest and link from the stored records; a changed,
deleted, inserted or reordered event breaks the chain at its position. Checkpoints (the
head's position and hash, kept apart from the events) make a deleted tail visible too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from runtime.eventstore.records import LogRecord

SEPARATOR = b"\x1f"


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


def record_digest(r: LogRecord) -> bytes:
    return content_digest(
        tenant=r.tenant,
        context=r.context,
        event_id=r.event_id,
        originator_id=str(r.originator_id),
        originator_version=r.originator_version,
        topic=r.topic,
        state=r.state,
        actor=r.actor,
        correlation_id=r.correlation_id,
        causation_id=r.causation_id,
    )


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
            if link(self.last_hash, r.position, record_digest(r)) != r.hash:
                self._break(r.position, "content or order does not match the chain")
                return False
            self.last_position, self.last_hash = r.position, r.hash
            self.checked += 1
        return self.finding is None

    def expect_head(self, position: int, hash_: bytes | None) -> None:
        """Compare with a head or checkpoint kept apart from the events."""
        if self.finding is not None:
            return
        if position > self.last_position:
            self._break(
                self.last_position + 1,
                f"events up to {position} were recorded, the log ends at {self.last_position}",
            )
        elif hash_ is not None and position == self.last_position and hash_ != self.last_hash:
            self._break(position, "the head's hash does not match the chain")

    def _break(self, position: int, reason: str) -> None:
        self.finding = Finding(self.tenant, self.context, position, reason)

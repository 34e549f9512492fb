"""Records of the per-tenant logs, as stored, exported and published."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import StoredEvent


def event_type_of(topic: str) -> str:
    """``contexts.coordination.domain:Organisation.Registered`` -> ``OrganisationRegistered``."""
    return topic.rsplit(":", 1)[-1].replace(".", "")


class EventMetadata(NamedTuple):
    """What the runtime stamps on every event besides its domain content (a named tuple:
    made for every append, and cheaper to make than a frozen dataclass)."""

    actor: str
    correlation_id: str
    causation_id: str | None = None
    traceparent: str | None = None


@dataclass(frozen=True)
class LogRecord:
    """One event at one position of one tenant's log for one context."""

    tenant: str
    context: str
    position: int
    event_id: str
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes
    actor: str
    correlation_id: str
    causation_id: str | None
    traceparent: str | None
    recorded_at: str
    hash: bytes | None = None  # the hash chain (see ``chain``); None only before sealing

    @property
    def event_type(self) -> str:
        """The event type as used in bus subjects, e.g. ``OrganisationRegistered``."""
        return event_type_of(self.topic)

    def to_stored_event(self) -> StoredEvent:
        """The record as eventsourcing stores it; ``app.mapper.to_domain_event`` decodes it."""
        return StoredEvent(
            originator_id=self.originator_id,
            originator_version=self.originator_version,
            topic=self.topic,
            state=self.state,
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["originator_id"] = str(self.originator_id)
        data["hash"] = self.hash.hex() if self.hash is not None else None
        del data["state"]
        try:
            data["state_text"] = self.state.decode("utf-8")
        except UnicodeDecodeError:
            data["state_b64"] = base64.b64encode(self.state).decode("ascii")
        return data

    def to_json_bytes(self) -> bytes:
        return json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogRecord:
        if "state_text" in data:
            state = str(data["state_text"]).encode("utf-8")
        else:
            state = base64.b64decode(data["state_b64"])
        return cls(
            tenant=data["tenant"],
            context=data["context"],
            position=int(data["position"]),
            event_id=str(data["event_id"]),
            originator_id=UUID(str(data["originator_id"])),
            originator_version=int(data["originator_version"]),
            topic=data["topic"],
            state=state,
            actor=data["actor"],
            correlation_id=data["correlation_id"],
            causation_id=data.get("causation_id"),
            traceparent=data.get("traceparent"),
            recorded_at=data["recorded_at"],
            hash=bytes.fromhex(data["hash"]) if data.get("hash") else None,
        )


class ReplayRecord(NamedTuple):
    """The part of a record a fold needs (a rebuild reads millions: the less, the faster)."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes
    recorded_at: datetime

    def to_stored_event(self) -> StoredEvent:
        return StoredEvent(
            originator_id=self.originator_id,
            originator_version=self.originator_version,
            topic=self.topic,
            state=self.state,
        )


REPLAY_COLUMNS = "position, originator_id, originator_version, topic, state, recorded_at"


COLUMNS = (
    "tenant, context, position, event_id, originator_id, originator_version, topic, state, "
    "actor, correlation_id, causation_id, traceparent, recorded_at, hash"
)
"""The stored columns of a record, in the order of ``row_of`` and ``record_of``."""


def row_of(r: LogRecord) -> tuple[Any, ...]:
    """A record as a row of the events table (ids as they are; a store may convert)."""
    return (
        r.tenant, r.context, r.position, r.event_id, r.originator_id, r.originator_version,
        r.topic, r.state, r.actor, r.correlation_id, r.causation_id, r.traceparent, r.recorded_at,
        r.hash,
    )  # fmt: skip


def record_of(row: Sequence[Any]) -> LogRecord:
    """A row of the events table as a record; accepts the values of either store."""
    recorded_at = row[12]
    if not isinstance(recorded_at, str):
        recorded_at = recorded_at.astimezone(UTC).isoformat(timespec="microseconds")
    oid = row[4]
    return LogRecord(
        tenant=str(row[0]),
        context=str(row[1]),
        position=int(row[2]),
        event_id=str(row[3]),
        originator_id=oid if isinstance(oid, UUID) else UUID(str(oid)),
        originator_version=int(row[5]),
        topic=str(row[6]),
        state=bytes(row[7]),
        actor=str(row[8]),
        correlation_id=str(row[9]),
        causation_id=None if row[10] is None else str(row[10]),
        traceparent=None if row[11] is None else str(row[11]),
        recorded_at=recorded_at,
        hash=None if len(row) < 14 or row[13] is None else bytes(row[13]),
    )


@dataclass(frozen=True)
class CommandOutcome:
    """What a command appended: returned to the client and kept for idempotent retries."""

    tenant: str
    context: str
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def position(self) -> int:
        return max((int(e["position"]) for e in self.events), default=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "context": self.context,
            "position": self.position,
            "events": self.events,
        }


@dataclass(frozen=True)
class IdempotencyRecord:
    """A command's answer kept for retries: the key (a keyed digest of the principal and the
    client's key), the request's keyed digest, the answer, and the aggregates it concerned."""

    tenant: str
    key: str
    request_hash: str
    status: int
    outcome: dict[str, Any]
    subjects: frozenset[str] = frozenset()

"""Records of the per-tenant logs, as stored, exported and published."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID


def event_type_of(topic: str) -> str:
    """``contexts.coordination.domain:Organisation.Registered`` -> ``OrganisationRegistered``."""
    return topic.rsplit(":", 1)[-1].replace(".", "")


@dataclass(frozen=True)
class EventMetadata:
    """What the runtime stamps on every event besides its domain content."""

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

    @property
    def event_type(self) -> str:
        """The event type as used in bus subjects, e.g. ``OrganisationRegistered``."""
        return event_type_of(self.topic)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["originator_id"] = str(self.originator_id)
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
    tenant: str
    key: str
    request_hash: str
    status: int
    outcome: dict[str, Any]

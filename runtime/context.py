"""Request context: who acts, for which tenant, under which correlation id.

Set once at the edge (HTTP middleware, bus consumer, CLI) and read where events are
stored, so actor and correlation are stamped on every event without being passed by hand.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RequestContext:
    actor: str = "system"
    tenant: str | None = None
    correlation_id: str = ""
    causation_id: str | None = None
    traceparent: str | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    response_status: int = 200


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "kim_request_context",
    default=RequestContext(),  # noqa: B039 - frozen, immutable
)


def current() -> RequestContext:
    return _current.get()


def new_correlation_id() -> str:
    return str(uuid.uuid4())


@contextmanager
def bound(**changes: object) -> Iterator[RequestContext]:
    """Bind fields of the request context for the duration of a block."""
    outer = _current.get()
    if not changes.get("correlation_id", outer.correlation_id):
        changes["correlation_id"] = new_correlation_id()  # one replace, not two
    ctx = replace(outer, **changes)  # type: ignore[arg-type]
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)

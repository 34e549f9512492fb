"""The event bus: the log relay publishes committed events; consumers track positions."""

from __future__ import annotations

from runtime.bus.base import (
    Bus,
    BusSubscription,
    BusUnavailable,
    Handler,
    subject_for,
    subject_matches,
)


def open_bus(
    url: str,
    *,
    stream: str = "KIM",
    replicas: int = 1,
    ack_timeout: float = 5.0,
    request_timeout: float = 5.0,
) -> Bus:
    """``memory`` for the in-process bus, ``nats://...`` for NATS JetStream."""
    if url == "memory":
        from runtime.bus.memory import InMemoryBus

        return InMemoryBus()
    from runtime.bus.nats import NatsBus

    return NatsBus(
        url,
        stream=stream,
        replicas=replicas,
        ack_timeout=ack_timeout,
        request_timeout=request_timeout,
    )


__all__ = [
    "Bus",
    "BusSubscription",
    "BusUnavailable",
    "Handler",
    "open_bus",
    "subject_for",
    "subject_matches",
]

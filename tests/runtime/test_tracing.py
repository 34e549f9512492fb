"""One trace from the HTTP request through the command, the append, the publish and the consumer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import OrganisationKind
from runtime import context as request_context
from runtime.bus import Bus
from runtime.bus.consumer import TrackedConsumer
from runtime.bus.relay import LogRelay
from runtime.eventstore.base import EventLogStore
from runtime.telemetry import current_traceparent, tracer


def test_a_command_request_is_one_trace_down_to_the_append(
    client: TestClient, auth: Callable[..., dict[str, str]], spans: InMemorySpanExporter
) -> None:
    response = client.post(
        "/coordination/tenants/rheine/organisations",
        json={"name": "Caritas Rheine", "kind": "welfare_provider"},
        headers=auth("rheine", "coordinator"),
    )
    assert response.status_code == 201
    finished = {s.name: s for s in spans.get_finished_spans()}
    command = finished["command coordination.register_organisation"]
    append = finished["append coordination"]
    server = next(s for s in finished.values() if s.kind.name == "SERVER")
    assert command.context is not None
    assert append.context is not None
    assert server.context is not None
    assert append.parent is not None
    assert append.parent.span_id == command.context.span_id
    assert command.context.trace_id == server.context.trace_id == append.context.trace_id
    assert append.attributes is not None
    assert append.attributes["kim.tenant"] == "rheine"


async def test_the_trace_continues_through_the_bus_into_the_consumer(
    store: EventLogStore, bus: Bus, spans: InMemorySpanExporter
) -> None:
    seen: list[int] = []
    consumer = TrackedConsumer(
        name="traced",
        subject=f"{bus.prefix}.>",
        process=lambda r: seen.append(r.position),
        position=lambda t, c: seen[-1] if seen else 0,
    )
    sub = await bus.subscribe(consumer.name, consumer.subject, consumer)
    app = CoordinationApplication("rheine", store.recorder)
    with (
        tracer().start_as_current_span("request") as root,
        request_context.bound(traceparent=current_traceparent()),
    ):
        app.register_organisation("Diakonie", OrganisationKind.WELFARE_PROVIDER)
    await LogRelay(store, bus).drain()
    for _ in range(750):
        if seen:
            break
        await asyncio.sleep(0.02)
    await sub.stop()
    assert seen == [1]
    trace_id = root.get_span_context().trace_id
    finished = spans.get_finished_spans()
    publish = next(s for s in finished if s.name.startswith("publish "))
    consume = next(s for s in finished if s.name.startswith("consume "))
    assert publish.context is not None
    assert consume.context is not None
    assert publish.context.trace_id == trace_id
    assert consume.context.trace_id == trace_id
    assert consume.parent is not None
    assert consume.parent.span_id == publish.context.span_id

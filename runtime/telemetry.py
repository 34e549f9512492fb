"""OpenTelemetry: one tracer, W3C traceparent in and out of events and bus messages; one
meter provider for the platform's gauges (``kim.relay.lag``, ``kim.consumer.lag``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Span, SpanKind

_configured = False
_metrics_configured = False


def setup_tracing(service_name: str, *, console: bool = False) -> None:
    """Console exporter for development, OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set."""
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif console:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True
    setup_metrics(service_name, console=console)


def setup_metrics(service_name: str, *, console: bool = False) -> None:
    """A meter provider exporting by OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set
    (every ``OTEL_METRIC_EXPORT_INTERVAL`` ms), to the console with ``console``; otherwise
    none is set and the gauges cost nothing (a reader attached later still sees them)."""
    global _metrics_configured
    if _metrics_configured:
        return
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        MetricExporter,
        PeriodicExportingMetricReader,
    )

    exporter: MetricExporter | None = None
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        exporter = OTLPMetricExporter()
    elif console:
        exporter = ConsoleMetricExporter()
    if exporter is None:
        return
    metrics.set_meter_provider(
        MeterProvider(
            resource=Resource.create({"service.name": service_name}),
            metric_readers=[PeriodicExportingMetricReader(exporter)],
        )
    )
    _metrics_configured = True


def add_exporter(exporter: SpanExporter) -> None:
    """Attach another exporter (tests use an in-memory one)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.add_span_processor(SimpleSpanProcessor(exporter))


# A proxy until the process configures its provider, then it forwards to the provider's
# tracer (OpenTelemetry's own rule); asking for a new one on every span costs CPU on every
# command.
_TRACER = trace.get_tracer("kim")


def tracer() -> trace.Tracer:
    return _TRACER


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def span_from(
    name: str, traceparent: str | None, kind: SpanKind = SpanKind.INTERNAL, **attributes: str
) -> Iterator[Span]:
    """A span whose parent is the given W3C traceparent (e.g. from a bus message)."""
    parent = extract({"traceparent": traceparent}) if traceparent else otel_context.Context()
    with tracer().start_as_current_span(
        name, context=parent, kind=kind, attributes=attributes
    ) as span:
        yield span

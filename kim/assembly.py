"""Assembling processes: all contexts in one (embedded) or one context per process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from fastapi import APIRouter, FastAPI

from kim.contexts import CONTEXTS, PROJECTIONS
from runtime.http.app import create_service_app
from runtime.platform import Platform
from runtime.settings import Settings, check_production
from runtime.telemetry import setup_tracing


def _gateway() -> list[APIRouter]:
    """GraphQL and the staff pages (``services/web``): the edges over the read models."""
    from gateway.app import graphql_router
    from services.web.spec import routers as pages

    graphql = graphql_router([spec.graphql() for spec in CONTEXTS if spec.graphql is not None])
    return [graphql, *pages()]


SERVICES: dict[str, Callable[[], list[APIRouter]]] = {
    **{spec.name: spec.routers for spec in CONTEXTS},
    "gateway": _gateway,
}
"""Each deployable service and the routers it serves: the contexts, and the gateway."""

LOG_CONTEXTS = {spec.name for spec in CONTEXTS if spec.has_log}


def build_app(
    settings: Settings,
    services: list[str] | None = None,
    *,
    platform: Platform | None = None,
    relay: bool = True,
) -> FastAPI:
    """One FastAPI app serving ``services`` (all when None) on a shared platform.

    Refuses production settings with development secrets (``InsecureSettings``) before it
    opens anything.
    """
    check_production(settings)
    chosen = list(SERVICES) if services is None else services
    unknown = [s for s in chosen if s not in SERVICES]
    if unknown:
        raise ValueError(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    setup_tracing(settings.service_name, console=settings.trace_console)
    relay_contexts = sorted(LOG_CONTEXTS & set(chosen))
    the_platform = platform or Platform(settings, relay_contexts=relay_contexts)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not the_platform.started:
            await the_platform.start(relay=relay and bool(relay_contexts))
        try:
            yield
        finally:
            await the_platform.stop()
            if platform is None:
                the_platform.close()

    for spec in CONTEXTS:
        if spec.name in chosen:
            for consumer in spec.consumers(the_platform):
                the_platform.add_consumer(consumer)
    if "gateway" in chosen:
        from projections.catalogue import build_projections

        the_platform.projections = build_projections(the_platform, PROJECTIONS.values())
        for projection in the_platform.projections.values():
            the_platform.add_consumer(projection.consumer)
    routers = [r for name in chosen for r in SERVICES[name]()]
    title = "KIM platform" if services is None else f"KIM {' + '.join(chosen)}"
    token_source = None
    if "gateway" in chosen:  # the staff pages: their session's token keys the rate limit
        from services.web.session import token_of_scope

        token_source = partial(token_of_scope, settings=the_platform.settings)
    app = create_service_app(
        the_platform,
        title=title,
        description="Kommunales Integrationsmanagement NRW: event-sourced, multi-tenant API.",
        routers=routers,
        token_source=token_source,
        lifespan=lifespan,
    )
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")
    return app

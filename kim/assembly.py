"""Assembling processes: all contexts in one (embedded) or one context per process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from runtime.http.app import create_service_app
from runtime.platform import Platform
from runtime.settings import Settings
from runtime.telemetry import setup_tracing


def _tenancy() -> list[APIRouter]:
    from services.tenancy.router import router

    return [router]


def _coordination() -> list[APIRouter]:
    from services.coordination.cycle_router import router as cycle
    from services.coordination.funding_router import router as funding
    from services.coordination.positions_router import router as positions
    from services.coordination.router import router

    return [router, funding, positions, cycle]


def _case_management() -> list[APIRouter]:
    from services.case_management.cases_router import router as cases
    from services.case_management.router import router

    return [router, cases]


def _audit() -> list[APIRouter]:
    from services.audit.router import router

    return [router]


def _gateway() -> list[APIRouter]:
    from gateway.app import graphql_router

    return [graphql_router()]


SERVICES: dict[str, Callable[[], list[APIRouter]]] = {
    "tenancy": _tenancy,
    "coordination": _coordination,
    "case_management": _case_management,
    "audit": _audit,
    "gateway": _gateway,
}
"""Each deployable service and the routers it serves. Its log context has the same name."""

LOG_CONTEXTS = {"tenancy", "coordination", "case_management", "audit"}


def build_app(
    settings: Settings,
    services: list[str] | None = None,
    *,
    platform: Platform | None = None,
    relay: bool = True,
) -> FastAPI:
    """One FastAPI app serving ``services`` (all when None) on a shared platform."""
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

    if "coordination" in chosen:
        from contexts.coordination.application import CoordinationApplication
        from services.coordination.consumers import GapIntake

        intake = GapIntake(
            the_platform.store,
            lambda tenant: the_platform.app(CoordinationApplication, tenant),
            prefix=the_platform.bus.prefix,
        )
        the_platform.add_consumer(intake.consumer)
    if "case_management" in chosen:
        from contexts.case_management.application import CaseManagementApplication
        from services.case_management.consumers import PositionIntake, TransferIntake

        def case_app(tenant: str) -> CaseManagementApplication:
            return the_platform.app(CaseManagementApplication, tenant, vault=the_platform.vault)

        prefix = the_platform.bus.prefix
        the_platform.add_consumer(PositionIntake(the_platform.store, case_app, prefix).consumer)
        the_platform.add_consumer(TransferIntake(the_platform.store, case_app, prefix).consumer)
    if "gateway" in chosen:
        from projections.catalogue import build_projections

        the_platform.projections = build_projections(the_platform)
        for projection in the_platform.projections.values():
            the_platform.add_consumer(projection.consumer)
    routers = [r for name in chosen for r in SERVICES[name]()]
    title = "KIM platform" if services is None else f"KIM {' + '.join(chosen)}"
    app = create_service_app(
        the_platform,
        title=title,
        description="Kommunales Integrationsmanagement NRW: event-sourced, multi-tenant API.",
        routers=routers,
        lifespan=lifespan,
    )
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")
    return app

"""The service skeleton every context gets: health, readiness, problems, correlation, limits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from contexts.tenancy.contracts import TenantInfo
from runtime import context as request_context
from runtime.http.auth import Principal, TokenVerifier
from runtime.http.limits import EdgeLimits
from runtime.http.problems import PROBLEM_RESPONSES, install_problem_handlers, problem_response
from runtime.platform import Platform
from runtime.settings import check_production

CORRELATION_HEADER = "X-Correlation-Id"
READY_TIMEOUT = 3.0
"""Seconds /readyz waits for its checks; a check that takes longer is a failure."""


def get_platform(request: Request) -> Platform:
    platform = request.app.state.platform
    assert isinstance(platform, Platform)
    return platform


def get_principal(request: Request) -> Principal:
    verifier = request.app.state.verifier
    assert isinstance(verifier, TokenVerifier)
    return verifier.from_request(request)


def get_tenant(tenant: str, platform: Annotated[Platform, Depends(get_platform)]) -> TenantInfo:
    """The path's tenant, which must be registered (404 problem otherwise)."""
    return platform.tenant(tenant)


PlatformDep = Annotated[Platform, Depends(get_platform)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
TenantDep = Annotated[TenantInfo, Depends(get_tenant)]


async def _correlation(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    incoming = request.headers.get(CORRELATION_HEADER, "")
    correlation_id = incoming if 0 < len(incoming) <= 128 else request_context.new_correlation_id()
    with request_context.bound(correlation_id=correlation_id):
        response = await call_next(request)
    response.headers[CORRELATION_HEADER] = correlation_id
    return response


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: event store and bus reachable, relay and consumers keeping up",
        responses={503: PROBLEM_RESPONSES[503]},
    )
    async def readyz(request: Request) -> JSONResponse:
        """200 when every check is ``ok``; else a 503 problem with ``Retry-After`` whose
        ``checks`` say what each check found and ``failed`` names the failing ones."""
        platform = get_platform(request)
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                checks = await platform.readiness()
        except TimeoutError:
            checks = {"readiness": f"no answer within {READY_TIMEOUT} s"}
        failed = [name for name, value in checks.items() if value != "ok"]
        if not failed:
            return JSONResponse({"status": "ready", "checks": checks})
        return problem_response(
            request,
            503,
            "not-ready",
            f"not ready: {', '.join(failed)}",
            headers={"Retry-After": str(platform.settings.ready_retry_after)},
            checks=checks,
            failed=failed,
        )

    return router


def create_service_app(
    platform: Platform,
    *,
    title: str,
    description: str,
    routers: list[APIRouter],
    **kwargs: Any,
) -> FastAPI:
    """A FastAPI app with the platform's conventions; ``routers`` carry the context's API.

    A production process (``KIM_JWKS_URL`` set) with development secrets does not start
    (``InsecureSettings``, see ``runtime.settings.check_production``).
    """
    check_production(platform.settings)
    app = FastAPI(title=title, description=description, version="0.1.0", **kwargs)
    app.state.platform = platform
    app.state.verifier = TokenVerifier(
        platform.settings, lambda refresh: platform.directory(refresh=refresh)
    )
    install_problem_handlers(app)
    # Size and rate limits (runtime/http/limits.py), inside the correlation id's middleware.
    app.add_middleware(EdgeLimits, settings=platform.settings, verifier=app.state.verifier)
    app.middleware("http")(_correlation)
    app.include_router(health_router())
    for router in routers:
        app.include_router(router, responses=PROBLEM_RESPONSES)
    return app

"""The service skeleton every context gets: health, readiness, problems, correlation, limits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi_offline import FastAPIOffline

from contexts.tenancy.contracts import TenantInfo
from runtime import context as request_context
from runtime.http.auth import Principal, TokenVerifier
from runtime.http.limits import EdgeLimits, TokenSource
from runtime.http.problems import (
    MEDIA_TYPE,
    PROBLEM_RESPONSES,
    PROBLEM_SCHEMA,
    install_problem_handlers,
    problem_response,
)
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


PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}
REFERRED_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {**answer, "content": {MEDIA_TYPE: {"schema": PROBLEM_REF}}}
    for status, answer in PROBLEM_RESPONSES.items()
}
"""``PROBLEM_RESPONSES`` naming the one ``ProblemDetails`` schema of the document: written
out in each of some 1,500 answers it made the document 1.2 MB, which Swagger UI took many
seconds to render."""


def _problem_component(app: FastAPI) -> None:
    """The OpenAPI document with ``ProblemDetails`` among its component schemas."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {})["ProblemDetails"] = (
                PROBLEM_SCHEMA
            )
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


OFFLINE_DOCS = "/static-offline-docs"
"""Where fastapi-offline serves Swagger UI's and ReDoc's scripts and styles."""


def _redoc(app: FastAPI) -> None:
    """ReDoc from the packaged bundle, like fastapi-offline's own page, with one addition:
    the bundle shows its maker's logo from their CDN; the page's policy allows images from
    the platform only, so the browser does not ask for it."""

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{OFFLINE_DOCS}/redoc.standalone.js",
            redoc_favicon_url=f"{OFFLINE_DOCS}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = "img-src 'self' data:"
        return page


def create_service_app(
    platform: Platform,
    *,
    title: str,
    description: str,
    routers: list[APIRouter],
    token_source: TokenSource | None = None,
    **kwargs: Any,
) -> FastAPI:
    """A FastAPI app with the platform's conventions; ``routers`` carry the context's API.

    ``/docs`` and ``/redoc`` load nothing from another host.
    A production process (``KIM_JWKS_URL`` set) with development secrets does not start
    (``InsecureSettings``, see ``runtime.settings.check_production``).
    """
    check_production(platform.settings)
    # /docs (Swagger UI) and /redoc take their scripts and styles from the package
    # fastapi-offline, served under /static-offline-docs: no CDN, a district's network often
    # has no way out.
    app = FastAPIOffline(
        title=title,
        description=description,
        version="0.1.0",
        static_url=OFFLINE_DOCS,
        redoc_url=None,
        # Nearly a hundred operations: tags first, each opened on demand (renders fast).
        swagger_ui_parameters={"docExpansion": "none", "defaultModelsExpandDepth": -1},
        **kwargs,
    )
    _redoc(app)
    app.state.platform = platform
    app.state.verifier = TokenVerifier(
        platform.settings, lambda refresh: platform.directory(refresh=refresh)
    )
    install_problem_handlers(app)
    # Size and rate limits (runtime/http/limits.py), inside the correlation id's middleware.
    app.add_middleware(
        EdgeLimits,
        settings=platform.settings,
        verifier=app.state.verifier,
        token_source=token_source,
    )
    app.middleware("http")(_correlation)
    app.include_router(health_router())
    for router in routers:
        app.include_router(router, responses=REFERRED_PROBLEMS)
    _problem_component(app)
    return app

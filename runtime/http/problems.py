"""RFC 9457 problem details for every error a service returns.

Routers raise domain errors or ``Problem``; the handlers here turn each into an
``application/problem+json`` response. An unexpected exception is a 500 problem with
no internals in it (and a bug to fix).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from eventsourcing.persistence import IntegrityError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from contexts.shared.errors import DomainError
from contexts.shared.indexes import IndexBoundExceeded
from runtime.eventstore.outage import DbTimeouts, StoreUnavailable, unavailable

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ProblemDetails",
    "type": "object",
    "description": "RFC 9457 problem details; ``rule`` names the platform's rule",
    "required": ["type", "title", "status", "detail", "instance", "rule"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:kim:problem:validation-failed"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "rule": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
PROBLEM_STATUSES = {
    400: "Malformed request (e.g. a body that is no JSON)",
    401: "No valid bearer token",
    403: "The token's roles or tenant may not do this",
    404: "No such tenant or record (also where telling them apart would leak)",
    409: "Conflict with the current state (concurrent write, reused idempotency key, a rule)",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid or missing fields, or a domain rule refused the input",
    429: "Too many requests; retry after the Retry-After seconds",
    503: "Not ready, or the database is unavailable; retry after the Retry-After seconds",
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}
    for status, text in PROBLEM_STATUSES.items()
}
"""The problem answers every operation declares in the OpenAPI (``create_service_app``)."""


class Problem(Exception):
    """An error response in RFC 9457 form."""

    def __init__(
        self,
        status: int,
        rule: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.rule = rule
        self.detail = detail
        self.headers = headers
        self.extensions = extensions


def problem_body(
    request: Request, status: int, rule: str, detail: str, **extensions: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:kim:problem:{rule}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "rule": rule,
    }
    body.update({k: v for k, v in extensions.items() if v is not None})
    return body


def problem_response(
    request: Request,
    status: int,
    rule: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(request, status, rule, detail, **extensions),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    for e in exc.errors():
        if e.get("type") == "json_invalid":
            where = e.get("loc", ("body", "?"))[-1]
            reason = f"{e.get('ctx', {}).get('error', 'invalid JSON')} at character {where}"
            return problem_response(
                request,
                400,
                "malformed-json",
                "the request body is not valid JSON",
                errors=[{"field": "body", "reason": reason}],
            )
    errors = [
        {"field": _field_of(e.get("loc", ())), "reason": e.get("msg", "")} for e in exc.errors()
    ]
    fields = ", ".join(e["field"] for e in errors)
    return problem_response(
        request, 422, "validation-failed", f"invalid or missing fields: {fields}", errors=errors
    )


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    facts = dict(exc.facts)
    field = facts.pop("field", None)
    errors = [{"field": field, "reason": exc.detail}] if field else None
    return problem_response(
        request, exc.status, exc.rule, exc.detail, errors=errors, facts=facts or None
    )


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(
        request, exc.status, exc.rule, exc.detail, headers=exc.headers, **exc.extensions
    )


async def _integrity(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(
        request,
        409,
        "concurrent-write",
        "another write changed the same record first; reload and retry",
    )


async def _index_bound(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IndexBoundExceeded)
    return problem_response(request, 409, exc.bound.rule, exc.bound.detail)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at this path (Starlette's own ``Allow``
    names only the first route matching the path), with OPTIONS."""
    methods = [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]
    return [*methods, "OPTIONS"] if methods else []


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    rule = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    detail = str(exc.detail) if exc.detail else TITLES.get(exc.status_code, "Error")
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405 and (allowed := allowed_methods(request)):
        headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        if request.method == "OPTIONS":  # what the resource answers to (RFC 9110, 9.3.7)
            return Response(status_code=204, headers=headers)
    return problem_response(request, exc.status_code, rule, detail, headers=headers)


def retry_after(request: Request) -> str:
    """The ``Retry-After`` of a database outage (``KIM_DB_RETRY_AFTER``)."""
    platform = getattr(request.app.state, "platform", None)
    settings = getattr(platform, "settings", None)
    return str(getattr(settings, "db_retry_after", DbTimeouts.retry_after))


def unavailable_problem(request: Request) -> JSONResponse:
    """503 with ``Retry-After``: the database is down, a connection broke, no pooled
    connection came in time or a statement ran past its timeout. Nothing was acknowledged;
    a retry with the same ``Idempotency-Key`` appends at most once. Logged once per outage
    by the store, not here."""
    seconds = retry_after(request)
    return problem_response(
        request,
        503,
        "store-unavailable",
        f"the database is unavailable right now; retry after {seconds} seconds",
        headers={"Retry-After": seconds},
    )


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    if unavailable(exc):
        return unavailable_problem(request)
    return await _unexpected(request, exc)  # e.g. SQLite's "no such table": a bug


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if unavailable(exc):  # raised from a database fault
        return unavailable_problem(request)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        request, 500, "internal-error", "an unexpected error occurred; it has been logged"
    )


def database_faults() -> list[type[Exception]]:
    faults: list[type[Exception]] = [StoreUnavailable, sqlite3.OperationalError]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - installed with the platform
        return faults
    return [*faults, psycopg.OperationalError]


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(IndexBoundExceeded, _index_bound)
    # Database faults (``runtime.eventstore.outage.unavailable``): handled here, not by the
    # last-resort handler, whose re-raise would make the server close the connection.
    for fault in database_faults():
        app.add_exception_handler(fault, _unavailable)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)

"""Limits at the edge: request head and body size, rate limits, failed sign-ins.

One pure ASGI middleware (``EdgeLimits``) in front of every route, settings in
``runtime.settings`` (``KIM_MAX_*``, ``KIM_*RATE_LIMIT``), answers in RFC 9457 form (a
browser asking for a staff page, ``Accept: text/html``, gets the same status as a short
German page instead):

- a request head (headers, in all) over ``KIM_MAX_HEADER_BYTES`` is refused with 431, a query
  string over the same size with 414, before anything else reads it; ``kim serve`` also caps
  what the HTTP parser buffers (uvicorn's ``h11_max_incomplete_event_size``), so a huge header
  is dropped while it arrives;
- a body over ``KIM_MAX_BODY_BYTES`` (``KIM_MAX_GRAPHQL_BYTES`` on ``/graphql``: query and
  variables) is refused with 413: by its ``Content-Length`` before the app runs, and by
  counting the bytes of a streamed body; on ``/graphql`` the answer is a GraphQL error
  (``application/json``, ``{"errors": [{"message", "extensions": {"code":
  "REQUEST_TOO_LARGE", "limit"}}]}``) as a GraphQL client reads every error, elsewhere a
  problem;
- requests are counted per principal (subject and tenant of a token that verifies: the bearer
  header's, or the one a staff page's session holds, through ``token_source``) or, without
  one, per client address, with the ``limits`` library's moving windows; over the limit the
  answer is 429 with ``Retry-After``. Staff signed in to the pages from one office behind one
  address are counted each on their own;
- every 401 counts against the client address (``KIM_AUTH_FAILURE_LIMIT``, much stricter);
  once that is spent the address gets 429 for requests without a valid token until the window
  has moved on.

Liveness and readiness probes (``/healthz``, ``/readyz``) are never rate-limited, so an
abusive client cannot make an orchestrator restart a healthy process.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import anyio.to_thread
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.http.auth import Principal, TokenVerifier
from runtime.http.problems import Problem, problem_response
from runtime.settings import Settings

UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})
GRAPHQL_PATH = "/graphql"
_PRINCIPAL_CACHE_SIZE = 10_000
_PRINCIPAL_CACHE_SECONDS = 60.0
TokenSource = Callable[[Scope], str | None]
"""A request's token where the request carries no bearer header (a page session's cookie)."""


class _BodyTooLarge(HTTPException):
    """Raised into the app from ``receive`` when a streamed body passes the limit."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Content Too Large")


def retry_after(reset_time: float, now: float | None = None) -> int:
    """Whole seconds until a window resets (at least 1), for ``Retry-After``."""
    return max(1, math.ceil(reset_time - (time.time() if now is None else now)))


class EdgeLimits:
    """The edge's size and rate limits as one ASGI middleware (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        verifier: TokenVerifier,
        token_source: TokenSource | None = None,
    ) -> None:
        self.app = app
        self.token_source = token_source
        self.settings = settings
        self.verifier = verifier
        self.limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))
        self.principal_limits: list[RateLimitItem] = parse_many(settings.rate_limit)
        self.address_limits: list[RateLimitItem] = parse_many(settings.address_rate_limit)
        self.failure_limits: list[RateLimitItem] = parse_many(settings.auth_failure_limit)
        self._principals: dict[bytes, tuple[str, float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.settings
        head = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if head > settings.max_header_bytes:
            await self._refuse(
                scope,
                send,
                431,
                "headers-too-large",
                f"the request headers exceed {settings.max_header_bytes} bytes in all",
                limit=settings.max_header_bytes,
            )
            return
        if len(scope.get("query_string", b"")) > settings.max_header_bytes:
            await self._refuse(
                scope,
                send,
                414,
                "uri-too-long",
                f"the query string exceeds {settings.max_header_bytes} bytes",
                limit=settings.max_header_bytes,
            )
            return
        address = self._address(scope)
        if scope["path"] not in UNLIMITED_PATHS:
            refused = await self._rate_limited(scope, address)
            if refused is not None:
                status, rule, detail, wait = refused
                await self._refuse(
                    scope, send, status, rule, detail, headers={"Retry-After": str(wait)}
                )
                return
        limit = settings.max_graphql_bytes if _is_graphql(scope) else settings.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._too_large(scope, send, limit)
            return
        await self._run(scope, receive, send, limit, address)

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, limit: int, address: str
    ) -> None:
        received = 0
        too_large = False
        response_started = False

        async def counted_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal response_started
            if too_large:
                return  # the app's answer to the cut-off body; ours follows
            if message["type"] == "http.response.start":
                response_started = True
                if message["status"] == 401:
                    self._count_failure(address)
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _BodyTooLarge:
            if response_started:
                raise
        if too_large and not response_started:
            await self._too_large(scope, send, limit)

    async def _rate_limited(self, scope: Scope, address: str) -> tuple[int, str, str, int] | None:
        """(status, rule, detail, Retry-After) when the request is over a limit, else None."""
        principal = await self._principal_key(scope)
        if principal is None:
            for item in self.failure_limits:
                if not self.limiter.test(item, "auth-failures", address):
                    return (
                        429,
                        "too-many-failed-sign-ins",
                        "too many failed sign-ins from this address; try again later",
                        self._wait(item, "auth-failures", address),
                    )
            key, items, who = ("address", address), self.address_limits, "this address"
        else:
            key, items, who = ("principal", principal), self.principal_limits, "this principal"
        for item in items:
            if not self.limiter.hit(item, *key):
                return (
                    429,
                    "rate-limited",
                    f"too many requests from {who} (limit {item}); slow down",
                    self._wait(item, *key),
                )
        return None

    def _count_failure(self, address: str) -> None:
        for item in self.failure_limits:
            self.limiter.hit(item, "auth-failures", address)

    def _wait(self, item: RateLimitItem, *identifiers: str) -> int:
        return retry_after(self.limiter.get_window_stats(item, *identifiers).reset_time)

    async def _principal_key(self, scope: Scope) -> str | None:
        """``tenant/subject`` of the request's token if it verifies, else None."""
        header = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        scheme, _, token = header.partition(b" ")
        if scheme.lower() != b"bearer" or not token.strip():
            found = self.token_source(scope) if self.token_source is not None else None
            if not found:
                return None
            token = found.encode("latin-1", "replace")
        digest = hashlib.blake2b(token.strip(), digest_size=16).digest()
        now = time.monotonic()
        cached = self._principals.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        text = token.strip().decode("latin-1")
        principal: Principal | None
        try:
            if self.settings.jwks_url:  # may fetch the provider's keys: not on the event loop
                principal = await anyio.to_thread.run_sync(self.verifier.verify, text)
            else:
                principal = self.verifier.verify(text)
        except Problem:
            principal = None
        if principal is None:  # failures are not cached: a flood of them fills nothing
            return None
        if len(self._principals) >= _PRINCIPAL_CACHE_SIZE:
            self._principals.clear()
        # Only the rate limit's key: the route verifies the token again (expiry included).
        self._principals[digest] = (principal.actor, now + _PRINCIPAL_CACHE_SECONDS)
        return principal.actor

    @staticmethod
    def _address(scope: Scope) -> str:
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    async def _too_large(self, scope: Scope, send: Send, limit: int) -> None:
        if _is_graphql(scope):
            await _graphql_too_large(scope, send, limit)
            return
        await self._refuse(
            scope,
            send,
            413,
            "body-too-large",
            f"the request body exceeds {limit} bytes",
            limit=limit,
            headers={"Connection": "close"},
        )

    @staticmethod
    async def _refuse(
        scope: Scope,
        send: Send,
        status: int,
        rule: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        request = Request(scope)
        if status in GERMAN_PAGES and "text/html" in request.headers.get("accept", ""):
            # A browser's page request (staff pages): a short page in German, same status.
            await _german_page(scope, send, status, headers or {})
            return
        response = problem_response(
            request,
            status,
            rule,
            detail,
            headers=headers,
            title=HTTPStatus(status).phrase,
            **extensions,
        )

        async def no_body() -> Message:
            return {"type": "http.disconnect"}

        await response(scope, no_body, send)


GERMAN_PAGES = {
    429: ("Zu viele Anfragen", "Bitte warten Sie einen Moment und versuchen Sie es dann erneut."),
    413: ("Zu große Anfrage", "Die gesendeten Daten sind zu groß."),
    414: ("Zu lange Adresse", "Die aufgerufene Adresse ist zu lang."),
    431: ("Zu große Kopfzeilen", "Die Anfrage enthält zu große Kopfzeilen."),
}
"""The refusals of the edge as a browser shows them to staff (the API gets problems)."""


async def _german_page(scope: Scope, send: Send, status: int, headers: dict[str, str]) -> None:
    title, text = GERMAN_PAGES[status]
    wait = headers.get("Retry-After")
    if wait:
        text += f" Frühestens nach {wait} Sekunden ist wieder Platz."
    body = (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} – KIM</title></head><body><main><h1>{title}</h1><p>{text}</p>"
        '<p><a href="/">Zur Startseite</a></p></main></body></html>'
    )
    response = HTMLResponse(body, status_code=status, headers=headers)

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)


def _is_graphql(scope: Scope) -> bool:
    return bool(scope["path"].rstrip("/") == GRAPHQL_PATH)


async def _graphql_too_large(scope: Scope, send: Send, limit: int) -> None:
    """413 as GraphQL answers an error: ``errors`` with a stable code, ``application/json``."""
    error = {
        "message": f"the request body (query and variables) exceeds {limit} bytes",
        "extensions": {"code": "REQUEST_TOO_LARGE", "limit": limit},
    }
    response = JSONResponse({"errors": [error]}, status_code=413, headers={"Connection": "close"})

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None

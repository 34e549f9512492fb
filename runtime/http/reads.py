"""REST lists over the read models: read-your-writes and paging, the same for every context.

A list is a page of read-model rows, never a replay of aggregates. It reflects at least the
log position the client names in ``KIM-Position`` (from a command's response) or, without
one, the log's head when the request arrives, so a client always sees its own writes.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from fastapi import Request

from runtime.http.problems import Problem
from runtime.platform import Platform

WAIT_LIMIT_SECONDS = 5.0
MAX_PAGE = 200
MAX_POSITION = 2**63 - 1
"""No log position is larger (the stores keep positions as signed 64-bit integers)."""


def wanted_position(request: Request, platform: Platform, tenant: str, context: str) -> int:
    header = request.headers.get("kim-position")
    if header is None:
        return platform.store.head(tenant, context)
    if not header.isdigit():
        raise Problem(
            400,
            "invalid-position",
            "KIM-Position must be a log position (a whole number)",
            errors=[{"field": "KIM-Position", "reason": "not a whole number"}],
        )
    return int(header)


def caught_up(
    request: Request, platform: Platform, projection: str, tenant: str, context: str
) -> int:
    """Wait (bounded) until the read model has applied the wanted position; 503 otherwise."""
    wanted = wanted_position(request, platform, tenant, context)
    _wait(platform, projection, tenant, context, wanted)
    return wanted


def caught_up_with_heads(
    platform: Platform, projection: str, context: str, tenants: list[str]
) -> None:
    """Wait (bounded) until the read model has applied each of ``tenants``' logs up to its
    head: for logs read beside the request's tenant, whose positions ``KIM-Position`` (a
    position of the tenant's own log) does not name; 503 otherwise."""
    for tenant in tenants:
        _wait(platform, projection, tenant, context, platform.store.head(tenant, context))


def _wait(platform: Platform, projection: str, tenant: str, context: str, wanted: int) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while (at := platform.read.position(projection, tenant, context)) < wanted:
        if time.monotonic() > deadline:
            raise Problem(
                503,
                "read-model-behind",
                f"the read model of {tenant} is at position {at}, not yet at {wanted}",
                headers={"Retry-After": "1"},
            )
        time.sleep(0.005)


def next_link(request: Request, after: str, count: int, limit: int) -> dict[str, str]:
    """A ``Link: <...>; rel="next"`` header when the page is full (RFC 8288)."""
    if count < limit:
        return {}
    query = dict(request.query_params)
    query["after"] = after
    return {"Link": f'<{request.url.path}?{urlencode(sorted(query.items()))}>; rel="next"'}

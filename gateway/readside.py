"""What the read side of every context shares in GraphQL: loading rows, read-your-writes.

Rows come through a per-request DataLoader keyed by (projection, tenant), so a district's
figures over its member towns, or ``tenants { caseFigures }``, take one query per
projection. ``atPosition`` (from a command's response) waits, bounded, until the read model
has caught up with that position of the tenant's log (read-your-writes); logs read beside
it (a district's, for the positions working in a member town) are waited for up to their
heads (``caught_up_with_heads``). Each context's
types and resolvers are in the module named after it (``gateway/case_management.py``, ...).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.access import NotCaughtUp
from gateway.context import GatewayContext
from runtime.readstore import Row

WAIT_LIMIT_SECONDS = 5.0


async def caught_up(
    info: Info[GatewayContext, Any],
    projection: str,
    tenant: str,
    position: int | None,
    *,
    asked: bool = True,
) -> None:
    """Wait until ``projection`` has applied ``position`` of ``tenant``'s log (bounded).

    Call it only after the access check of the field: the wait and its answer tell about the
    tenant's log. The refusal names no position but the one the client asked for (``asked``
    False: a head the client did not name, of a log read beside the asked one: none)."""
    if position is None:
        return
    live = info.context.platform.projections.get(projection)
    if live is None:
        raise NotCaughtUp(f"no live projection {projection} in this process")
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while live.position(tenant) < position:
        if time.monotonic() > deadline:
            at = f" not yet at {position}" if asked else " not yet at the logs' heads"
            raise NotCaughtUp(f"the read model {projection} of {tenant} is{at}; retry shortly")
        await asyncio.sleep(0.005)


async def caught_up_with_heads(
    info: Info[GatewayContext, Any], projection: str, context: str, tenants: list[str]
) -> None:
    """Wait (bounded) until ``projection`` has applied each of ``tenants``' ``context`` logs up
    to its head when this is called: for logs read beside the asked tenant's (whose
    ``atPosition`` the client cannot name), so a write to them that returned is seen."""
    store = info.context.platform.store
    for tenant in tenants:
        head = await asyncio.to_thread(store.head, tenant, context)
        await caught_up(info, projection, tenant, head, asked=False)


async def rows_of(
    info: Info[GatewayContext, Any], projection: str, tenants: list[str]
) -> list[Row]:
    loaded = await info.context.rows.load_many([(projection, t) for t in tenants])
    return [row for rows in loaded for row in rows]


async def summary_rows_of(info: Info[GatewayContext, Any], tenants: list[str]) -> list[Row]:
    """Summary rows and known positions only: a district's figures read a few rows per town."""
    loaded = await info.context.summaries.load_many(tenants)
    return [row for rows in loaded for row in rows]


@strawberry.type(description="A count per key (state, life dimension, source, ...)")
class Count:
    key: str
    count: int


def counts(pairs: list[tuple[str, int]]) -> list[Count]:
    return [Count(key=k, count=n) for k, n in pairs]

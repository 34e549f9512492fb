"""What every coordination router shares: access, strict bodies, running a command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from contexts.coordination import access
from contexts.coordination.application import CoordinationApplication
from runtime.http.app import PlatformDep, PrincipalDep, TenantDep
from runtime.http.auth import Access, Role, authorize
from runtime.http.commands import CommandRunner, Strict
from runtime.http.reads import caught_up, next_link
from runtime.platform import Platform

__all__ = ["Command", "Reader", "Strict", "Writer", "listed"]

WRITERS = {Role(r) for r in access.WRITERS}
READERS = {Role(r) for r in access.READERS}
READ_ACCESS = Access.AGGREGATE if access.ABOVE_MAY_READ else Access.OWN


def _writer(
    principal: PrincipalDep, tenant: TenantDep, platform: PlatformDep
) -> CoordinationApplication:
    authorize(principal, tenant.key, platform.directory(), roles=WRITERS)
    return platform.app(CoordinationApplication, tenant.key)


def _reader(
    principal: PrincipalDep, tenant: TenantDep, platform: PlatformDep
) -> CoordinationApplication:
    # Coordination data holds no personal data: a district may read its towns' records.
    authorize(principal, tenant.key, platform.directory(), roles=READERS, access=READ_ACCESS)
    return platform.app(CoordinationApplication, tenant.key)


Writer = Annotated[CoordinationApplication, Depends(_writer)]
Reader = Annotated[CoordinationApplication, Depends(_reader)]


def _runner(
    request: Request, app: Writer, platform: PlatformDep, principal: PrincipalDep
) -> CommandRunner[CoordinationApplication]:
    return CommandRunner(request, platform, principal, app)


Command = Annotated[CommandRunner[CoordinationApplication], Depends(_runner)]


def listed(
    request: Request,
    platform: Platform,
    app: CoordinationApplication,
    kind: str,
    limit: int,
    after: UUID | None,
    view: Callable[[UUID], BaseModel],
) -> JSONResponse:
    """A REST list: which aggregates from a page of the read model (read-your-writes), each
    shown from the write model, so the cost is the page's, not the tenant's history."""
    caught_up(request, platform, "coordination", app.tenant, "coordination")
    rows = platform.read.page(
        "coordination", app.tenant, kind, after=str(after) if after else None, limit=limit
    )
    views = [view(UUID(r.key)).model_dump(mode="json") for r in rows]
    return JSONResponse(
        views, headers=next_link(request, rows[-1].key, len(rows), limit) if rows else {}
    )

"""What every coordination router shares: access, strict bodies, running a command."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from eventsourcing.persistence import Recording
from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from contexts.coordination.application import CoordinationApplication
from services.runtime.http.app import PlatformDep, PrincipalDep, TenantDep
from services.runtime.http.auth import Access, Principal, Role, authorize
from services.runtime.http.commands import run_command
from services.runtime.platform import Platform

WRITERS = {Role.COORDINATOR, Role.DISTRICT_COORDINATOR}
READERS = WRITERS | {
    Role.CASE_MANAGER,
    Role.STEERING_MEMBER,
    Role.AUDITOR,
    Role.IMMIGRATION_OFFICER,
}


class Strict(BaseModel):
    """Request bodies refuse unknown fields and trim strings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _writer(
    principal: PrincipalDep, tenant: TenantDep, platform: PlatformDep
) -> CoordinationApplication:
    authorize(principal, tenant.key, platform.directory(), roles=WRITERS)
    return platform.app(CoordinationApplication, tenant.key)


def _reader(
    principal: PrincipalDep, tenant: TenantDep, platform: PlatformDep
) -> CoordinationApplication:
    # Coordination data holds no personal data: a district may read its towns' records.
    authorize(principal, tenant.key, platform.directory(), roles=READERS, access=Access.AGGREGATE)
    return platform.app(CoordinationApplication, tenant.key)


Writer = Annotated[CoordinationApplication, Depends(_writer)]
Reader = Annotated[CoordinationApplication, Depends(_reader)]


@dataclass(frozen=True)
class CommandRunner:
    """A writer's command endpoint: access checked, the tenant's application at hand."""

    request: Request
    platform: Platform
    principal: Principal
    app: CoordinationApplication

    def __call__(
        self,
        name: str,
        body: BaseModel,
        run: Callable[[], list[Recording[UUID]]],
        status: int = 200,
    ) -> JSONResponse:
        return command(
            self.request, self.platform, self.principal, self.app, name, body, run, status
        )


def _runner(
    request: Request, app: Writer, platform: PlatformDep, principal: PrincipalDep
) -> CommandRunner:
    return CommandRunner(request, platform, principal, app)


Command = Annotated[CommandRunner, Depends(_runner)]


def command(
    request: Request,
    platform: Platform,
    principal: Principal,
    app: CoordinationApplication,
    name: str,
    body: BaseModel,
    run: Callable[[], list[Recording[UUID]]],
    status: int = 200,
) -> JSONResponse:
    """Run one command of the tenant's coordination application (idempotency, tracing)."""
    return run_command(
        request, platform.store, principal, app.tenant, app.context, name, run, body, status=status
    )

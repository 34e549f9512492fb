"""What every coordination router shares: access, strict bodies, running a command."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from contexts.coordination.application import CoordinationApplication
from runtime.http.app import PlatformDep, PrincipalDep, TenantDep
from runtime.http.auth import Access, Role, authorize
from runtime.http.commands import CommandRunner, Strict

__all__ = ["Command", "Reader", "Strict", "Writer"]

WRITERS = {Role.COORDINATOR, Role.DISTRICT_COORDINATOR}
READERS = WRITERS | {
    Role.CASE_MANAGER,
    Role.STEERING_MEMBER,
    Role.AUDITOR,
    Role.IMMIGRATION_OFFICER,
}


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


def _runner(
    request: Request, app: Writer, platform: PlatformDep, principal: PrincipalDep
) -> CommandRunner[CoordinationApplication]:
    return CommandRunner(request, platform, principal, app)


Command = Annotated[CommandRunner[CoordinationApplication], Depends(_runner)]

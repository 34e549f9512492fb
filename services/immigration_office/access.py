"""The REST edge's access checks of the immigration office: facts gathered, rules asked.

The rules are pure functions in ``contexts/immigration_office/access.py``. Every endpoint of
the office's people and procedures belongs to the office's own staff (role
``immigration_officer``, a token of the path's tenant): anyone else gets 403 before anything
is looked up, so an id of another tenant's procedure is neither read nor confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from contexts.immigration_office import access
from contexts.immigration_office.application import ImmigrationOfficeApplication
from projections.immigration_office import application
from runtime.http.app import PlatformDep, PrincipalDep, TenantDep
from runtime.http.commands import CommandRunner
from runtime.http.problems import Problem


@dataclass(frozen=True)
class OfficeWork(CommandRunner[ImmigrationOfficeApplication]):
    """A request against one tenant's immigration office."""

    @property
    def caller(self) -> access.Caller:
        return access.Caller(
            self.principal.tenant, frozenset(r.value for r in self.principal.roles)
        )

    def officer(self) -> None:
        """The office's own staff, or 403 (``role-not-allowed`` / ``tenant-not-allowed``)."""
        refusal = access.office_refusal(self.caller, self.app.tenant)
        if refusal is None:
            return
        rule = (
            "role-not-allowed" if access.OFFICER not in self.caller.roles else "tenant-not-allowed"
        )
        raise Problem(403, rule, refusal)


def _work(
    request: Request, principal: PrincipalDep, tenant: TenantDep, platform: PlatformDep
) -> OfficeWork:
    return OfficeWork(request, platform, principal, application(platform, tenant.key))


Work = Annotated[OfficeWork, Depends(_work)]

"""The REST edge's access checks in case management: facts gathered, rules asked, refusals.

The rules themselves are pure functions in ``contexts/case_management/access.py`` (shared
with GraphQL and the application); here each check gathers the facts of the request (the
path's tenant selects the log, the case, its position, the supervising post on the day) and
turns a refusal into a problem response with its rule.

Need to know on one case: within its tenant, a case the caller may not read
(``access.reads_case``) is answered like a case that does not exist, 404 ``not-found``, on
every endpoint of the case, reads and commands alike: lists and GraphQL do not show it
either, and its id is not confirmed. Other tenants get 403 for any id, existing or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from contexts.case_management import access
from contexts.case_management.access import Caller, RowScope
from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import Case
from contexts.shared.errors import NotFound
from runtime.http.app import PlatformDep, PrincipalDep, TenantDep
from runtime.http.auth import Role, authorize
from runtime.http.commands import CommandRunner
from runtime.http.problems import Problem

COORDINATORS = {Role.COORDINATOR, Role.DISTRICT_COORDINATOR}
STAFF = {Role.CASE_MANAGER, *COORDINATORS}


def forbidden(rule: str, detail: str) -> Problem:
    return Problem(403, rule, detail)


@dataclass(frozen=True)
class CaseWork(CommandRunner[CaseManagementApplication]):
    """A request against one tenant's case management: the command runner with the access
    checks that need the facts of the request (the case, its position, the supervising post)."""

    @property
    def roles(self) -> set[str]:
        return {r.value for r in self.principal.roles}

    @property
    def caller(self) -> Caller:
        return Caller(self.principal.tenant, frozenset(self.roles), self.principal.position)

    def case_rows_scope(self) -> RowScope:
        """The read-model case rows of this tenant the caller sees (REST lists)."""
        known = (  # only a coordination post's rows depend on the supervision lines
            self.platform.read.rows("case_management", [self.app.tenant], "KnownPosition")
            if self.caller.coordinates
            else []
        )
        supervised = access.supervised_by(
            self.caller,
            [(r.key, r.doc.get("supervision") or []) for r in known],
            date.today().isoformat(),
        )
        return access.case_rows_scope(
            self.caller, self.app.tenant, audits=False, supervised=supervised
        )

    def own_tenant(self, roles: set[Role]) -> None:
        authorize(self.principal, self.app.tenant, self.platform.directory(), roles=roles)

    def position(self) -> UUID:
        """The caller's position claim; case managers need one to work on people."""
        self.own_tenant({Role.CASE_MANAGER})
        if self.principal.position is None:
            raise forbidden(
                "position-claim-missing",
                "this needs a token with the case manager's position (claim 'position')",
            )
        return self.principal.position

    def case_worker(self, case_id: UUID) -> Case:
        """The case manager of the position the case is assigned to; the tenant's other case
        managers (and all of them while it is unassigned) get 404, as for no such case."""
        self.position()  # a case manager of this tenant with a position claim
        case = self.app.get_case(case_id)
        if not access.works_on(self.caller, self.app.tenant, case.position_id):
            raise NotFound("case", case_id)
        return case

    def case_assigner(self, case_id: UUID, on: date) -> Case:
        """A coordinator of the tenant who reads the case (the post while it is unassigned,
        the supervisor of its position), or the case manager of the assigned position
        handing it to a colleague (``access.assigns_case``); others of the tenant: 404."""
        if self.caller.coordinates:
            self.own_tenant(COORDINATORS)
        else:
            self.position()
        case = self.app.get_case(case_id)
        supervisor = self.app.supervising_post(case, on)
        if not access.assigns_case(self.caller, self.app.tenant, case.position_id, supervisor):
            raise NotFound("case", case_id)
        return case

    def _case_for_outsider(self, case_id: UUID) -> Case:
        """Another tenant's coordinator may be the supervising post; others learn nothing."""
        if not self.principal.roles & COORDINATORS:
            self.own_tenant(STAFF)  # raises the 403
        try:
            return self.app.get_case(case_id)
        except NotFound:
            self.own_tenant(STAFF)  # a 403, not a 404: existence is not revealed
            raise

    def _reads(self, case: Case, on: date) -> bool:
        supervisor = self.app.supervising_post(case, on)
        return access.reads_case(self.caller, self.app.tenant, case.position_id, supervisor)

    def case_reader(self, case_id: UUID, on: date) -> Case:
        """Need to know (``access.reads_case``): the assigned position's case manager, the
        post supervising that position, and the tenant's coordinators while the case is
        unassigned. Others of the tenant get 404 (as for no such case), other tenants 403."""
        if self.principal.tenant == self.app.tenant:
            self.own_tenant(STAFF)
            if not self.caller.coordinates:
                self.position()  # a case manager needs the position claim, as for the list
            case = self.app.get_case(case_id)
            if not self._reads(case, on):
                raise NotFound("case", case_id)
            return case
        case = self._case_for_outsider(case_id)
        if not self._reads(case, on):
            self.own_tenant(STAFF)
        return case

    def personal_data_of_case(self, case_id: UUID, on: date) -> None:
        self.case_reader(case_id, on)
        if not self.app.may_see_personal_data(
            tenant=self.principal.tenant,
            roles=self.roles,
            position=self.principal.position,
            case_id=case_id,
            on=on,
        ):
            raise forbidden(
                "personal-data-not-allowed",
                "only the assigned position's case manager and its supervising post see this",
            )

    def personal_data_of_person(self, person_id: UUID, on: date) -> None:
        if self.principal.tenant == self.app.tenant or self.principal.roles & COORDINATORS:
            try:
                self.app.get_person(person_id)
            except NotFound:
                if self.principal.tenant != self.app.tenant:
                    self.own_tenant(STAFF)  # another tenant learns nothing
                raise
        else:
            self.own_tenant(STAFF)
        if not self.app.may_see_person(
            tenant=self.principal.tenant,
            roles=self.roles,
            position=self.principal.position,
            person_id=person_id,
            on=on,
        ):
            raise forbidden(
                "personal-data-not-allowed",
                "only the assigned position's case manager and its supervising post see"
                " this person",
            )

    def supervising_post(self, case_id: UUID, on: date) -> Case:
        """A coordinator of the post supervising the case's position on ``on`` (with the
        supervising coordination position's claim where the line names one)."""
        if not self.principal.roles & COORDINATORS:
            raise Problem(
                403,
                "role-not-allowed",
                f"this action needs one of the roles: {', '.join(sorted(COORDINATORS))}",
                roles=sorted(COORDINATORS),
            )
        if self.principal.tenant == self.app.tenant:
            case = self.app.get_case(case_id)
            if not self._reads(case, on):
                raise NotFound("case", case_id)  # need to know, as for every case endpoint
        else:
            case = self._case_for_outsider(case_id)
        supervisor = self.app.supervising_post(case, on)
        if not access.supervises(self.caller, supervisor):
            raise forbidden(
                "not-the-supervising-post",
                f"only the post supervising the case's position on {on} decides"
                f" ({supervisor or 'no supervision line'})",
            )
        return case


def _work(
    request: Request, principal: PrincipalDep, tenant: TenantDep, platform: PlatformDep
) -> CaseWork:
    app = platform.app(CaseManagementApplication, tenant.key, vault=platform.vault)
    return CaseWork(request, platform, principal, app)


Work = Annotated[CaseWork, Depends(_work)]

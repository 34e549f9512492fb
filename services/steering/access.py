"""The REST edge's access checks of the steering context: facts gathered, rules asked.

The rules are pure functions in ``contexts/steering/access.py``. A caller with none of the
roles that take part in a steering group (the coordination roles, ``steering_member``) gets
403 before anything is looked up. Commands belong to the group's coordination post (403 for
anyone else, before the aggregate is loaded); reading a group's papers needs the group
(its members decide), so an unknown id is a 404 and a group one does not sit in a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from contexts.steering import access
from contexts.steering.application import SteeringApplication
from contexts.steering.group import Member, SteeringGroup, member_of
from projections.steering import NAME, application
from runtime.http.app import PlatformDep, PrincipalDep, TenantDep
from runtime.http.auth import Principal, Role
from runtime.http.commands import CommandRunner
from runtime.http.problems import Problem
from runtime.http.reads import caught_up, next_link
from runtime.platform import Platform
from runtime.readstore import Row

TAKING_PART = access.FIGURE_ROLES
CONTEXT = "steering"


def caller_of(p: Principal) -> access.Caller:
    """The facts of a token the steering rules ask about."""
    return access.Caller(p.tenant, frozenset(r.value for r in p.roles), p.subject, p.position)


def sits_in_a_group(principal: Principal, tenant: str, platform: Platform) -> bool:
    """A steering member of another tenant who sits in one of ``tenant``'s steering groups
    today (Rheine's post in Kreis Steinfurt's group): the group's members, from its read
    model rows (one read of the tenant's groups)."""
    if Role.STEERING_MEMBER not in principal.roles or principal.tenant == tenant:
        return False
    caller, today = caller_of(principal), date.today()
    return any(
        access.members_represented(caller, [member_of(m) for m in r.doc["members"].values()], today)
        for r in platform.read.rows(NAME, [tenant], "SteeringGroup")
    )


@dataclass(frozen=True)
class SteeringWork(CommandRunner[SteeringApplication]):
    """A request against one tenant's steering groups."""

    @property
    def caller(self) -> access.Caller:
        return caller_of(self.principal)

    def post(self) -> None:
        """The group tenant's coordination post, or 403."""
        refusal = access.post_refusal(self.caller, self.app.tenant)
        if refusal is not None:
            rule = (
                "role-not-allowed" if not self.caller.roles & access.POST else "tenant-not-allowed"
            )
            raise Problem(403, rule, refusal)

    def taking_part(self) -> None:
        if not self.caller.roles & TAKING_PART:
            raise Problem(
                403, "role-not-allowed",
                "steering papers are for the coordination post and the group's members",
                roles=sorted(TAKING_PART),
            )  # fmt: skip

    def members(self, group: SteeringGroup) -> list[Member]:
        return [group.member(m) for m in group.members]

    def reader(self, group_id: UUID) -> SteeringGroup:
        """The group, for its post or a member (of any tenant); 403 otherwise."""
        self.taking_part()
        group = self.app.group(group_id)
        refusal = access.group_refusal(
            self.caller, self.app.tenant, self.members(group), date.today()
        )
        if refusal is not None:
            raise Problem(403, "not-a-member", refusal)
        return group

    def sees(self, group_id: UUID, cache: dict[UUID, bool]) -> bool:
        """Whether the caller reads the papers of ``group_id`` (for the rows of a list)."""
        if group_id not in cache:
            group = self.app.group(group_id)
            cache[group_id] = access.reads_group(
                self.caller, self.app.tenant, self.members(group), date.today()
            )
        return cache[group_id]

    def papers(
        self,
        kind: str,
        *,
        limit: int,
        after: UUID | None,
        group_of: Callable[[Row], UUID],
        view: Callable[[dict[str, Any]], dict[str, Any]] = dict,
    ) -> JSONResponse:
        """A page of the tenant's ``kind`` rows (read model) whose group the caller reads,
        with the ``Link`` to the next page."""
        self.taking_part()
        tenant = self.app.tenant
        caught_up(self.request, self.platform, CONTEXT, tenant, CONTEXT)
        rows = self.platform.read.page(
            CONTEXT, tenant, kind, after=str(after) if after else None, limit=limit
        )
        seen: dict[UUID, bool] = {}
        views = [view(r.doc) for r in rows if self.sees(group_of(r), seen)]
        headers = next_link(self.request, rows[-1].key, len(rows), limit) if rows else {}
        return JSONResponse(views, headers=headers)

    def voter(self, group_id: UUID, member_id: str) -> None:
        """A vote: cast by the member itself or recorded by the post (403 otherwise)."""
        self.taking_part()
        group = self.app.group(group_id)
        if access.runs_group(self.caller, self.app.tenant):
            return
        member = group.members.get(member_id)
        if member is None:
            raise Problem(403, "not-a-member", "only members of the group vote")
        refusal = access.vote_refusal(
            self.caller, self.app.tenant, group.member(member_id), date.today()
        )
        if refusal is not None:
            raise Problem(403, "not-a-member", refusal)


def _work(
    request: Request, principal: PrincipalDep, tenant: TenantDep, platform: PlatformDep
) -> SteeringWork:
    return SteeringWork(request, platform, principal, application(platform, tenant.key))


Work = Annotated[SteeringWork, Depends(_work)]

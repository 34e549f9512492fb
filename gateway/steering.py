"""The steering context in GraphQL: a tenant's groups with their members (for the groups'
posts and members, of any tenant) and the steering figures (meetings held, resolutions by
status, tasks, working groups) of a tenant or, with ``includeMembers``, the tenants below.

Access is checked before any wait for a log position (``atPosition``). No personal data:
members are institutions and roles; who represents a member is not in any field.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from contexts.steering import access
from contexts.steering.group import member_of
from gateway.access import Forbidden, audits
from gateway.context import GatewayContext
from gateway.readside import caught_up
from projections import steering as figures
from projections.projection import SUMMARY_KIND

NAME = figures.NAME


def _caller(info: Info[GatewayContext, Any]) -> access.Caller:
    p = info.context.principal
    return access.Caller(p.tenant, frozenset(r.value for r in p.roles), p.subject, p.position)


@strawberry.type(name="SteeringStatusCount")
class StatusCount:
    status: str
    count: int


@strawberry.type(description="Steering figures of one tenant or many; no personal data")
class SteeringFigures:
    tenants: list[str]
    groups: int
    meetings: int
    meetings_held: int
    minutes_approved: int
    resolutions: list[StatusCount]
    tasks_open: int
    tasks_done: int
    working_groups: int
    timelines: int
    submissions: int


@strawberry.type(name="SteeringMember")
class Member:
    member_id: str
    institution: str
    member_tenant: str
    role: str
    voting: bool
    permanent: bool
    valid_from: str
    valid_until: str | None


@strawberry.type(name="SteeringGroup")
class Group:
    id: str
    tenant: str
    name: str
    founded_on: str
    quorum: str
    majority: str
    invitation_days: int
    members: list[Member]


async def _sits_in_a_group(
    info: Info[GatewayContext, Any], caller: access.Caller, tenant: str
) -> bool:
    """A member of one of the tenant's groups (of any tenant) reads its figures too."""
    if not caller.roles & access.FIGURE_ROLES:
        return False
    read = info.context.platform.read
    rows = await asyncio.to_thread(read.rows, NAME, [tenant], "SteeringGroup")
    today = date.today()
    return any(
        access.members_represented(caller, [member_of(m) for m in r.doc["members"].values()], today)
        for r in rows
    )


async def steering_figures(
    info: Info[GatewayContext, Any],
    tenant: str,
    include_members: bool = False,
    at_position: int | None = None,
) -> SteeringFigures:
    principal, directory = info.context.principal, info.context.directory
    caller = _caller(info)
    wanted = [tenant]
    if include_members and directory.get(tenant) is not None:
        wanted += directory.descendants(tenant)
    for t in wanted:
        if directory.get(t) is None or not (
            access.reads_figures(caller, directory, t, audits=audits(principal, directory, t))
            or await _sits_in_a_group(info, caller, t)
        ):
            raise Forbidden(
                f"a token of {principal.tenant} may not read the steering figures of {t}"
            )
    await caught_up(info, NAME, tenant, at_position)
    rows = await asyncio.to_thread(info.context.platform.read.rows, NAME, wanted, SUMMARY_KIND)
    f = figures.steering_figures([r.doc for r in rows])
    return SteeringFigures(
        tenants=wanted,
        groups=f.groups,
        meetings=f.meetings,
        meetings_held=f.meetings_held,
        minutes_approved=f.minutes_approved,
        resolutions=[StatusCount(status=s, count=n) for s, n in f.resolutions],
        tasks_open=f.tasks_open,
        tasks_done=f.tasks_done,
        working_groups=f.working_groups,
        timelines=f.timelines,
        submissions=f.submissions,
    )


async def steering_groups(
    info: Info[GatewayContext, Any], tenant: str, at_position: int | None = None
) -> list[Group]:
    """The tenant's groups the caller reads: all of them for its post, the ones it sits in
    for a member (of any tenant)."""
    caller = _caller(info)
    if not caller.roles & access.FIGURE_ROLES:
        raise Forbidden("steering groups are for the coordination posts and the groups' members")
    read, today = info.context.platform.read, date.today()
    if caller.tenant != tenant and not any(  # another tenant's (or no tenant's) log: its
        access.reads_group(caller, tenant, [member_of(m) for m in r.doc["members"].values()], today)
        for r in await asyncio.to_thread(read.rows, NAME, [tenant], "SteeringGroup")
    ):  # position and existence are not the caller's to learn unless it sits in a group
        return []
    await caught_up(info, NAME, tenant, at_position)
    rows = await asyncio.to_thread(read.rows, NAME, [tenant], "SteeringGroup")
    found = []
    for row in rows:
        members = [member_of(m) for m in row.doc["members"].values()]
        if not access.reads_group(caller, tenant, members, today):
            continue
        rules = row.doc["rules"]
        found.append(
            Group(
                id=row.key, tenant=tenant, name=row.doc["name"], founded_on=row.doc["founded_on"],
                quorum=rules["quorum"], majority=rules["majority"],
                invitation_days=int(rules["invitation_days"]),
                members=[
                    Member(
                        member_id=m.member_id, institution=m.institution,
                        member_tenant=m.member_tenant, role=m.role, voting=m.voting,
                        permanent=m.permanent, valid_from=m.valid_from, valid_until=m.valid_until,
                    )
                    for m in members
                ],
            )
        )  # fmt: skip
    return found


@strawberry.type
class SteeringQuery:
    steering_figures: SteeringFigures = strawberry.field(
        resolver=steering_figures,
        description="Steering figures of a tenant, or with includeMembers over the tenants"
        " below it",
    )
    steering_groups: list[Group] = strawberry.field(
        resolver=steering_groups,
        description="A tenant's steering groups with their members, as far as the caller"
        " reads them (the post; members of any tenant)",
    )

"""The immigration office in GraphQL: its figures for the office's tenant, a district over
its member towns and the state programme. No personal data: counts from summary rows.

Access is checked before any wait for a log position (``atPosition``): a caller who may not
read the figures learns nothing about the log, not even whether the tenant exists.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from contexts.immigration_office.access import Caller, figure_refusal
from gateway.access import Forbidden, audits
from gateway.context import GatewayContext
from gateway.readside import caught_up
from projections import immigration_office as figures
from projections.projection import SUMMARY_KIND

NAME = figures.NAME


@strawberry.type(name="OfficeProcedureCount")
class ProcedureCount:
    kind: str
    count: int


@strawberry.type(name="OfficeStateCount")
class StateCount:
    kind: str
    legal_basis: str
    state: str
    count: int


@strawberry.type(
    name="OfficeMonthCount",
    description="Procedures opened, applied for, decided (by outcome), handed over to another"
    " office or taken over from one in a month",
)
class MonthCount:
    kind: str
    what: str
    month: str
    count: int


@strawberry.type(
    name="OfficeProcessingTime", description="Days from application to decision, per kind"
)
class ProcessingTime:
    kind: str
    decided: int
    median_days: int
    p90_days: int


@strawberry.type(name="OfficeBacklogCount", description="Open applications by their age in months")
class BacklogCount:
    kind: str
    age_months: str
    count: int


@strawberry.type(
    name="OfficePositionCount",
    description="Procedures per Baustein 3 position (the officer's position claim)",
)
class PositionCount:
    position_id: str
    kind: str
    count: int


@strawberry.type(
    name="OfficePositionStateCount",
    description="Procedures per Baustein 3 position by kind and state",
)
class PositionStateCount:
    position_id: str
    kind: str
    state: str
    count: int


@strawberry.type(
    name="OfficePositionDecisionCount",
    description="Decisions per Baustein 3 position by kind, outcome and month",
)
class PositionDecisionCount:
    position_id: str
    kind: str
    outcome: str
    month: str
    count: int


@strawberry.type(
    name="OfficeReferralCount", description="Referrals to case management by their answer"
)
class ReferralCount:
    kind: str
    status: str
    count: int


@strawberry.type(description="The immigration office's figures; no personal data")
class OfficeFigures:
    tenants: list[str]
    procedures: list[ProcedureCount]
    by_state: list[StateCount]
    per_month: list[MonthCount]
    processing_times: list[ProcessingTime]
    backlog: list[BacklogCount]
    per_position: list[PositionCount]
    per_position_state: list[PositionStateCount]
    per_position_decided: list[PositionDecisionCount]
    referrals: list[ReferralCount]


def _tenants(info: Info[GatewayContext, Any], tenant: str, include_members: bool) -> list[str]:
    principal, directory = info.context.principal, info.context.directory
    caller = Caller(principal.tenant, frozenset(r.value for r in principal.roles))
    wanted = [tenant]
    if include_members and directory.get(tenant) is not None:
        wanted += directory.descendants(tenant)
    audited = {t for t in wanted if audits(principal, directory, t)}
    refusal = figure_refusal(caller, directory, wanted, audits=audited)
    if refusal is not None:
        raise Forbidden(refusal)
    return wanted


async def office_figures(
    info: Info[GatewayContext, Any],
    tenant: str,
    include_members: bool = False,
    at_position: int | None = None,
) -> OfficeFigures:
    tenants = _tenants(info, tenant, include_members)  # access before any wait
    await caught_up(info, NAME, tenant, at_position)
    rows = await asyncio.to_thread(info.context.platform.read.rows, NAME, tenants, SUMMARY_KIND)
    f = figures.office_figures([r.doc for r in rows], date.today())
    return OfficeFigures(
        tenants=tenants,
        procedures=[ProcedureCount(kind=k, count=n) for k, n in f.procedures],
        by_state=[StateCount(kind=k, legal_basis=b, state=s, count=n) for k, b, s, n in f.by_state],
        per_month=[
            MonthCount(kind=m.kind, what=m.what, month=m.month, count=m.count) for m in f.per_month
        ],
        processing_times=[
            ProcessingTime(
                kind=p.kind, decided=p.decided, median_days=p.median_days, p90_days=p.p90_days
            )
            for p in f.processing
        ],
        backlog=[BacklogCount(kind=k, age_months=b, count=n) for k, b, n in f.backlog],
        per_position=[PositionCount(position_id=p, kind=k, count=n) for p, k, n in f.per_position],
        per_position_state=[
            PositionStateCount(position_id=p, kind=k, state=st, count=n)
            for p, k, st, n in f.per_position_state
        ],
        per_position_decided=[
            PositionDecisionCount(position_id=p, kind=k, outcome=o, month=m, count=n)
            for p, k, o, m, n in f.per_position_decided
        ],
        referrals=[ReferralCount(kind=k, status=st, count=n) for k, st, n in f.referrals],
    )


@strawberry.type
class ImmigrationOfficeQuery:
    office_figures: OfficeFigures = strawberry.field(
        resolver=office_figures,
        description="Immigration office figures of a tenant, or with includeMembers over the"
        " towns below it (a district, the state programme)",
    )

"""Coordination in GraphQL: funding per notice, positions, gaps, regional areas, and the
positions working in a tenant whichever log holds them (the town's view)."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.access import BadInput, figure_tenants, town_view_tenants
from gateway.context import GatewayContext
from gateway.readside import (
    Count,
    caught_up,
    caught_up_with_heads,
    counts,
    rows_of,
    summary_rows_of,
)
from projections import coordination as figures
from projections.projection import SUMMARY_KIND


@strawberry.type(description="Granted vs forwarded vs filled, per funding notice in a month")
class NoticeFigures:
    tenant: str
    notice_id: strawberry.ID
    reference: str
    baustein: int
    granted_fte: str
    granted_money_per_year: str
    forwarded_fte: str
    forwarded_money_per_year: str
    filled_fte: str
    staff_cost: str


@strawberry.type
class SupervisionLine:
    post_tenant: str
    valid_from: str
    valid_to: str | None
    supervisor_position_id: strawberry.ID | None = strawberry.field(
        description="the supervising coordination position; null: every coordinator of the post"
    )


@strawberry.type
class PositionRow:
    id: strawberry.ID
    tenant: str
    title: str
    position_type: str
    fte: str
    work_tenant: str
    filled_fte: str
    supervision: list[SupervisionLine]


@strawberry.type(description="A staffing period (Besetzung), by pseudonymous staff id")
class StaffingPeriod:
    staff_id: str
    fte: str
    start: str
    end: str | None


@strawberry.type(description="Actual staff cost recorded for a month (EUR)")
class MonthCost:
    month: str
    amount: str


@strawberry.type(description="Actual staff cost reported for a whole year (EUR)")
class YearCost:
    year: int
    amount: str


@strawberry.type(description="The forwarding contract (Weiterleitungsvertrag) funding a position")
class FundingContract:
    id: strawberry.ID
    recipient_kind: str
    recipient: str = strawberry.field(description="tenant key, or the provider's name")
    position_type: str
    amount_rule: str
    amount_per_year: str
    fte: str
    start: str
    end: str
    cooperation_agreement: str
    terminated: bool
    notice_reference: str | None = strawberry.field(description="the notice it forwards from")


@strawberry.type(description="The funding notice (Förderbescheid) funding a position directly")
class FundingNoticeRef:
    id: strawberry.ID
    reference: str
    baustein: int
    grantor: str


@strawberry.type(description="A position working in a tenant, from whichever log holds it")
class WorkingPosition:
    id: strawberry.ID
    holder: str = strawberry.field(description="the tenant whose log holds the position")
    title: str
    position_type: str
    baustein: int
    fte: str
    employer_kind: str
    employer: str = strawberry.field(description="the provider's name, or the tenant key")
    work_tenant: str
    regional_area: str | None
    staffing: list[StaffingPeriod]
    filled_fte: str = strawberry.field(description="staffed FTE today")
    costs: list[MonthCost]
    year_costs: list[YearCost]
    supervision: list[SupervisionLine]
    contract: FundingContract | None
    notice: FundingNoticeRef | None


@strawberry.type
class Topic:
    id: strawberry.ID
    title: str
    life_dimension: str
    step: str
    gaps: int
    service_chain_links: int


@strawberry.type(description="System gaps and topics through the strategic cycle")
class GapFigures:
    by_life_dimension: list[Count]
    by_source: list[Count]
    topics_by_step: list[Count]
    topics: list[Topic]


@strawberry.type(description="A regional area (Regionalbereich) of a district")
class RegionalAreaFigures:
    area_id: strawberry.ID
    name: str
    towns: list[str]
    case_management_fte: str = strawberry.field(description="the area's share")
    positions: int
    position_fte: str
    filled_fte: str
    open_cases: int
    cases_per_fte: str


async def funding(
    info: Info[GatewayContext, Any],
    tenant: str,
    month: str,
    include_members: bool = False,
    at_position: int | None = None,
) -> list[NoticeFigures]:
    ctx = info.context
    tenants = figure_tenants(ctx.principal, ctx.directory, tenant, include_members)
    try:
        date.fromisoformat(f"{month}-01")
    except ValueError:
        raise BadInput(f"month must look like 2021-09, not {month!r}") from None
    await caught_up(info, "coordination", tenant, at_position)
    rows = await rows_of(info, "coordination", tenants)
    return [
        NoticeFigures(
            tenant=f.tenant,
            notice_id=strawberry.ID(f.notice_id),
            reference=f.reference,
            baustein=f.baustein,
            granted_fte=str(f.granted_fte),
            granted_money_per_year=str(f.granted_money_per_year),
            forwarded_fte=str(f.forwarded_fte),
            forwarded_money_per_year=str(f.forwarded_money_per_year),
            filled_fte=str(f.filled_fte),
            staff_cost=str(f.staff_cost),
        )
        for f in figures.funding_figures(rows, month)
    ]


def _id_or_none(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


async def positions(
    info: Info[GatewayContext, Any],
    tenant: str,
    include_members: bool = False,
    at_position: int | None = None,
) -> list[PositionRow]:
    ctx = info.context
    tenants = figure_tenants(ctx.principal, ctx.directory, tenant, include_members)
    await caught_up(info, "coordination", tenant, at_position)
    today = date.today()
    return [
        PositionRow(
            id=strawberry.ID(r.key),
            tenant=r.tenant,
            title=str(r.doc["title"]),
            position_type=str(r.doc["position_type"]),
            fte=str(r.doc["fte"]),
            work_tenant=str(r.doc["work_tenant"]),
            filled_fte=str(figures.staffed_on(r.doc, today)),
            supervision=[
                SupervisionLine(
                    post_tenant=str(s["post_tenant"]),
                    valid_from=str(s["valid_from"]),
                    valid_to=s.get("valid_to"),
                    supervisor_position_id=_id_or_none(s.get("supervisor_position_id")),
                )
                for s in r.doc.get("supervision") or []
            ],
        )
        for r in await rows_of(info, "coordination", tenants)
        if r.kind == "Position"
    ]


async def positions_working_in(
    info: Info[GatewayContext, Any], tenant: str, at_position: int | None = None
) -> list[WorkingPosition]:
    """The positions working in ``tenant``, from its own log and those of the tenants above
    it, with staffing, costs and the contract or notice funding them (no personal data).

    ``atPosition`` is a position of ``tenant``'s own log; with it, the logs above are also
    waited for up to their heads when the query arrives (a write to the district's log that
    returned before is seen, though its position belongs to another log)."""
    ctx = info.context
    tenants = town_view_tenants(ctx.principal, ctx.directory, tenant)
    await caught_up(info, "coordination", tenant, at_position)
    if at_position is not None:
        await caught_up_with_heads(info, "coordination", "coordination", tenants[1:])
    rows = await rows_of(info, "coordination", tenants)
    return [_working(w) for w in figures.positions_working_in(rows, tenant, date.today())]


def _working(w: figures.WorkingPosition) -> WorkingPosition:
    c, n = w.contract, w.notice
    return WorkingPosition(
        id=strawberry.ID(w.position_id),
        holder=w.holder,
        title=w.title,
        position_type=w.position_type,
        baustein=w.baustein,
        fte=str(w.fte),
        employer_kind=w.employer_kind,
        employer=w.employer,
        work_tenant=w.work_tenant,
        regional_area=w.regional_area,
        staffing=[
            StaffingPeriod(
                staff_id=s.staff_id,
                fte=str(s.fte),
                start=s.start.isoformat(),
                end=s.end.isoformat() if s.end else None,
            )
            for s in w.staffing
        ],
        filled_fte=str(w.filled_fte),
        costs=[MonthCost(month=m, amount=str(a)) for m, a in w.costs],
        year_costs=[YearCost(year=y, amount=str(a)) for y, a in w.year_costs],
        supervision=[
            SupervisionLine(
                post_tenant=s.post_tenant,
                valid_from=s.valid_from.isoformat(),
                valid_to=s.valid_to.isoformat() if s.valid_to else None,
                supervisor_position_id=_id_or_none(s.supervisor_position_id),
            )
            for s in w.supervision
        ],
        contract=None
        if c is None
        else FundingContract(
            id=strawberry.ID(c.contract_id),
            recipient_kind=c.recipient_kind,
            recipient=c.recipient,
            position_type=c.position_type,
            amount_rule=c.amount_rule,
            amount_per_year=str(c.amount_per_year),
            fte=str(c.fte),
            start=c.start.isoformat(),
            end=c.end.isoformat(),
            cooperation_agreement=c.cooperation_agreement,
            terminated=c.terminated,
            notice_reference=c.notice_reference,
        ),
        notice=None
        if n is None
        else FundingNoticeRef(
            id=strawberry.ID(n.notice_id),
            reference=n.reference,
            baustein=n.baustein,
            grantor=n.grantor,
        ),
    )


async def gaps(
    info: Info[GatewayContext, Any],
    tenant: str,
    include_members: bool = False,
    at_position: int | None = None,
) -> GapFigures:
    ctx = info.context
    tenants = figure_tenants(ctx.principal, ctx.directory, tenant, include_members)
    await caught_up(info, "coordination", tenant, at_position)
    f = figures.gap_figures(await rows_of(info, "coordination", tenants))
    return GapFigures(
        by_life_dimension=counts(f.by_life_dimension),
        by_source=counts(f.by_source),
        topics_by_step=counts(f.topics_by_step),
        topics=[
            Topic(
                id=strawberry.ID(str(t["id"])),
                title=str(t["title"]),
                life_dimension=str(t["life_dimension"]),
                step=str(t["step"]),
                gaps=len(t.get("gaps") or []),
                service_chain_links=len(t.get("chain") or []),
            )
            for t in f.topics
        ],
    )


async def regional_areas(
    info: Info[GatewayContext, Any], tenant: str, at_position: int | None = None
) -> list[RegionalAreaFigures]:
    """A district's regional areas with the case-management positions in them and their open
    cases, counted in the towns where the positions work (figures only)."""
    ctx = info.context
    figure_tenants(ctx.principal, ctx.directory, tenant, include_members=False)
    await caught_up(info, "coordination", tenant, at_position)
    coordination = await rows_of(info, "coordination", [tenant])
    towns = sorted(
        {
            str(r.doc["work_tenant"])
            for r in coordination
            if r.kind == "Position" and r.doc.get("regional_area_id")
        }
        & {tenant, *ctx.directory.descendants(tenant)}
    )
    # The areas' open cases are the towns' figures: an auditor needs each town in the
    # mandate (staff of the district read them through the hierarchy).
    for town in towns:
        figure_tenants(ctx.principal, ctx.directory, town, include_members=False)
    summaries = [r.doc for r in await summary_rows_of(info, towns) if r.kind == SUMMARY_KIND]
    return [
        RegionalAreaFigures(
            area_id=strawberry.ID(a.area_id),
            name=a.name,
            towns=a.towns,
            case_management_fte=str(a.case_management_fte),
            positions=a.positions,
            position_fte=str(a.position_fte),
            filled_fte=str(a.filled_fte),
            open_cases=a.open_cases,
            cases_per_fte=str(a.cases_per_fte),
        )
        for a in figures.regional_area_figures(coordination, summaries, date.today())
    ]


@strawberry.type
class CoordinationQuery:
    funding: list[NoticeFigures] = strawberry.field(
        resolver=funding, description="Per funding notice: granted, forwarded, filled in a month"
    )
    positions: list[PositionRow] = strawberry.field(resolver=positions)
    positions_working_in: list[WorkingPosition] = strawberry.field(
        resolver=positions_working_in,
        description="The positions working in a tenant, also those a log above it holds, with"
        " staffing, costs and their contract or notice (the town's view)",
    )
    gaps: GapFigures = strawberry.field(resolver=gaps)
    regional_areas: list[RegionalAreaFigures] = strawberry.field(resolver=regional_areas)

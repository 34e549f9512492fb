"""Coordination in GraphQL: funding per notice, positions, gaps, regional areas."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.access import BadInput, figure_tenants
from gateway.context import GatewayContext
from gateway.readside import Count, caught_up, counts, rows_of, summary_rows_of
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
                )
                for s in r.doc.get("supervision") or []
            ],
        )
        for r in await rows_of(info, "coordination", tenants)
        if r.kind == "Position"
    ]


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
    gaps: GapFigures = strawberry.field(resolver=gaps)
    regional_areas: list[RegionalAreaFigures] = strawberry.field(resolver=regional_areas)

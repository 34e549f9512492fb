"""GraphQL types and resolvers over the read models of coordination and case management.

Rows come through a per-request DataLoader keyed by (projection, tenant), so a district's
figures over its member towns, or ``tenants { caseFigures }``, take one query per
projection. ``atPosition`` (from a command's response) waits, bounded, until the read model
has caught up with that position of the tenant's log (read-your-writes).
"""

from __future__ import annotations

import asyncio
import time
from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.access import (
    BadInput,
    NotCaughtUp,
    audit_pseudonym,
    audits,
    figure_tenants,
    may_list_cases,
    supervised_positions,
)
from gateway.context import GatewayContext
from gateway.read_types import (
    CaseFigures,
    Caseload,
    CaseRow,
    ExpiringConsent,
    GapFigures,
    NoticeFigures,
    PositionRow,
    Referral,
    ReferralCount,
    RegionalAreaFigures,
    SupervisionLine,
    Topic,
    counts,
    rows_of,
    summary_rows_of,
)
from projections import figures
from projections.projection import SUMMARY_KIND
from runtime.http.auth import Role
from runtime.readstore import Row

WAIT_LIMIT_SECONDS = 5.0


async def caught_up(
    info: Info[GatewayContext, Any], projection: str, tenant: str, position: int | None
) -> None:
    """Wait until ``projection`` has applied ``position`` of ``tenant``'s log (bounded)."""
    if position is None:
        return
    live = info.context.platform.projections.get(projection)
    if live is None:
        raise NotCaughtUp(f"no live projection {projection} in this process")
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while live.position(tenant) < position:
        if time.monotonic() > deadline:
            raise NotCaughtUp(
                f"the read model {projection} of {tenant} is at {live.position(tenant)},"
                f" not yet at {position}; retry shortly"
            )
        await asyncio.sleep(0.005)


def _case_figures(tenants: list[str], rows: list[Row]) -> CaseFigures:
    f = figures.case_figures(
        [r.doc for r in rows if r.kind == SUMMARY_KIND],
        [r for r in rows if r.kind == "KnownPosition"],
    )
    return CaseFigures(
        tenants=tenants,
        open_cases=f.open_cases,
        closed_cases=f.closed_cases,
        by_state=counts(f.by_state),
        by_life_dimension=counts(f.by_life_dimension),
        by_referral_source=counts(f.by_referral_source),
        by_closure_reason=counts(f.by_closure_reason),
        referrals=[ReferralCount(service=s, status=st, count=n) for s, st, n in f.referrals],
        caseload=[
            Caseload(
                position_id=strawberry.ID(c.position_id),
                tenant=c.tenant,
                fte=str(c.fte),
                open_cases=c.open_cases,
                cases_per_fte=str(c.per_fte),
                target_per_fte=figures.CASELOAD_TARGET_PER_FTE,
            )
            for c in f.caseload
        ],
        gaps_reported=f.gaps_reported,
    )


async def case_figures(
    info: Info[GatewayContext, Any],
    tenant: str,
    include_members: bool = False,
    at_position: int | None = None,
) -> CaseFigures:
    ctx = info.context
    tenants = figure_tenants(ctx.principal, ctx.directory, tenant, include_members)
    await caught_up(info, "case_management", tenant, at_position)
    rows = await summary_rows_of(info, tenants)
    return _case_figures(tenants, rows)


def _visible_cases(
    info: Info[GatewayContext, Any], tenant: str, rows: list[Row]
) -> tuple[list[Row], bool]:
    """The case rows the principal may see, and whether person ids become audit pseudonyms."""
    principal = info.context.principal
    may_list_cases(principal, info.context.directory, tenant)
    cases = [r for r in rows if r.kind == "Case"]
    if audits(principal, info.context.directory, tenant):
        return cases, True
    if Role.CASE_MANAGER in principal.roles and principal.tenant == tenant:
        mine = str(principal.position)
        return [r for r in cases if r.doc.get("position_id") == mine], False
    supervised = supervised_positions(
        principal,
        [(r.key, r.doc.get("supervision") or []) for r in rows if r.kind == "KnownPosition"],
        date.today().isoformat(),
    )
    return [r for r in cases if r.doc.get("position_id") in supervised], False


async def cases(
    info: Info[GatewayContext, Any],
    tenant: str,
    state: str | None = None,
    at_position: int | None = None,
) -> list[CaseRow]:
    await caught_up(info, "case_management", tenant, at_position)
    rows = await rows_of(info, "case_management", [tenant])
    visible, pseudonymise = _visible_cases(info, tenant, rows)
    secret = info.context.platform.settings.jwt_secret
    out = []
    for r in visible:
        d = r.doc
        if state is not None and d["state"] != state:
            continue
        person = str(d["person_id"])
        closure = d.get("closure") or [None, None]
        out.append(
            CaseRow(
                id=strawberry.ID(r.key),
                tenant=r.tenant,
                person=audit_pseudonym(secret, r.tenant, person) if pseudonymise else person,
                state=str(d["state"]),
                position_id=d.get("position_id"),
                referral_source=str(d["referral_source"]),
                opened_on=str(d["opened_on"]),
                closed_on=closure[1],
                closure_reason=closure[0],
                needs=sorted(d.get("needs") or {}),
                goals=sorted(d.get("goals") or {}),
                referrals=[
                    Referral(
                        service=str(x["service"]),
                        recipient=str(x["recipient"]),
                        status=str(x["status"]),
                        referral_only=bool(x["referral_only"]),
                        outcome=x.get("outcome"),
                    )
                    for x in d.get("referrals") or []
                ],
                pending_approval=d.get("pending_approval"),
            )
        )
    return out


async def expiring_consents(
    info: Info[GatewayContext, Any],
    tenant: str,
    within_days: int = 30,
    at_position: int | None = None,
) -> list[ExpiringConsent]:
    """Consents of the people in the cases the principal sees, ending soon."""
    may_list_cases(info.context.principal, info.context.directory, tenant)
    await caught_up(info, "case_management", tenant, at_position)
    rows = await rows_of(info, "case_management", [tenant])
    visible, pseudonymise = _visible_cases(info, tenant, rows)
    people = {str(r.doc["person_id"]) for r in visible}
    secret = info.context.platform.settings.jwt_secret
    return [
        ExpiringConsent(
            person=audit_pseudonym(secret, e.tenant, e.person_id) if pseudonymise else e.person_id,
            purpose=e.purpose,
            recipient=e.recipient,
            expires_on=e.expires_on.isoformat(),
        )
        for e in figures.expiring_consents(rows, date.today(), max(0, min(within_days, 366)))
        if e.person_id in people
    ]


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
class ReadQuery:
    case_figures: CaseFigures = strawberry.field(
        resolver=case_figures,
        description="Case figures of a tenant, or with includeMembers over the towns below it",
    )
    cases: list[CaseRow] = strawberry.field(
        resolver=cases, description="Case rows: own position, supervised positions, or audit"
    )
    expiring_consents: list[ExpiringConsent] = strawberry.field(resolver=expiring_consents)
    funding: list[NoticeFigures] = strawberry.field(
        resolver=funding, description="Per funding notice: granted, forwarded, filled in a month"
    )
    positions: list[PositionRow] = strawberry.field(resolver=positions)
    gaps: GapFigures = strawberry.field(resolver=gaps)
    regional_areas: list[RegionalAreaFigures] = strawberry.field(resolver=regional_areas)

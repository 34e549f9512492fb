"""GraphQL types of the read side, and the row loading they share with the resolvers."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import GatewayContext
from projections import figures
from runtime.readstore import Row


async def rows_of(
    info: Info[GatewayContext, Any], projection: str, tenants: list[str]
) -> list[Row]:
    loaded = await info.context.rows.load_many([(projection, t) for t in tenants])
    return [row for rows in loaded for row in rows]


async def summary_rows_of(info: Info[GatewayContext, Any], tenants: list[str]) -> list[Row]:
    """Summary rows and known positions only: a district's figures read a few rows per town."""
    loaded = await info.context.summaries.load_many(tenants)
    return [row for rows in loaded for row in rows]


@strawberry.type(description="A count per key (state, life dimension, source, ...)")
class Count:
    key: str
    count: int


def counts(pairs: list[tuple[str, int]]) -> list[Count]:
    return [Count(key=k, count=n) for k, n in pairs]


@strawberry.type
class ReferralCount:
    service: str
    status: str
    count: int


@strawberry.type(description="Open cases of a case-management position against 1:100")
class Caseload:
    position_id: strawberry.ID
    tenant: str
    fte: str
    open_cases: int
    cases_per_fte: str
    target_per_fte: int


@strawberry.type(description="Case-management figures; no personal data")
class CaseFigures:
    tenants: list[str]
    open_cases: int
    closed_cases: int
    by_state: list[Count]
    by_life_dimension: list[Count] = strawberry.field(description="needs of open cases")
    by_referral_source: list[Count]
    by_closure_reason: list[Count]
    referrals: list[ReferralCount]
    caseload: list[Caseload]
    gaps_reported: int

    @strawberry.field(description="valid consents ending within the next days (default 30)")
    async def consents_expiring(
        self, info: Info[GatewayContext, Any], within_days: int = 30
    ) -> int:
        rows = await rows_of(info, "case_management", self.tenants)
        days = max(0, min(within_days, 366))
        return len(figures.expiring_consents(rows, date.today(), days))


@strawberry.type
class Referral:
    service: str
    recipient: str
    status: str
    referral_only: bool
    outcome: str | None


@strawberry.type(description="One case's facts; the person only as a pseudonym")
class CaseRow:
    id: strawberry.ID
    tenant: str
    person: str = strawberry.field(description="person id, or an audit pseudonym for auditors")
    state: str
    position_id: str | None
    referral_source: str
    opened_on: str
    closed_on: str | None
    closure_reason: str | None
    needs: list[str]
    goals: list[str]
    referrals: list[Referral]
    pending_approval: str | None


@strawberry.type
class ExpiringConsent:
    person: str
    purpose: str
    recipient: str
    expires_on: str


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

"""REST API for a tenant's view of the positions working in it (whichever log holds them).

A member town reads the positions working in it, their staffing (pseudonymous staff ids),
costs and the contract or notice that funds them, also when the district's log holds them
(Rheine: the 1.9 FTE of Lernen fördern e.V. that Kreis Steinfurt funds). Computed from the
read model rows of the tenant and the tenants above it, never by replaying a log.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.statement import PositionLine, VacancyRule, position_line
from projections import coordination as figures
from runtime.http.app import PlatformDep
from runtime.http.reads import caught_up, caught_up_with_heads
from runtime.platform import Platform
from services.coordination.deps import Reader

# Registered before the positions router (services/coordination/spec.py), so that
# ``/positions/working-here`` is not taken for ``/positions/{position_id}``.
router = APIRouter(prefix="/coordination/tenants/{tenant}", tags=["coordination: positions"])


class WorkingStaffingView(BaseModel):
    staff_id: str
    fte: Decimal
    start: date
    end: date | None


class WorkingSupervisionView(BaseModel):
    post_tenant: str
    valid_from: date
    valid_to: date | None
    supervisor_position_id: str | None


class FundingContractView(BaseModel):
    id: str
    recipient_kind: str
    recipient: str
    position_type: str
    amount_rule: str
    amount_per_year: Decimal
    fte: Decimal
    start: date
    end: date
    cooperation_agreement: str
    terminated: bool
    notice_reference: str | None


class FundingNoticeView(BaseModel):
    id: str
    reference: str
    baustein: int
    grantor: str


class YearFiguresView(BaseModel):
    """The position's figures of a year as the Verwendungsnachweis counts them."""

    year: int
    vacant_months: int
    months_filled: Decimal
    cap: Decimal
    actual_cost: Decimal
    grant_use: Decimal | None  # None: a flat contract, whose amount is the grant
    own_funds: Decimal
    third_party: Decimal

    @classmethod
    def of(cls, year: int, line: PositionLine) -> YearFiguresView:
        return cls(
            year=year,
            vacant_months=line.vacant_months,
            months_filled=line.months_filled,
            cap=line.cap,
            actual_cost=line.actual_cost,
            grant_use=line.grant_use,
            own_funds=line.own_funds,
            third_party=line.third_party,
        )


class WorkingPositionView(BaseModel):
    id: str
    holder: str
    title: str
    position_type: str
    baustein: int
    fte: Decimal
    employer_kind: str
    employer: str
    work_tenant: str
    regional_area: str | None
    staffing: list[WorkingStaffingView]
    filled_fte: Decimal
    costs: dict[str, Decimal]
    year_costs: dict[int, Decimal]
    supervision: list[WorkingSupervisionView]
    contract: FundingContractView | None
    notice: FundingNoticeView | None
    year_figures: YearFiguresView | None = None

    @classmethod
    def of(cls, w: figures.WorkingPosition) -> WorkingPositionView:
        c, n = w.contract, w.notice
        return cls(
            id=w.position_id,
            holder=w.holder,
            title=w.title,
            position_type=w.position_type,
            baustein=w.baustein,
            fte=w.fte,
            employer_kind=w.employer_kind,
            employer=w.employer,
            work_tenant=w.work_tenant,
            regional_area=w.regional_area,
            staffing=[WorkingStaffingView(**vars(s)) for s in w.staffing],
            filled_fte=w.filled_fte,
            costs=dict(w.costs),
            year_costs=dict(w.year_costs),
            supervision=[WorkingSupervisionView(**vars(s)) for s in w.supervision],
            contract=None
            if c is None
            else FundingContractView(
                id=c.contract_id,
                **{k: v for k, v in vars(c).items() if k != "contract_id"},
            ),
            notice=None
            if n is None
            else FundingNoticeView(
                id=n.notice_id, reference=n.reference, baustein=n.baustein, grantor=n.grantor
            ),
        )


@router.get(
    "/positions/working-here",
    summary="The positions working in the tenant, also those a tenant above it holds",
    response_model=list[WorkingPositionView],
)
def positions_working_here(
    request: Request,
    app: Reader,
    platform: PlatformDep,
    year: Annotated[
        int | None,
        Query(ge=2015, le=2100, description="add each position's figures of this year"),
    ] = None,
) -> list[WorkingPositionView]:
    """Each with its holder (whose log), staffing, filled FTE today, actual staff costs and the
    contract or notice funding it; no personal data. ``KIM-Position`` names a position of the
    tenant's own log; the logs above are read as of their heads when the request arrives."""
    tenant = app.tenant
    above = platform.directory().ancestors(tenant)
    caught_up(request, platform, "coordination", tenant, "coordination")
    caught_up_with_heads(platform, "coordination", "coordination", above)
    rows = platform.read.rows("coordination", [tenant, *above])
    views = [
        WorkingPositionView.of(w) for w in figures.positions_working_in(rows, tenant, date.today())
    ]
    if year is not None:
        for view in views:
            view.year_figures = _year_figures(platform, view, year)
    return views


def _year_figures(platform: Platform, view: WorkingPositionView, year: int) -> YearFiguresView:
    """Cap, actual cost and grant use of the year, from the holder's position, contract and
    notice as the statement counts them (three aggregates per position, not the log)."""
    holder = platform.app(CoordinationApplication, view.holder)
    position = holder.get_position(UUID(view.id))
    contract = None
    notice_id = position.funding_id
    if position.funding_kind == "contract":
        contract = holder.get_contract(position.funding_id)
        notice_id = contract.notice_id
    notice = holder.get_notice(notice_id)
    line = position_line(position, notice, contract, year, VacancyRule.TWELFTH_PER_VACANT_MONTH, {})
    return YearFiguresView.of(year, line)

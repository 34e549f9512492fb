"""REST API for a tenant's view of the positions working in it (whichever log holds them).

A member town reads the positions working in it, their staffing (pseudonymous staff ids),
costs and the contract or notice that funds them, also when the district's log holds them
(Rheine: the 1.9 FTE of Lernen fördern e.V. that Kreis Steinfurt funds). Computed from the
read model rows of the tenant and the tenants above it, never by replaying a log.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from projections import coordination as figures
from runtime.http.app import PlatformDep
from runtime.http.reads import caught_up, caught_up_with_heads
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
    request: Request, app: Reader, platform: PlatformDep
) -> list[WorkingPositionView]:
    """Each with its holder (whose log), staffing, filled FTE today, actual staff costs and the
    contract or notice funding it; no personal data. ``KIM-Position`` names a position of the
    tenant's own log; the logs above are read as of their heads when the request arrives."""
    tenant = app.tenant
    above = platform.directory().ancestors(tenant)
    caught_up(request, platform, "coordination", tenant, "coordination")
    caught_up_with_heads(platform, "coordination", "coordination", above)
    rows = platform.read.rows("coordination", [tenant, *above])
    return [
        WorkingPositionView.of(w) for w in figures.positions_working_in(rows, tenant, date.today())
    ]

"""REST API for positions, staffing, supervision lines and regional areas."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contexts.coordination.funding import PositionType
from contexts.coordination.positions import Position, propose_shares
from contexts.shared.errors import DomainError
from runtime.http.app import PlatformDep
from runtime.http.reads import MAX_PAGE
from runtime.platform import Platform
from services.coordination.deps import Command, Reader, Strict, listed

router = APIRouter(prefix="/coordination/tenants/{tenant}", tags=["coordination: positions"])

FTE = Annotated[Decimal, Field(gt=0, le=100, decimal_places=2, examples=["1.9"])]
TenantKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["rheine"])]


class CreatePosition(Strict):
    title: str = Field(min_length=1, max_length=200, examples=["Case Management RB Rheine"])
    position_type: PositionType
    fte: FTE
    employer_kind: Literal["tenant", "provider"]
    employer: str = Field(min_length=1, max_length=100, description="tenant key or organisation id")
    funding_kind: Literal["notice", "contract"]
    funding_id: UUID
    work_tenant: TenantKey
    regional_area_id: UUID | None = None


class StartStaffing(Strict):
    staff_id: str = Field(min_length=1, max_length=40, examples=["MA-0042"])
    fte: FTE
    start: date


class EndStaffing(Strict):
    staff_id: str = Field(min_length=1, max_length=40)
    end: date


class RecordCost(Strict):
    month: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2021-09"])
    amount: Annotated[Decimal, Field(ge=0, le=1_000_000, decimal_places=2)]


class AssignSupervision(Strict):
    post_tenant: TenantKey
    valid_from: date
    expected_version: int | None = Field(default=None, ge=1)


class EndSupervision(Strict):
    valid_to: date
    expected_version: int | None = Field(default=None, ge=1)


class DefineArea(Strict):
    name: str = Field(min_length=1, max_length=200, examples=["RB Rheine"])
    towns: list[str] = Field(min_length=1, examples=[["Rheine", "Neuenkirchen"]])
    case_management_fte: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]


class ChangeShare(Strict):
    case_management_fte: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]
    reason: str = Field(min_length=1, max_length=500)
    expected_version: int | None = Field(default=None, ge=1)


class ProposeShares(Strict):
    total_fte: FTE
    newcomers: dict[str, Annotated[int, Field(ge=0)]] = Field(
        min_length=1, description="area name -> newly immigrated people (e.g. over 28)"
    )


class StaffingView(BaseModel):
    staff_id: str
    fte: Decimal
    start: date
    end: date | None


class SupervisionView(BaseModel):
    post_tenant: str
    valid_from: date
    valid_to: date | None


class PositionView(BaseModel):
    id: UUID
    version: int
    title: str
    position_type: PositionType
    baustein: int
    fte: Decimal
    employer_kind: str
    employer: str
    funding_kind: str
    funding_id: UUID
    work_tenant: str
    regional_area_id: UUID | None
    staffing: list[StaffingView]
    costs: dict[str, Decimal]
    supervision: list[SupervisionView]

    @classmethod
    def of(cls, p: Position) -> PositionView:
        return cls(
            id=p.id,
            version=p.version,
            title=p.title,
            position_type=p.position_type,
            baustein=p.baustein,
            fte=p.fte,
            employer_kind=p.employer_kind,
            employer=p.employer,
            funding_kind=p.funding_kind,
            funding_id=p.funding_id,
            work_tenant=p.work_tenant,
            regional_area_id=p.regional_area_id,
            staffing=[StaffingView(**vars(s)) for s in p.staffing],
            costs=p.costs,
            supervision=[SupervisionView(**vars(s)) for s in p.supervision],
        )


class AreaView(BaseModel):
    id: UUID
    version: int
    name: str
    towns: list[str]
    case_management_fte: Decimal


def _work_tenant_check(platform: Platform, tenant: str) -> Callable[[str], None]:
    """Positions work in the tenant itself or in a tenant below it."""

    def check(work_tenant: str) -> None:
        directory = platform.directory()
        if work_tenant != tenant and not directory.is_ancestor(tenant, work_tenant):
            raise DomainError(
                "work-location-outside-tenant",
                f"{work_tenant} is neither {tenant} nor a tenant below it",
                field="work_tenant",
            )

    return check


@router.post("/positions", status_code=201, summary="Create a funded position (Stelle)")
def create_position(
    body: CreatePosition,
    cmd: Command,
) -> JSONResponse:
    check = _work_tenant_check(cmd.platform, cmd.app.tenant)
    return cmd.run(
        "create_position",
        body,
        lambda: cmd.app.create_position(
            title=body.title,
            position_type=body.position_type,
            fte_share=body.fte,
            employer_kind=body.employer_kind,
            employer=body.employer,
            funding_kind=body.funding_kind,
            funding_id=body.funding_id,
            work_tenant=body.work_tenant,
            regional_area_id=body.regional_area_id,
            work_tenant_check=check,
        ),
        status=201,
    )


@router.get(
    "/positions", summary="The positions the tenant funds (Stellen), a page at a time",
    response_model=list[PositionView],
)  # fmt: skip
def list_positions(
    request: Request,
    app: Reader,
    platform: PlatformDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after: UUID | None = None,
) -> JSONResponse:
    """Which positions: a page of the read model (``Link: rel="next"``); each as stored."""
    return listed(request, platform, app, "Position", limit, after,
                  lambda key: PositionView.of(app.get_position(key)))  # fmt: skip


@router.get("/positions/{position_id}", summary="One position with staffing and supervision")
def get_position(position_id: UUID, app: Reader) -> PositionView:
    return PositionView.of(app.get_position(position_id))


@router.post("/positions/{position_id}/staffing", summary="A staff member starts on the position")
def start_staffing(
    position_id: UUID,
    body: StartStaffing,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "start_staffing",
        body,
        lambda: cmd.app.start_staffing(
            position_id, staff_id=body.staff_id, fte_share=body.fte, start=body.start
        ),
    )


@router.post("/positions/{position_id}/staffing/end", summary="A staff member leaves")
def end_staffing(
    position_id: UUID,
    body: EndStaffing,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "end_staffing",
        body,
        lambda: cmd.app.end_staffing(position_id, staff_id=body.staff_id, end=body.end),
    )


@router.post("/positions/{position_id}/costs", summary="Record actual staff cost of a month")
def record_cost(
    position_id: UUID,
    body: RecordCost,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "record_staff_cost",
        body,
        lambda: cmd.app.record_staff_cost(position_id, month=body.month, amount=body.amount),
    )


@router.post("/positions/{position_id}/supervision", summary="Assign the supervising post")
def assign_supervision(
    position_id: UUID,
    body: AssignSupervision,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "assign_supervision",
        body,
        lambda: cmd.app.assign_supervision(
            position_id,
            post_tenant=body.post_tenant,
            valid_from=body.valid_from,
            expected_version=body.expected_version,
        ),
    )


@router.post("/positions/{position_id}/supervision/end", summary="End the supervision line")
def end_supervision(
    position_id: UUID,
    body: EndSupervision,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "end_supervision",
        body,
        lambda: cmd.app.end_supervision(
            position_id, valid_to=body.valid_to, expected_version=body.expected_version
        ),
    )


@router.post("/regional-areas", status_code=201, summary="Define a regional area")
def define_area(
    body: DefineArea,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "define_regional_area",
        body,
        lambda: cmd.app.define_regional_area(
            name=body.name, towns=body.towns, case_management_fte=body.case_management_fte
        ),
        status=201,
    )


@router.post("/regional-areas/{area_id}/share", summary="Change an area's FTE share")
def change_share(
    area_id: UUID,
    body: ChangeShare,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "change_regional_share",
        body,
        lambda: cmd.app.change_regional_share(
            area_id,
            case_management_fte=body.case_management_fte,
            reason=body.reason,
            expected_version=body.expected_version,
        ),
    )


@router.get("/regional-areas/{area_id}", summary="One regional area")
def get_area(area_id: UUID, app: Reader) -> AreaView:
    a = app.get_regional_area(area_id)
    return AreaView(
        id=a.id,
        version=a.version,
        name=a.name,
        towns=a.towns,
        case_management_fte=a.case_management_fte,
    )


@router.post(
    "/regional-areas/proposal",
    summary="Propose FTE shares from newcomer counts (nothing is stored)",
)
def propose(body: ProposeShares, app: Reader) -> dict[str, Decimal]:
    return propose_shares(body.total_fte, dict(body.newcomers))

"""REST API for positions, staffing, supervision lines and regional areas."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from contexts.coordination.funding import PositionType
from contexts.coordination.positions import Position
from contexts.shared.errors import DomainError
from runtime.http.app import PlatformDep
from runtime.http.fields import (
    FTE,
    MAX_YEAR,
    NOT_BLANK,
    DecimalForm,
    NonBlank,
    Version,
    requires_when,
)
from runtime.http.reads import MAX_PAGE
from runtime.platform import Platform
from services.coordination.deps import Command, Reader, Strict, listed
from services.coordination.supervision import PlatformSupervisionScope

router = APIRouter(prefix="/coordination/tenants/{tenant}", tags=["coordination: positions"])

MonthlyEuro = Annotated[Decimal, DecimalForm(6, 2, positive=False, example="4250.00")]
"""A month's staff costs of a position in euros: 0 to 999,999.99."""
YearlyEuro = Annotated[Decimal, DecimalForm(7, 2, positive=False, example="51000.00")]
"""A year's costs or contribution in euros: 0 to 9,999,999.99."""

TenantKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["rheine"])]


class CreatePosition(Strict):
    title: NonBlank = Field(min_length=1, max_length=200, examples=["Case Management RB Rheine"])
    position_type: PositionType
    fte: FTE
    employer_kind: Literal["tenant", "provider"]
    employer: NonBlank = Field(
        min_length=1, max_length=100, description="tenant key or organisation id"
    )
    funding_kind: Literal["notice", "contract"]
    funding_id: UUID
    work_tenant: TenantKey
    regional_area_id: UUID | None = None


class StartStaffing(Strict):
    staff_id: NonBlank = Field(min_length=1, max_length=40, examples=["MA-0042"])
    fte: FTE
    start: date


class EndStaffing(Strict):
    staff_id: NonBlank = Field(min_length=1, max_length=40)
    end: date


class RecordCost(Strict):
    month: str = Field(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", examples=["2021-09"])
    amount: MonthlyEuro


class RecordYearCost(Strict):
    year: int = Field(ge=2015, le=MAX_YEAR, examples=[2021])
    amount: YearlyEuro


class RecordContribution(Strict):
    """Third-party funds name their source (the schema says it)."""

    model_config = ConfigDict(
        json_schema_extra=requires_when(
            "kind",
            "third_party",
            {
                "required": ["source"],
                "properties": {"source": {"minLength": 1, "pattern": NOT_BLANK}},
            },
        )
    )
    year: int = Field(ge=2015, le=MAX_YEAR, examples=[2021])
    kind: Literal["own_funds", "third_party"] = Field(
        description="own_funds: Eigenanteil or kommunale Aufstockung of the employer, district"
        " or town; third_party: Drittmittel of another funder"
    )
    contributor: NonBlank = Field(
        min_length=1, max_length=200, examples=["kreis-steinfurt"],
        description="who pays: tenant key, organisation id or name",
    )  # fmt: skip
    source: str = Field(
        default="", max_length=200, examples=["Haushalt 2021, Produkt 05.02"],
        description="budget line or programme; required for third-party funds",
    )  # fmt: skip
    amount: YearlyEuro


class AssignSupervision(Strict):
    post_tenant: TenantKey
    valid_from: date
    supervisor_position_id: UUID | None = Field(
        default=None,
        description="the coordination position (working in post_tenant) that supervises; without"
        " it every coordinator of the post does",
    )
    expected_version: Version = None


class EndSupervision(Strict):
    valid_to: date
    expected_version: Version = None


class StaffingView(BaseModel):
    staff_id: str
    fte: Decimal
    start: date
    end: date | None


class SupervisionView(BaseModel):
    post_tenant: str
    valid_from: date
    valid_to: date | None
    supervisor_position_id: UUID | None = None


class ContributionView(BaseModel):
    year: int
    kind: str
    contributor: str
    source: str
    amount: Decimal


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
    year_costs: dict[int, Decimal]
    contributions: list[ContributionView]
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
            year_costs=p.year_costs,
            contributions=[ContributionView(**vars(c)) for c in p.contributions],
            supervision=[SupervisionView(**vars(s)) for s in p.supervision],
        )


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


@router.post(
    "/positions/{position_id}/costs/year", summary="Record actual staff cost of a whole year"
)
def record_year_cost(
    position_id: UUID,
    body: RecordYearCost,
    cmd: Command,
) -> JSONResponse:
    """For employers who report per year: spread over the year's filled months by their
    filled FTE (rule in the coordination README). A year is reported per month or per year."""
    return cmd.run(
        "record_year_cost",
        body,
        lambda: cmd.app.record_year_cost(position_id, year=body.year, amount=body.amount),
    )


@router.post(
    "/positions/{position_id}/contributions",
    summary="Record own funds or third-party funds towards the position's cost in a year",
)
def record_contribution(
    position_id: UUID,
    body: RecordContribution,
    cmd: Command,
) -> JSONResponse:
    """Never grant money: the statement shows staff cost = grant use + own funds + third
    party. A later record of the same year, kind, contributor and source corrects it."""
    return cmd.run(
        "record_contribution",
        body,
        lambda: cmd.app.record_contribution(
            position_id, year=body.year, kind=body.kind, contributor=body.contributor,
            source=body.source, amount=body.amount,
        ),
    )  # fmt: skip


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
            supervisor_position_id=body.supervisor_position_id,
            scope=PlatformSupervisionScope(cmd.platform),
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

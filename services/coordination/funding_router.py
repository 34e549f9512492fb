"""REST API for funding notices and forwarding contracts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from contexts.coordination.funding import (
    BAUSTEIN_OF,
    AmountRule,
    ForwardingContract,
    FundingNotice,
    PositionType,
    RecipientKind,
)
from contexts.shared.errors import DomainError
from runtime.http.app import PlatformDep
from runtime.http.commands import MAX_ITEMS
from runtime.http.fields import Euro, GrantFTE, NonBlank, Version, all_of, requires_when
from runtime.http.reads import MAX_PAGE
from runtime.platform import Platform
from services.coordination.deps import Command, Reader, Strict, listed

router = APIRouter(prefix="/coordination/tenants/{tenant}", tags=["coordination: funding"])

FTE = GrantFTE
EUR = Euro


def _baustein_rule(baustein: int) -> Callable[[dict[str, Any]], None]:
    """The position types of a Baustein are the only keys of its grants and rates."""
    types = {"enum": sorted(t.value for t, b in BAUSTEIN_OF.items() if b == baustein)}
    keys = {"propertyNames": types}
    return requires_when("baustein", baustein, {"properties": {"grants": keys, "rates": keys}})


class IssueNotice(Strict):
    """Grants and rates name position types of the notice's Baustein (the schema says it)."""

    model_config = ConfigDict(
        json_schema_extra=all_of(*(_baustein_rule(b) for b in sorted(set(BAUSTEIN_OF.values()))))
    )

    grantor: NonBlank = Field(min_length=1, max_length=200, examples=["Bezirksregierung Arnsberg"])
    reference: NonBlank = Field(min_length=1, max_length=100, examples=["KIM-2021-05566-B2"])
    baustein: int = Field(ge=1, le=3)
    period_start: date
    period_end: date
    grants: dict[PositionType, FTE] = Field(
        min_length=1, max_length=MAX_ITEMS, examples=[{"case_management": "9.0"}]
    )
    rates: dict[PositionType, EUR] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description="the rate per FTE and year the notice states for each granted position"
        " type (fachbezogene Pauschale); there is no default",
        examples=[{"case_management": "55000"}],
    )
    material_costs_per_year: EUR = Decimal(0)
    issued_on: date


class AmendNotice(Strict):
    reference: NonBlank = Field(min_length=1, max_length=100)
    issued_on: date
    period_end: date
    effective_from: date = Field(
        description="the day from which the amended grants, rates and material costs apply"
    )
    grants: dict[PositionType, FTE] = Field(min_length=1, max_length=MAX_ITEMS)
    rates: dict[PositionType, EUR] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description="the rate per FTE and year for each granted position type",
    )
    material_costs_per_year: EUR = Decimal(0)
    reason: NonBlank = Field(min_length=1, max_length=500)
    expected_version: Version = None


class ConcludeContract(Strict):
    notice_id: UUID
    recipient_kind: RecipientKind
    recipient: NonBlank = Field(
        min_length=1, max_length=100, description="tenant key, or the provider's organisation id"
    )
    position_type: PositionType
    fte: FTE
    amount_rule: AmountRule
    amount_per_year: EUR
    start: date
    end: date
    cooperation_agreement: str = Field(default="", max_length=200)


class AmendContract(Strict):
    fte: FTE
    amount_per_year: EUR
    end: date
    reason: NonBlank = Field(min_length=1, max_length=500)
    expected_version: Version = None


class TerminateContract(Strict):
    end: date
    reason: NonBlank = Field(min_length=1, max_length=500)
    expected_version: Version = None


class GrantView(BaseModel):
    fte: Decimal
    rate: Decimal


class VersionView(BaseModel):
    effective_from: date
    reference: str
    issued_on: date
    grants: dict[PositionType, GrantView]
    material_costs_per_year: Decimal


class ReservationView(BaseModel):
    contract_id: UUID
    position_type: PositionType
    fte: Decimal
    amount_per_year: Decimal
    start: date
    end: date


class NoticeView(BaseModel):
    id: UUID
    version: int
    grantor: str
    reference: str
    baustein: int
    period_start: date
    period_end: date
    issued_on: date
    grants: dict[PositionType, GrantView]
    granted_fte: Decimal
    granted_money_per_year: Decimal
    material_costs_per_year: Decimal
    forwarding: list[ReservationView]
    amendments: list[str]
    versions: list[VersionView]

    @classmethod
    def of(cls, n: FundingNotice) -> NoticeView:
        return cls(
            id=n.id,
            version=n.version,
            grantor=n.grantor,
            reference=n.reference,
            baustein=n.baustein,
            period_start=n.period.start,
            period_end=n.period.end,
            issued_on=n.issued_on,
            grants={k: GrantView(fte=f, rate=r) for k, (f, r) in n.grants.items()},
            granted_fte=n.granted_fte,
            granted_money_per_year=n.granted_money_per_year,
            material_costs_per_year=n.material_costs_per_year,
            forwarding=[
                ReservationView(
                    contract_id=r.contract_id,
                    position_type=r.position_type,
                    fte=r.fte,
                    amount_per_year=r.amount_per_year,
                    start=r.period.start,
                    end=r.period.end,
                )
                for r in n.reservations.values()
            ],
            amendments=n.amendments,
            versions=[
                VersionView(
                    effective_from=v.effective_from,
                    reference=v.reference,
                    issued_on=v.issued_on,
                    grants={k: GrantView(fte=f, rate=r) for k, (f, r) in v.grants.items()},
                    material_costs_per_year=v.material_costs_per_year,
                )
                for v in n.versions
            ],
        )


class ContractView(BaseModel):
    id: UUID
    version: int
    notice_id: UUID
    recipient_kind: RecipientKind
    recipient: str
    position_type: PositionType
    fte: Decimal
    amount_rule: AmountRule
    amount_per_year: Decimal
    start: date
    end: date
    cooperation_agreement: str
    terminated: bool


def _member_town_check(platform: Platform, tenant: str) -> Callable[[RecipientKind, str], None]:
    def check(kind: RecipientKind, recipient: str) -> None:
        info = platform.directory().get(recipient)
        if info is None or info.parent != tenant:
            raise DomainError(
                "recipient-not-a-member-town",
                f"{recipient} is not a registered tenant below {tenant}",
                field="recipient",
            )

    return check


@router.post("/notices", status_code=201, summary="Record a funding notice (Förderbescheid)")
def issue_notice(
    body: IssueNotice,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "issue_notice",
        body,
        lambda: cmd.app.issue_notice(
            grantor=body.grantor,
            reference=body.reference,
            baustein=body.baustein,
            period_start=body.period_start,
            period_end=body.period_end,
            grants=dict(body.grants),
            rates=dict(body.rates),
            material_costs_per_year=body.material_costs_per_year,
            issued_on=body.issued_on,
        ),
        status=201,
    )


@router.post("/notices/{notice_id}/amend", summary="Record an amendment (Änderungsbescheid)")
def amend_notice(
    notice_id: UUID,
    body: AmendNotice,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "amend_notice",
        body,
        lambda: cmd.app.amend_notice(
            notice_id,
            reference=body.reference,
            issued_on=body.issued_on,
            period_end=body.period_end,
            grants=dict(body.grants),
            rates=dict(body.rates),
            effective_from=body.effective_from,
            material_costs_per_year=body.material_costs_per_year,
            reason=body.reason,
            expected_version=body.expected_version,
        ),
    )


@router.get(
    "/notices", summary="The tenant's funding notices, a page at a time",
    response_model=list[NoticeView],
)  # fmt: skip
def list_notices(
    request: Request,
    app: Reader,
    platform: PlatformDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after: UUID | None = None,
) -> JSONResponse:
    """Which notices: a page of the read model (``Link: rel="next"``); each shown as stored."""
    return listed(request, platform, app, "FundingNotice", limit, after,
                  lambda key: NoticeView.of(app.get_notice(key)))  # fmt: skip


@router.get("/notices/{notice_id}", summary="One funding notice with what is forwarded")
def get_notice(notice_id: UUID, app: Reader) -> NoticeView:
    return NoticeView.of(app.get_notice(notice_id))


@router.post("/contracts", status_code=201, summary="Conclude a forwarding contract")
def conclude_contract(
    body: ConcludeContract,
    cmd: Command,
) -> JSONResponse:
    check = _member_town_check(cmd.platform, cmd.app.tenant)
    return cmd.run(
        "conclude_contract",
        body,
        lambda: cmd.app.conclude_contract(
            notice_id=body.notice_id,
            recipient_kind=body.recipient_kind,
            recipient=body.recipient,
            position_type=body.position_type,
            fte_share=body.fte,
            amount_rule=body.amount_rule,
            amount_per_year=body.amount_per_year,
            start=body.start,
            end=body.end,
            cooperation_agreement=body.cooperation_agreement,
            recipient_check=check,
        ),
        status=201,
    )


@router.post("/contracts/{contract_id}/amend", summary="Amend a forwarding contract")
def amend_contract(
    contract_id: UUID,
    body: AmendContract,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "amend_contract",
        body,
        lambda: cmd.app.amend_contract(
            contract_id,
            fte_share=body.fte,
            amount_per_year=body.amount_per_year,
            end=body.end,
            reason=body.reason,
            expected_version=body.expected_version,
        ),
    )


@router.post("/contracts/{contract_id}/terminate", summary="Terminate a forwarding contract")
def terminate_contract(
    contract_id: UUID,
    body: TerminateContract,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "terminate_contract",
        body,
        lambda: cmd.app.terminate_contract(
            contract_id, end=body.end, reason=body.reason, expected_version=body.expected_version
        ),
    )


@router.get("/contracts/{contract_id}", summary="One forwarding contract")
def get_contract(contract_id: UUID, app: Reader) -> ContractView:
    c: ForwardingContract = app.get_contract(contract_id)
    return ContractView(
        id=c.id,
        version=c.version,
        notice_id=c.notice_id,
        recipient_kind=c.recipient_kind,
        recipient=c.recipient,
        position_type=c.position_type,
        fte=c.fte,
        amount_rule=c.amount_rule,
        amount_per_year=c.amount_per_year,
        start=c.period.start,
        end=c.period.end,
        cooperation_agreement=c.cooperation_agreement,
        terminated=c.terminated,
    )

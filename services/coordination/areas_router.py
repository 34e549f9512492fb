"""REST API for regional areas (Regionalbereiche) and their FTE shares."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contexts.coordination.shares import propose_shares
from runtime.http.commands import MAX_ITEMS
from runtime.http.fields import FTE, Count, FTEShare, NonBlank, Version
from services.coordination.deps import Command, Reader, Strict

router = APIRouter(prefix="/coordination/tenants/{tenant}", tags=["coordination: positions"])


class DefineArea(Strict):
    name: NonBlank = Field(min_length=1, max_length=200, examples=["RB Rheine"])
    towns: list[Annotated[NonBlank, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=MAX_ITEMS, examples=[["Rheine", "Neuenkirchen"]]
    )
    case_management_fte: FTEShare


class ChangeShare(Strict):
    case_management_fte: FTEShare
    reason: NonBlank = Field(min_length=1, max_length=500)
    expected_version: Version = None


class ProposeShares(Strict):
    total_fte: FTE
    newcomers: dict[str, Count] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description="area name -> newly immigrated people (e.g. over 28)",
    )


class AreaView(BaseModel):
    id: UUID
    version: int
    name: str
    towns: list[str]
    case_management_fte: Decimal


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


@router.get("/regional-areas/{area_id:uuid}", summary="One regional area")
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

"""REST API of case management (first endpoints: caseload figures, no personal data)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from contexts.case_management.application import CaseManagementApplication
from services.runtime.http.app import PlatformDep, PrincipalDep, TenantDep
from services.runtime.http.auth import Access, Role, authorize

router = APIRouter(prefix="/case_management/tenants/{tenant}", tags=["case management"])
FIGURE_READERS = {
    Role.CASE_MANAGER,
    Role.COORDINATOR,
    Role.DISTRICT_COORDINATOR,
    Role.STEERING_MEMBER,
    Role.AUDITOR,
}


class CaseloadView(BaseModel):
    position_id: UUID
    open_cases: int
    cases_per_fte: Decimal
    target_per_fte: int
    limit_per_fte: int


@router.get("/positions/{position_id}/caseload", summary="Open cases of a position per FTE")
def caseload(
    position_id: UUID, principal: PrincipalDep, tenant: TenantDep, platform: PlatformDep
) -> CaseloadView:
    authorize(
        principal, tenant.key, platform.directory(), roles=FIGURE_READERS, access=Access.AGGREGATE
    )
    app = platform.app(CaseManagementApplication, tenant.key, vault=platform.vault)
    open_cases, per_fte = app.caseload(position_id)
    return CaseloadView(
        position_id=position_id,
        open_cases=open_cases,
        cases_per_fte=per_fte,
        target_per_fte=app.caseload_target_per_fte,
        limit_per_fte=app.caseload_limit_per_fte,
    )

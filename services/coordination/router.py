"""REST API of the coordination context."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import OfficeType, OrganisationKind
from services.runtime.http.app import PlatformDep, PrincipalDep, TenantDep
from services.runtime.http.auth import Access, Role, authorize
from services.runtime.http.commands import run_command

router = APIRouter(prefix="/coordination/tenants/{tenant}", tags=["coordination"])

WRITERS = {Role.COORDINATOR, Role.DISTRICT_COORDINATOR}
READERS = WRITERS | {
    Role.CASE_MANAGER,
    Role.STEERING_MEMBER,
    Role.AUDITOR,
    Role.IMMIGRATION_OFFICER,
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisterOrganisation(Strict):
    name: str = Field(min_length=1, max_length=200, examples=["Lernen fördern e.V."])
    kind: OrganisationKind
    office_type: OfficeType | None = None


class RenameOrganisation(Strict):
    name: str = Field(min_length=1, max_length=200)
    expected_version: int | None = Field(default=None, ge=1)


class CloseOrganisation(Strict):
    expected_version: int | None = Field(default=None, ge=1)


class OrganisationView(BaseModel):
    id: UUID
    version: int
    name: str
    kind: OrganisationKind
    office_type: OfficeType | None
    active: bool


def _writer(
    principal: PrincipalDep, tenant: TenantDep, platform: PlatformDep
) -> CoordinationApplication:
    authorize(principal, tenant.key, platform.directory(), roles=WRITERS)
    return platform.app(CoordinationApplication, tenant.key)


def _reader(
    principal: PrincipalDep, tenant: TenantDep, platform: PlatformDep
) -> CoordinationApplication:
    authorize(principal, tenant.key, platform.directory(), roles=READERS, access=Access.AGGREGATE)
    return platform.app(CoordinationApplication, tenant.key)


Writer = Annotated[CoordinationApplication, Depends(_writer)]
Reader = Annotated[CoordinationApplication, Depends(_reader)]


@router.post("/organisations", status_code=201, summary="Register an organisation")
def register_organisation(
    body: RegisterOrganisation,
    request: Request,
    app: Writer,
    platform: PlatformDep,
    principal: PrincipalDep,
) -> JSONResponse:
    return run_command(
        request,
        platform.store,
        principal,
        app.tenant,
        app.context,
        "register_organisation",
        lambda: app.register_organisation(body.name, body.kind, body.office_type),
        body,
        status=201,
    )


@router.post("/organisations/{organisation_id}/rename", summary="Rename an organisation")
def rename_organisation(
    organisation_id: UUID,
    body: RenameOrganisation,
    request: Request,
    app: Writer,
    platform: PlatformDep,
    principal: PrincipalDep,
) -> JSONResponse:
    return run_command(
        request,
        platform.store,
        principal,
        app.tenant,
        app.context,
        "rename_organisation",
        lambda: app.rename_organisation(organisation_id, body.name, body.expected_version),
        body,
    )


@router.post("/organisations/{organisation_id}/close", summary="Close an organisation")
def close_organisation(
    organisation_id: UUID,
    body: CloseOrganisation,
    request: Request,
    app: Writer,
    platform: PlatformDep,
    principal: PrincipalDep,
) -> JSONResponse:
    return run_command(
        request,
        platform.store,
        principal,
        app.tenant,
        app.context,
        "close_organisation",
        lambda: app.close_organisation(organisation_id, body.expected_version),
        body,
    )


@router.get("/organisations/{organisation_id}", summary="One organisation")
def get_organisation(organisation_id: UUID, app: Reader) -> OrganisationView:
    org = app.get_organisation(organisation_id)
    return OrganisationView(
        id=org.id,
        version=org.version,
        name=org.name,
        kind=org.kind,
        office_type=org.office_type,
        active=org.active,
    )

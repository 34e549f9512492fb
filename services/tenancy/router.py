"""REST API of the tenant registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contexts.tenancy.application import TenancyApplication
from contexts.tenancy.contracts import Office, TenantInfo, TenantKind
from runtime.http.app import PlatformDep, PrincipalDep
from runtime.http.auth import Role
from runtime.http.commands import MAX_ITEMS, CommandRunner, Strict
from runtime.http.fields import NonBlank, Version
from runtime.http.problems import Problem

router = APIRouter(prefix="/tenancy", tags=["tenancy"])
KeyPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="tenant key")]


class RegisterTenant(Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["rheine"])
    name: NonBlank = Field(min_length=1, max_length=200, examples=["Stadt Rheine"])
    kind: TenantKind
    parent: str | None = Field(
        default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["kreis-steinfurt"]
    )
    ags: str | None = Field(default=None, pattern=r"^\d{2,8}$", examples=["05566076"])


class RenameTenant(Strict):
    name: NonBlank = Field(min_length=1, max_length=200)
    expected_version: Version = None


class AssignOffices(Strict):
    holder: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["staedteregion-aachen"])
    offices: list[Office] = Field(min_length=1, max_length=MAX_ITEMS)
    expected_version: Version = None


class TenantView(BaseModel):
    key: str
    name: str
    kind: TenantKind
    parent: str | None
    ags: str | None
    offices_held_by: dict[str, str]
    children: list[str]

    @classmethod
    def of(cls, info: TenantInfo, children: list[str]) -> TenantView:
        return cls(
            key=info.key,
            name=info.name,
            kind=info.kind,
            parent=info.parent,
            ags=info.ags,
            offices_held_by=info.offices_held_by,
            children=children,
        )


def _admin(
    request: Request, platform: PlatformDep, principal: PrincipalDep
) -> CommandRunner[TenancyApplication]:
    if Role.PLATFORM_ADMIN not in principal.roles:
        raise Problem(403, "role-not-allowed", "only a platform_admin may change the registry")
    return CommandRunner(request, platform, principal, platform.tenancy)


Admin = Annotated[CommandRunner[TenancyApplication], Depends(_admin)]


@router.get("/tenants", summary="All registered tenants")
def list_tenants(platform: PlatformDep, principal: PrincipalDep) -> list[TenantView]:
    directory = platform.directory(refresh=True)
    return [TenantView.of(t, directory.children(t.key)) for t in directory.tenants.values()]


@router.get("/tenants/{key}", summary="One tenant")
def get_tenant(key: KeyPath, platform: PlatformDep, principal: PrincipalDep) -> TenantView:
    directory = platform.directory(refresh=True)  # the registry answers with what is stored
    info = platform.tenant(key)
    return TenantView.of(info, directory.children(key))


@router.post("/tenants", status_code=201, summary="Register a tenant (platform_admin)")
def register_tenant(body: RegisterTenant, cmd: Admin) -> JSONResponse:
    return cmd.run(
        "register_tenant",
        body,
        lambda: cmd.app.register_tenant(body.key, body.name, body.kind, body.parent, body.ags),
        status=201,
    )


@router.post("/tenants/{key}/rename", summary="Rename a tenant (platform_admin)")
def rename_tenant(key: KeyPath, body: RenameTenant, cmd: Admin) -> JSONResponse:
    cmd.platform.tenant(key)
    return cmd.run(
        "rename_tenant",
        body,
        lambda: cmd.app.rename_tenant(key, body.name, body.expected_version),
    )


@router.post(
    "/tenants/{key}/offices", summary="Record that another tenant holds offices of this one"
)
def assign_offices(key: KeyPath, body: AssignOffices, cmd: Admin) -> JSONResponse:
    cmd.platform.tenant(key)
    return cmd.run(
        "assign_offices",
        body,
        lambda: cmd.app.assign_offices(key, body.holder, list(body.offices), body.expected_version),
    )

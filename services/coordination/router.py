"""REST API of the coordination context."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from contexts.coordination.domain import OfficeType, OrganisationKind
from runtime.http.fields import NonBlank, Version, all_of, requires_when
from services.coordination.deps import Command, Reader, Strict

router = APIRouter(prefix="/coordination/tenants/{tenant}", tags=["coordination"])


class RegisterOrganisation(Strict):
    """An office names its office type, any other organisation none (the schema says it)."""

    model_config = ConfigDict(
        json_schema_extra=all_of(
            requires_when(
                "kind",
                OrganisationKind.OFFICE.value,
                {"required": ["office_type"], "properties": {"office_type": {"type": "string"}}},
            ),
            *(
                requires_when("kind", kind.value, {"properties": {"office_type": {"type": "null"}}})
                for kind in OrganisationKind
                if kind is not OrganisationKind.OFFICE
            ),
        )
    )
    name: NonBlank = Field(min_length=1, max_length=200, examples=["Lernen fördern e.V."])
    kind: OrganisationKind
    office_type: OfficeType | None = None


class RenameOrganisation(Strict):
    name: NonBlank = Field(min_length=1, max_length=200)
    expected_version: Version = None


class CloseOrganisation(Strict):
    expected_version: Version = None


class OrganisationView(BaseModel):
    id: UUID
    version: int
    name: str
    kind: OrganisationKind
    office_type: OfficeType | None
    active: bool


@router.post("/organisations", status_code=201, summary="Register an organisation")
def register_organisation(
    body: RegisterOrganisation,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "register_organisation",
        body,
        lambda: cmd.app.register_organisation(body.name, body.kind, body.office_type),
        status=201,
    )


@router.post("/organisations/{organisation_id}/rename", summary="Rename an organisation")
def rename_organisation(
    organisation_id: UUID,
    body: RenameOrganisation,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "rename_organisation",
        body,
        lambda: cmd.app.rename_organisation(organisation_id, body.name, body.expected_version),
    )


@router.post("/organisations/{organisation_id}/close", summary="Close an organisation")
def close_organisation(
    organisation_id: UUID,
    body: CloseOrganisation,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "close_organisation",
        body,
        lambda: cmd.app.close_organisation(organisation_id, body.expected_version),
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

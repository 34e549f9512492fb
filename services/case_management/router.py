"""REST API of case management: settings, caseload figures and people (personal data)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contexts.case_management.domain import ApprovalStep
from contexts.case_management.people import ConsentPurpose, Person, Programme
from contexts.case_management.retention import DataType
from contexts.case_management.settings import OverLimit
from runtime.http.auth import Access, Role, authorize
from runtime.http.commands import MAX_ITEMS, Strict
from runtime.http.fields import JSON_INTEGER, TWO_SIGNS, IsoDate, NonBlank, Version
from services.case_management import reads
from services.case_management.access import COORDINATORS, STAFF, Work
from services.case_management.case_models import RECIPIENT_KEY

router = APIRouter(prefix="/case_management/tenants/{tenant}", tags=["case management"])
FIGURE_READERS = {
    Role.CASE_MANAGER,
    Role.COORDINATOR,
    Role.DISTRICT_COORDINATOR,
    Role.STEERING_MEMBER,
    Role.AUDITOR,
}
Text = Annotated[NonBlank, Field(min_length=1, max_length=200)]
Recipient = Annotated[
    NonBlank,
    Field(
        min_length=1,
        max_length=100,
        pattern=RECIPIENT_KEY,
        description="an identifier (tenant, organisation or service key), no free text",
        examples=["rheine", "jmd-rheine", "jobcenter"],
    ),
]


# -- settings ----------------------------------------------------------------------------
class SettingsBody(Strict):
    target_group_years: int = Field(default=5, ge=1, le=10)
    caseload_limit_per_fte: int = Field(default=120, ge=100, le=1000)
    over_limit: OverLimit = OverLimit.REFUSE
    approvals: list[ApprovalStep] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="steps the supervising post must approve",
    )
    retention_years: dict[DataType, Annotated[int, Field(ge=0, le=30), JSON_INTEGER] | None] = (
        Field(
            default_factory=dict,
            max_length=MAX_ITEMS,
            description="years after the last closure; null keeps the data (not for personal data)",
            json_schema_extra={
                "properties": {
                    DataType.PERSONAL_DATA.value: {"type": "integer", "minimum": 0, "maximum": 30}
                }
            },
        )
    )
    expected_version: Version = None


class SettingsView(BaseModel):
    version: int | None
    target_group_years: int
    caseload_target_per_fte: int
    caseload_limit_per_fte: int
    over_limit: OverLimit
    approvals: list[ApprovalStep]
    retention_years: dict[str, int | None]


@router.get("/settings", summary="The tenant's case-management settings")
def get_settings(work: Work) -> SettingsView:
    work.own_tenant(STAFF)
    policy = work.app.policy()
    return SettingsView(
        version=work.app.settings_version(),
        target_group_years=policy.target_group_years,
        caseload_target_per_fte=policy.caseload_target_per_fte,
        caseload_limit_per_fte=policy.caseload_limit_per_fte,
        over_limit=policy.over_limit,
        approvals=sorted(policy.approvals),
        retention_years={str(k): v for k, v in policy.retention.years.items()},
    )


@router.put("/settings", summary="Configure target group, caseload limit, approvals, retention")
def put_settings(body: SettingsBody, work: Work) -> JSONResponse:
    work.own_tenant(COORDINATORS)
    return work.run(
        "configure",
        body,
        lambda: work.app.configure(
            target_group_years=body.target_group_years,
            caseload_limit_per_fte=body.caseload_limit_per_fte,
            over_limit=body.over_limit,
            approvals=body.approvals,
            retention_years={k.value: v for k, v in body.retention_years.items()},
            expected_version=body.expected_version,
        ),
    )


# -- caseload ----------------------------------------------------------------------------
class CaseloadView(BaseModel):
    position_id: UUID
    open_cases: int
    cases_per_fte: Decimal
    target_per_fte: int
    limit_per_fte: int


@router.get("/positions/{position_id}/caseload", summary="Open cases of a position per FTE")
def caseload(position_id: UUID, work: Work) -> CaseloadView:
    authorize(
        work.principal,
        work.app.tenant,
        work.platform.directory(),
        roles=FIGURE_READERS,
        access=Access.AGGREGATE,
    )
    open_cases, per_fte = work.app.caseload(position_id)
    policy = work.app.policy()
    return CaseloadView(
        position_id=position_id,
        open_cases=open_cases,
        cases_per_fte=per_fte,
        target_per_fte=policy.caseload_target_per_fte,
        limit_per_fte=policy.caseload_limit_per_fte,
    )


# -- people ------------------------------------------------------------------------------
class PersonalData(Strict):
    """The minimum a case needs; everything is sealed under the person's own key."""

    name: NonBlank = Field(min_length=1, max_length=200, examples=["Lina S."])
    date_of_birth: date | None = None
    contact: str | None = Field(default=None, max_length=200)
    languages: list[Annotated[str, Field(min_length=2, max_length=20, pattern=TWO_SIGNS)]] = Field(
        default_factory=list, max_length=MAX_ITEMS, examples=[["uk", "ru"]]
    )
    nationality: str | None = Field(default=None, max_length=60)
    residence_status: str | None = Field(default=None, max_length=100)
    arrival_on: date | None = Field(default=None, description="arrival in Germany")

    def sealed_fields(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class RegisterPerson(Strict):
    personal_data: PersonalData


class CorrectPerson(Strict):
    personal_data: PersonalData


class GiveConsent(Strict):
    purpose: ConsentPurpose
    recipient: Recipient
    given_on: date
    expires_on: date | None = None


class RevokeConsent(Strict):
    purpose: ConsentPurpose
    recipient: Recipient
    revoked_on: date


class RecordParticipation(Strict):
    programme: Programme
    start: date
    end: date | None = None


class Erase(Strict):
    on: date
    now: bool = Field(
        default=False,
        description="final at once: a new key epoch, so copies of the key in old pages, WAL"
        " and backups no longer unwrap (else within KIM_ERASURE_ROTATION_HOURS)",
    )


class ConsentView(BaseModel):
    purpose: ConsentPurpose
    recipient: str
    given_on: date
    expires_on: date | None
    revoked_on: date | None


class ParticipationView(BaseModel):
    programme: Programme
    start: date
    end: date | None


class PersonView(BaseModel):
    id: UUID
    version: int
    personal_data: dict[str, Any] | None = Field(description="null after erasure")
    erased_on: date | None
    consents: list[ConsentView]
    participations: list[ParticipationView]
    cases: list[UUID]

    @classmethod
    def of(cls, person: Person, data: dict[str, Any] | None) -> PersonView:
        return cls(
            id=person.id,
            version=person.version,
            personal_data=data,
            erased_on=person.erased_on,
            consents=[ConsentView(**vars(c)) for c in person.consents],
            participations=[ParticipationView(**vars(p)) for p in person.participations],
            cases=list(person.cases),
        )


@router.post("/people", status_code=201, summary="Register a person (personal data sealed)")
def register_person(body: RegisterPerson, work: Work) -> JSONResponse:
    position = work.position()
    return work.run(
        "register_person",
        body,
        lambda: work.app.register_person(
            {k: v for k, v in body.personal_data.sealed_fields().items() if k != "arrival_on"},
            body.personal_data.arrival_on,
            registered_by=position,
        ),
        status=201,
    )


@router.get("/people/due-for-erasure", summary="People whose retention period has passed")
def due_for_erasure(work: Work, today: IsoDate | None = None) -> list[UUID]:
    work.own_tenant(COORDINATORS)
    return work.app.due_for_erasure(today or date.today())


@router.get("/people/{person_id}", summary="A person with personal data (assigned/supervising)")
def get_person(person_id: UUID, work: Work) -> PersonView:
    """Recorded in the tenant's access log (who, which fields, why) before it goes out."""
    today = date.today()
    work.personal_data_of_person(person_id, today)
    person, data = work.app.get_person(person_id), work.app.personal_data(person_id)
    given = [*(data or {}), *(["consents"] if person.consents else [])]
    given += ["participations"] if person.participations else []
    reads.record(work, [reads.person_read(work, person_id, given, today)])
    return PersonView.of(person, data)


def _person_writer(work: Work, person_id: UUID) -> None:
    work.position()
    work.personal_data_of_person(person_id, date.today())


@router.put("/people/{person_id}/personal-data", summary="Correct the personal data")
def correct_person(person_id: UUID, body: CorrectPerson, work: Work) -> JSONResponse:
    _person_writer(work, person_id)
    return work.run(
        "correct_personal_data",
        body,
        lambda: work.app.correct_personal_data(person_id, body.personal_data.sealed_fields()),
    )


@router.post("/people/{person_id}/consents", summary="Record a consent (purpose, recipient)")
def give_consent(person_id: UUID, body: GiveConsent, work: Work) -> JSONResponse:
    _person_writer(work, person_id)
    return work.run(
        "give_consent",
        body,
        lambda: work.app.give_consent(
            person_id,
            purpose=body.purpose,
            recipient=body.recipient,
            given_on=body.given_on,
            expires_on=body.expires_on,
        ),
    )


@router.post("/people/{person_id}/consents/revocation", summary="Revoke a consent")
def revoke_consent(person_id: UUID, body: RevokeConsent, work: Work) -> JSONResponse:
    _person_writer(work, person_id)
    return work.run(
        "revoke_consent",
        body,
        lambda: work.app.revoke_consent(
            person_id, purpose=body.purpose, recipient=body.recipient, revoked_on=body.revoked_on
        ),
    )


@router.post("/people/{person_id}/participations", summary="Participation in another programme")
def record_participation(person_id: UUID, body: RecordParticipation, work: Work) -> JSONResponse:
    _person_writer(work, person_id)
    return work.run(
        "record_participation",
        body,
        lambda: work.app.record_participation(
            person_id, programme=body.programme, start=body.start, end=body.end
        ),
    )


@router.post("/people/{person_id}/erasure", summary="Erase the person (crypto-shredding)")
def erase_person(person_id: UUID, body: Erase, work: Work) -> JSONResponse:
    """The case manager who may see the person, or the tenant's coordination post (as the
    deletion concept's responsible post); destroys the person's key.

    Idempotent and complete: a retry after a failed attempt (``PersonErased`` recorded, the
    key or the idempotency records not yet gone) finishes the erasure before anything is
    replayed, and answers 200 with the first attempt's outcome.
    """
    if not (work.principal.tenant == work.app.tenant and work.principal.roles & COORDINATORS):
        _person_writer(work, person_id)
    work.app.complete_erasure(person_id)  # a replayed answer must not skip what is left
    response = work.run("erase_person", body, lambda: work.app.erase_person(person_id, body.on))
    if body.now and response.status_code == 200:
        _final_now(work, response)
    return response


def _final_now(work: Work, response: JSONResponse) -> None:
    """``now``: a new key epoch at once (ADR 0006); the answer names it (``KIM-Key-Epoch``),
    or says the batch finishes it (``KIM-Key-Rotation: deferred``, another rotation ran on)."""
    from runtime.key_epochs import RotationBusy, finish_erasures

    platform = work.platform
    try:
        rotation = finish_erasures(platform.store, platform.keys)
    except RotationBusy:
        response.headers["KIM-Key-Rotation"] = "deferred"
        return
    epoch = rotation.epoch if rotation is not None else platform.keys.epochs()[-1]
    response.headers["KIM-Key-Epoch"] = str(epoch)

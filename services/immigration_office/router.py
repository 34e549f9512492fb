"""REST API of the immigration office: people (sealed data), procedures, checks, due list.

Thin handlers: a strict body, one access check (the office's own staff), one application
call through ``work.run`` (Idempotency-Key, ``expected_version``), problems for every
refusal (forbidden transition, rule not met, wrong tenant), nothing appended on refusal.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from contexts.audit.application import Channel, Purpose, Read
from contexts.immigration_office.responsibility import WrongTenant
from contexts.immigration_office.states import State
from runtime.http.commands import Strict
from runtime.http.fields import Version
from runtime.http.problems import Problem
from runtime.http.reads import MAX_PAGE, caught_up, next_link
from services.audit import trail
from services.immigration_office.access import OfficeWork, Work
from services.immigration_office.models import (
    DueView,
    Erase,
    HandOver,
    OpenProcedure,
    PersonView,
    ProcedureRow,
    ProcedureView,
    Recipient,
    RecordCheck,
    RegisterPerson,
    TakeStep,
)

CONTEXT = "immigration_office"
router = APIRouter(prefix=f"/{CONTEXT}/tenants/{{tenant}}", tags=["immigration office"])
MAX_DUE_DAYS = 731


def _record_read(work: OfficeWork, person_id: UUID, fields: list[str], on: UUID | None) -> None:
    """Personal data given out is recorded in the tenant's access log first (503 if not)."""
    if fields:
        read = Read(person_id, tuple(sorted(fields)), Purpose.PROCEDURE, on)
        trail.record_reads(work.platform, work.principal, work.app.tenant, [read], Channel.REST)


# -- people ------------------------------------------------------------------------------
@router.post("/people", status_code=201, summary="Register a person (personal data sealed)")
def register_person(body: RegisterPerson, work: Work) -> JSONResponse:
    work.officer()
    data = body.personal_data.model_dump(mode="json", exclude_none=True)
    return work.run(
        "register_person",
        body,
        lambda: work.app.register_person(data, registered_by=work.principal.position),
        status=201,
    )


@router.get("/people/{person_id}", summary="A person with personal data (the office's staff)")
def get_person(person_id: UUID, work: Work) -> PersonView:
    """Recorded in the tenant's access log (who, which fields, why) before it goes out."""
    work.officer()
    person, data = work.app.get_person(person_id), work.app.personal_data(person_id)
    _record_read(work, person_id, list(data or {}), None)
    return PersonView(
        id=person.id,
        version=person.version,
        personal_data=data,
        erased_on=person.erased_on,
        procedures=list(person.procedures),
    )


@router.post("/people/{person_id}/erasure", summary="Erase the person (crypto-shredding)")
def erase_person(person_id: UUID, body: Erase, work: Work) -> JSONResponse:
    work.officer()
    return work.run("erase_person", body, lambda: work.app.erase_person(person_id, body.on))


ConsentPurpose = Literal["referral", "hand_over"]


class GiveConsent(Strict):
    recipient: Recipient
    given_on: date
    expires_on: date | None = None
    purpose: ConsentPurpose = Field(
        default="referral", description="referral to case management, or hand_over to an office"
    )


class RevokeConsent(Strict):
    recipient: Recipient
    revoked_on: date
    purpose: ConsentPurpose = "referral"


@router.post(
    "/people/{person_id}/consents",
    summary="Consent to a referral to case management or to a hand-over",
)
def give_consent(person_id: UUID, body: GiveConsent, work: Work) -> JSONResponse:
    work.officer()
    return work.run(
        "give_consent",
        body,
        lambda: work.app.give_consent(
            person_id,
            recipient=body.recipient,
            given_on=body.given_on,
            expires_on=body.expires_on,
            purpose=body.purpose,
        ),
    )


@router.post("/people/{person_id}/consents/revocation", summary="Revoke a consent")
def revoke_consent(person_id: UUID, body: RevokeConsent, work: Work) -> JSONResponse:
    work.officer()
    return work.run(
        "revoke_consent",
        body,
        lambda: work.app.revoke_consent(
            person_id, recipient=body.recipient, revoked_on=body.revoked_on, purpose=body.purpose
        ),
    )


# -- procedures --------------------------------------------------------------------------
@router.post("/procedures", status_code=201, summary="Open a procedure (counselling)")
def open_procedure(body: OpenProcedure, work: Work) -> JSONResponse:
    """Only in the tenant whose office is responsible for where the person lives; elsewhere
    a 422 ``wrong-tenant`` naming the ``responsible`` tenant."""
    work.officer()
    try:
        return work.run(
            "open_procedure",
            body,
            lambda: work.app.open_procedure(
                body.person_id,
                legal_basis=body.legal_basis,
                residence=body.residence,
                opened_on=body.opened_on,
                position_id=work.principal.position,
            ),
            status=201,
        )
    except WrongTenant as e:
        raise Problem(
            e.status,
            e.rule,
            e.detail,
            errors=[{"field": "residence", "reason": e.detail}],
            responsible=e.responsible,
        ) from None


@router.get(
    "/procedures",
    summary="The office's procedures, a page at a time (from the read model)",
    response_model=list[ProcedureRow],
)
def list_procedures(
    request: Request,
    work: Work,
    state: State | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after: UUID | None = None,
) -> JSONResponse:
    work.officer()
    tenant = work.app.tenant
    caught_up(request, work.platform, CONTEXT, tenant, CONTEXT)
    match: dict[str, list[str | None]] = {"state": [state.value]} if state else {}
    rows = work.platform.read.page(
        CONTEXT, tenant, "Procedure", match=match, after=str(after) if after else None, limit=limit
    )
    views = [
        ProcedureRow(
            id=UUID(r.key),
            person_id=UUID(str(r.doc["person_id"])),
            legal_basis=str(r.doc["legal_basis"]),
            state=str(r.doc["state"]),
            opened_on=str(r.doc["opened_on"]),
            applied_on=r.doc.get("applied_on"),
            decided_on=r.doc.get("decided_on"),
            outcome=r.doc.get("outcome"),
        ).model_dump(mode="json")
        for r in rows
    ]
    headers = next_link(request, rows[-1].key, len(rows), limit) if rows else {}
    return JSONResponse(views, headers=headers)


@router.get("/procedures/{procedure_id}", summary="A procedure: state, checks, requirements")
def get_procedure(procedure_id: UUID, work: Work) -> ProcedureView:
    """The checks' notes are free text about the person: opened for the office's staff and
    recorded in the access log."""
    work.officer()
    p = work.app.get_procedure(procedure_id)
    notes = [c for c in p.checks if c.note]
    if notes:
        _record_read(work, p.person_id, ["check_notes"], p.id)
    view = ProcedureView.of(
        p, work.app.open_requirements(p), lambda c: work.app.open_text(p.person_id, c.note)
    )
    return view


@router.post("/procedures/{procedure_id}/steps", summary="Take a step of the state machine")
def take_step(procedure_id: UUID, body: TakeStep, work: Work) -> JSONResponse:
    """A step the procedure's state does not allow is a 409 ``transition-not-allowed``
    naming the state and the step; a grant whose rule (the version valid on the application
    date) is not met is a 422 ``rule-not-met`` naming what is missing."""
    work.officer()
    return work.run(
        f"step_{body.step.value}",
        body,
        lambda: work.app.take_step(
            procedure_id,
            body.step,
            on=body.on,
            due_on=body.due_on,
            ceremony_on=body.ceremony_on,
            aims_at=body.aims_at,
            reason=body.reason,
            expected_version=body.expected_version,
        ),
    )


@router.post("/procedures/{procedure_id}/checks", summary="Record a check's result")
def record_check(procedure_id: UUID, body: RecordCheck, work: Work) -> JSONResponse:
    work.officer()
    return work.run(
        "record_check",
        body,
        lambda: work.app.record_check(
            procedure_id,
            check=body.check,
            passed=body.passed,
            on=body.on,
            level=body.level,
            note=body.note,
            expected_version=body.expected_version,
        ),
    )


class Refer(Strict):
    on: date
    to_tenant: Recipient | None = Field(
        default=None, description="defaults to the tenant responsible for the residence"
    )
    expected_version: Version = None


@router.post(
    "/procedures/{procedure_id}/referrals",
    status_code=201,
    summary="Refer the person to case management (with consent), naming open requirements",
)
def refer(procedure_id: UUID, body: Refer, work: Work) -> JSONResponse:
    work.officer()
    try:
        return work.run(
            "refer_to_case_management",
            body,
            lambda: work.app.refer_to_case_management(
                procedure_id, on=body.on, to_tenant=body.to_tenant,
                expected_version=body.expected_version,
            ),
            status=201,
        )  # fmt: skip
    except WrongTenant as e:
        raise Problem(e.status, e.rule, e.detail, responsible=e.responsible) from None


@router.post(
    "/procedures/{procedure_id}/hand-over",
    summary="Hand the procedure over: the person moved to another office's area",
)
def hand_over(procedure_id: UUID, body: HandOver, work: Work) -> JSONResponse:
    """Needs the person's consent (purpose ``hand_over``, recipient ``to_tenant``) and a
    ``to_tenant`` whose office is responsible for the new ``residence`` (else 422
    ``wrong-tenant`` naming the ``responsible`` tenant); from a final state 409. The origin's
    procedure ends as ``handed_over``; the destination's office takes it over from the bus."""
    work.officer()
    try:
        return work.run(
            "hand_over",
            body,
            lambda: work.app.hand_over(
                procedure_id, to_tenant=body.to_tenant, residence=body.residence, on=body.on,
                expected_version=body.expected_version,
            ),
        )  # fmt: skip
    except WrongTenant as e:
        raise Problem(e.status, e.rule, e.detail, responsible=e.responsible) from None


# -- deadlines ---------------------------------------------------------------------------
@router.get("/due", summary="What is due within N days (overdue first): permits, documents")
def due(
    work: Work,
    within_days: Annotated[int, Query(ge=0, le=MAX_DUE_DAYS)] = 30,
    today: date | None = None,
    position_id: Annotated[UUID | None, Query(description="one officer's position only")] = None,
) -> list[DueView]:
    """From the index of due dates kept with the events, not by loading every procedure;
    with ``position_id`` only the procedures opened on that Baustein 3 position."""
    work.officer()
    day = today or date.today()
    return [
        DueView(
            procedure_id=i.procedure_id,
            person_id=i.person_id,
            legal_basis=i.legal_basis,
            state=i.state,
            due_on=i.due_on,
            days_left=(i.due_on - day).days,
            what=i.what,
            open_requirements=i.open_requirements,
            position_id=i.position_id,
        )
        for i in work.app.due(day, within_days)
        if position_id is None or i.position_id == position_id
    ]

"""REST API of the work in a case: referrals, assignment, appointments, contacts, notes, gaps,
integration achievements and transfer. The case's cycle (opening, steps, closure,
approvals) is in ``cases_router``.

Commands on a case belong to the case manager of the position it is assigned to; releasing
a gap's description to the post supervising that position; assignment also to the tenant's
coordinators (see ``assign``). Every refusal is a problem response and appends nothing.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from contexts.case_management.contracts import INTAKE_ACHIEVEMENT_SHARED
from contexts.shared.errors import DomainError
from contexts.tenancy.contracts import TenantKind
from runtime.http.fields import MAX_INDEX
from services.case_management.access import Work
from services.case_management.case_models import (
    AddNote,
    AnswerReferral,
    Assign,
    CompleteReferral,
    ProposeReferral,
    RecordAchievement,
    RecordAppointment,
    RecordContact,
    ReleaseGap,
    ReportGap,
    ScheduleAppointment,
    Transfer,
)

router = APIRouter(prefix="/case_management/tenants/{tenant}", tags=["case management: cases"])
Index = Annotated[int, Path(ge=0, le=MAX_INDEX, description="the entry's place in the case's list")]


@router.post("/cases/{case_id}/referrals", summary="Propose a referral (needs consent)")
def propose_referral(case_id: UUID, body: ProposeReferral, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "propose_referral",
        body,
        lambda: work.app.propose_referral(
            case_id,
            service=body.service,
            recipient=body.recipient,
            on=body.on,
            expected_version=body.expected_version,
        ),
    )


@router.post("/cases/{case_id}/referrals/{index}/answer", summary="Referral accepted/rejected")
def answer_referral(case_id: UUID, index: Index, body: AnswerReferral, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "answer_referral",
        body,
        lambda: work.app.answer_referral(
            case_id,
            index=index,
            accepted=body.accepted,
            on=body.on,
            expected_version=body.expected_version,
        ),
    )


@router.post("/cases/{case_id}/referrals/{index}/completion", summary="Referral completed")
def complete_referral(
    case_id: UUID, index: Index, body: CompleteReferral, work: Work
) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "complete_referral",
        body,
        lambda: work.app.complete_referral(
            case_id,
            index=index,
            outcome=body.outcome,
            on=body.on,
            expected_version=body.expected_version,
        ),
    )


@router.post("/cases/{case_id}/assignment", summary="Assign the case to a position")
def assign(case_id: UUID, body: Assign, work: Work) -> JSONResponse:
    """A coordinator of the tenant who may read the case (its post while it is unassigned,
    the supervisor of its position), or the case manager of the assigned position (handing
    the case to a colleague). No case manager takes an unassigned case: one taken over from
    another tenant waits, visible to the post's coordinators only, until they assign it."""
    work.case_assigner(case_id, date.today())
    warning = work.app.caseload_warning(body.position_id)
    return work.run(
        "assign_case",
        body,
        lambda: work.app.assign_case(
            case_id,
            position_id=body.position_id,
            on=body.on,
            expected_version=body.expected_version,
        ),
        warnings=[warning] if warning else None,
    )


@router.post("/cases/{case_id}/appointments", summary="Schedule an appointment")
def schedule_appointment(case_id: UUID, body: ScheduleAppointment, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "schedule_appointment",
        body,
        lambda: work.app.schedule_appointment(
            case_id, on=body.on, kind=body.kind, expected_version=body.expected_version
        ),
    )


@router.post("/cases/{case_id}/appointments/{index}", summary="Appointment kept/missed/cancelled")
def record_appointment(
    case_id: UUID, index: Index, body: RecordAppointment, work: Work
) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "record_appointment",
        body,
        lambda: work.app.record_appointment(
            case_id, index=index, outcome=body.outcome, expected_version=body.expected_version
        ),
    )


@router.post("/cases/{case_id}/contacts", summary="Record a contact")
def record_contact(case_id: UUID, body: RecordContact, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "record_contact",
        body,
        lambda: work.app.record_contact(
            case_id,
            on=body.on,
            channel=body.channel,
            life_dimensions=body.life_dimensions,
            expected_version=body.expected_version,
        ),
    )


@router.post("/cases/{case_id}/notes", summary="Add a note (sealed under the person's key)")
def add_note(case_id: UUID, body: AddNote, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "add_note",
        body,
        lambda: work.app.add_note(
            case_id, on=body.on, text=body.text, expected_version=body.expected_version
        ),
    )


@router.post("/cases/{case_id}/gaps", summary="Report a gap in the system (to coordination)")
def report_gap(case_id: UUID, body: ReportGap, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "report_gap",
        body,
        lambda: work.app.report_gap(
            case_id,
            life_dimension=body.life_dimension,
            description=body.description,
            on=body.on,
            expected_version=body.expected_version,
        ),
    )


@router.post(
    "/cases/{case_id}/gaps/{index}/release",
    summary="Release a gap's reviewed description to coordination (supervising post)",
)
def release_gap(case_id: UUID, index: Index, body: ReleaseGap, work: Work) -> JSONResponse:
    """The case manager's description stays sealed; coordination's system gap gets a
    description only as the post supervising the case's position (who sees its personal
    data, as for approvals) reviewed and released it. Checked for personal data
    (``personal-data-in-text``, ``personal-data-in-gap``); nothing appended if refused."""
    work.supervising_post(case_id, body.on)
    return work.run(
        "release_gap",
        body,
        lambda: work.app.release_gap(
            case_id,
            index=index,
            description=body.description,
            on=body.on,
            expected_version=body.expected_version,
        ),
    )


@router.post(
    "/cases/{case_id}/achievements",
    summary="Record an integration achievement (shared with an office only under consent)",
)
def record_achievement(case_id: UUID, body: RecordAchievement, work: Work) -> JSONResponse:
    """Recorded on the case whether or not any consent exists. In the same transaction it
    is shared (``IntakeRequestAchievementShared``) on each accepted intake request of the
    person whose office their consent for ``achievements`` covers on ``on``; without it,
    or after its revocation, nothing crosses. ``shared_with``: the offices' tenants."""
    work.case_worker(case_id)
    response = work.run(
        "record_achievement",
        body,
        lambda: work.app.record_achievement(
            case_id, kind=body.kind, level=body.level, achieved_on=body.achieved_on,
            on=body.on, expected_version=body.expected_version,
        ).recordings,
    )  # fmt: skip
    outcome = json.loads(bytes(response.body))
    shared = {e["aggregate_id"] for e in outcome.get("events", [])
              if e["type"] == INTAKE_ACHIEVEMENT_SHARED}  # fmt: skip
    outcome["shared_with"] = sorted({work.app.get_intake(UUID(r)).office for r in shared})
    headers = {k: v for k, v in response.headers.items() if k.startswith("kim-")
               or k == "idempotent-replayed"}  # fmt: skip
    return JSONResponse(outcome, status_code=response.status_code, headers=headers)


@router.post("/cases/{case_id}/transfer", summary="Hand the case over: the person moved")
def transfer(case_id: UUID, body: Transfer, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    destination = work.platform.directory().get(body.to_tenant)
    if destination is None or destination.kind == TenantKind.STATE_PROGRAMME:
        raise DomainError(
            "unknown-destination",
            f"{body.to_tenant} is not a tenant that runs case management",
            field="to_tenant",
        )
    return work.run(
        "hand_over",
        body,
        lambda: work.app.hand_over(
            case_id,
            to_tenant=body.to_tenant,
            on=body.on,
            expected_version=body.expected_version,
        ),
    )

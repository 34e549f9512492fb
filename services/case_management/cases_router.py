"""REST API of the case cycle: intake to closure, approvals, referrals, monitoring, transfer.

Commands on a case belong to the case manager of the position it is assigned to; approvals
to the post supervising that position. Every refusal is a problem response and appends
nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contexts.case_management.domain import (
    LIFE_DIMENSIONS,
    AppointmentOutcome,
    ApprovalStep,
    Case,
    CaseState,
    ClosureReason,
    ContactChannel,
    ReferralSource,
    Service,
)
from contexts.shared.errors import DomainError
from contexts.tenancy.contracts import TenantKind
from services.case_management.access import COORDINATORS, STAFF, Work
from services.runtime.http.commands import Strict

router = APIRouter(prefix="/case_management/tenants/{tenant}", tags=["case management: cases"])

Level = Annotated[str, Field(min_length=1, max_length=40, examples=["high"])]
Code = Annotated[str, Field(min_length=1, max_length=200)]
Version = Annotated[int | None, Field(default=None, ge=1)]
LIFE_DIMENSIONS_DOC = ", ".join(LIFE_DIMENSIONS)


class CaseCommand(Strict):
    expected_version: Version = None


class OpenCase(Strict):
    person_id: UUID
    referral_source: ReferralSource
    opened_on: date
    catch_up_reason: str | None = Field(default=None, max_length=500)
    double_funding_reason: str | None = Field(default=None, max_length=500)
    position_id: UUID | None = Field(
        default=None, description="defaults to the case manager's own position (token claim)"
    )


class Assess(CaseCommand):
    needs: dict[str, Level] = Field(
        description=f"life dimension -> need level; dimensions: {LIFE_DIMENSIONS_DOC}",
        examples=[{"language": "high", "housing": "medium"}],
    )
    on: date


class AgreeGoals(CaseCommand):
    goals: dict[str, Code] = Field(
        description="life dimension -> goal (no personal data)",
        examples=[{"language": "B1 course started", "housing": "own flat"}],
    )
    on: date


class Step(CaseCommand):
    on: date


class Close(CaseCommand):
    reason: ClosureReason
    on: date


class Decide(CaseCommand):
    step: ApprovalStep
    approved: bool
    on: date
    reason: str = Field(default="", max_length=500, description="needed for a refusal")


class ProposeReferral(CaseCommand):
    service: Service
    recipient: str = Field(min_length=1, max_length=100, examples=["jmd-rheine"])
    on: date


class AnswerReferral(CaseCommand):
    accepted: bool
    on: date


class CompleteReferral(CaseCommand):
    outcome: str = Field(min_length=1, max_length=200, examples=["B1 course place from May"])
    on: date


class Assign(CaseCommand):
    position_id: UUID
    on: date


class ScheduleAppointment(CaseCommand):
    on: date
    kind: str = Field(min_length=1, max_length=60, examples=["follow_up"])


class RecordAppointment(CaseCommand):
    outcome: AppointmentOutcome


class RecordContact(CaseCommand):
    on: date
    channel: ContactChannel
    life_dimensions: list[str] = Field(default_factory=list, examples=[["language"]])


class AddNote(CaseCommand):
    on: date
    text: str = Field(min_length=1, max_length=5000)


class ReportGap(CaseCommand):
    life_dimension: str = Field(examples=["education"])
    description: str = Field(min_length=1, max_length=1000)
    on: date


class Transfer(CaseCommand):
    to_tenant: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["emsdetten"])
    on: date


class StepView(BaseModel):
    state: CaseState
    on: date


class CaseView(BaseModel):
    """A case's facts: pseudonymous, no personal data (notes are read separately)."""

    id: UUID
    version: int
    person_id: UUID
    state: CaseState
    referral_source: ReferralSource
    opened_on: date
    catch_up_reason: str | None
    position_id: UUID | None
    needs: dict[str, str]
    goals: dict[str, str]
    pending_approval: ApprovalStep | None
    approvals: list[dict[str, str | bool]]
    referrals: list[dict[str, str | bool]]
    appointments: list[dict[str, str]]
    contacts: list[dict[str, str | list[str]]]
    notes: int
    gaps: list[dict[str, str]]
    history: list[StepView]
    closure_reason: ClosureReason | None
    closed_on: date | None
    other_programmes: list[str]
    transferred_to: str | None
    transferred_from: str | None

    @classmethod
    def of(cls, c: Case) -> CaseView:
        return cls(
            id=c.id,
            version=c.version,
            person_id=c.person_id,
            state=c.state,
            referral_source=c.referral_source,
            opened_on=c.opened_on,
            catch_up_reason=c.catch_up_reason,
            position_id=c.position_id,
            needs=c.needs,
            goals=c.goals,
            pending_approval=c.pending_approval,
            approvals=c.approvals,
            referrals=c.referrals,
            appointments=c.appointments,
            contacts=c.contacts,
            notes=len(c.notes),
            gaps=c.gaps,
            history=[StepView(state=s, on=d) for s, d in c.history],
            closure_reason=c.closure[0] if c.closure else None,
            closed_on=c.closure[1] if c.closure else None,
            other_programmes=c.other_programmes[0] if c.other_programmes else [],
            transferred_to=c.transferred_to,
            transferred_from=c.transferred_from[0] if c.transferred_from else None,
        )


class NoteView(BaseModel):
    on: date
    text: str | None = Field(description="null after the person's erasure")


@router.post("/cases", status_code=201, summary="Open a case (Erstberatung)")
def open_case(body: OpenCase, work: Work) -> JSONResponse:
    work.position()
    work.personal_data_of_person(body.person_id, body.opened_on)
    position_id = body.position_id or work.principal.position
    warning = work.app.caseload_warning(position_id) if position_id else None
    return work.run(
        "open_case",
        body,
        lambda: work.app.open_case(
            body.person_id,
            referral_source=body.referral_source,
            opened_on=body.opened_on,
            catch_up_reason=body.catch_up_reason,
            double_funding_reason=body.double_funding_reason,
            position_id=position_id,
        ),
        status=201,
        warnings=[warning] if warning else None,
    )


@router.get("/cases", summary="The tenant's cases (case managers: their position's)")
def list_cases(
    work: Work, state: CaseState | None = None, position_id: UUID | None = None
) -> list[CaseView]:
    work.own_tenant(STAFF)
    if not work.principal.roles & COORDINATORS:
        position_id = work.position()  # a case manager lists the own position's cases
    return [
        CaseView.of(c)
        for c in work.app.cases()
        if (state is None or c.state == state)
        and (position_id is None or c.position_id == position_id)
    ]


@router.get("/cases/{case_id}", summary="A case's facts (no personal data)")
def get_case(case_id: UUID, work: Work) -> CaseView:
    return CaseView.of(work.case_reader(case_id, date.today()))


@router.get("/cases/{case_id}/notes", summary="Notes (personal: assigned and supervising only)")
def get_notes(case_id: UUID, work: Work) -> list[NoteView]:
    work.personal_data_of_case(case_id, date.today())
    return [NoteView(on=on, text=text) for on, text in work.app.notes(case_id)]


@router.post("/cases/{case_id}/assessment", summary="Needs and resources per life dimension")
def assess(case_id: UUID, body: Assess, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "assess",
        body,
        lambda: work.app.assess(
            case_id, needs=body.needs, on=body.on, expected_version=body.expected_version
        ),
    )


@router.post("/cases/{case_id}/goals", summary="Agree goals per life dimension")
def agree_goals(case_id: UUID, body: AgreeGoals, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "agree_goals",
        body,
        lambda: work.app.agree_goals(
            case_id, goals=body.goals, on=body.on, expected_version=body.expected_version
        ),
    )


@router.post("/cases/{case_id}/linking", summary="Start linking (Leistungssteuerung)")
def start_linking(case_id: UUID, body: Step, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "start_linking",
        body,
        lambda: work.app.start_linking(case_id, on=body.on, expected_version=body.expected_version),
    )


@router.post("/cases/{case_id}/monitoring", summary="Start monitoring")
def start_monitoring(case_id: UUID, body: Step, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "start_monitoring",
        body,
        lambda: work.app.start_monitoring(
            case_id, on=body.on, expected_version=body.expected_version
        ),
    )


@router.post("/cases/{case_id}/reassessment", summary="Re-assessment, back into planning")
def start_reassessment(case_id: UUID, body: Step, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "start_reassessment",
        body,
        lambda: work.app.start_reassessment(
            case_id, on=body.on, expected_version=body.expected_version
        ),
    )


@router.post("/cases/{case_id}/closure", summary="Close the case (approval if required)")
def close_case(case_id: UUID, body: Close, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "close_case",
        body,
        lambda: work.app.close_case(
            case_id, reason=body.reason, on=body.on, expected_version=body.expected_version
        ),
    )


@router.post("/cases/{case_id}/approvals", summary="The supervising post approves or refuses")
def decide(case_id: UUID, body: Decide, work: Work) -> JSONResponse:
    work.supervising_post(case_id, body.on)
    return work.run(
        "decide_approval",
        body,
        lambda: work.app.decide_approval(
            case_id,
            step=body.step,
            approved=body.approved,
            by_tenant=work.principal.tenant,
            on=body.on,
            reason=body.reason,
            expected_version=body.expected_version,
        ),
    )


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
def answer_referral(case_id: UUID, index: int, body: AnswerReferral, work: Work) -> JSONResponse:
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
    case_id: UUID, index: int, body: CompleteReferral, work: Work
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
    """The tenant's coordination post, or the case manager of the assigned position (handing
    the case to a colleague); an unassigned case may be taken by any case manager."""
    if work.principal.roles & COORDINATORS:
        work.own_tenant(COORDINATORS)
    else:
        position = work.position()
        current = work.app.get_case(case_id).position_id
        if current is not None and current != position:
            work.case_worker(case_id)  # raises not-assigned-to-you
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
    case_id: UUID, index: int, body: RecordAppointment, work: Work
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

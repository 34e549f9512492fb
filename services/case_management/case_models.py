"""Request bodies and views of the case API (no personal data in any of them)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

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
from runtime.http.commands import Strict

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


def case_view_of_row(doc: dict[str, Any]) -> CaseView:
    """The same view from the case's read-model document (``projections.documents``)."""
    closure = doc.get("closure") or [None, None]
    others = doc.get("other_programmes")
    origin = doc.get("transferred_from")
    return CaseView(
        id=doc["id"],
        version=doc["version"],
        person_id=doc["person_id"],
        state=doc["state"],
        referral_source=doc["referral_source"],
        opened_on=doc["opened_on"],
        catch_up_reason=doc.get("catch_up_reason"),
        position_id=doc.get("position_id"),
        needs=doc.get("needs") or {},
        goals=doc.get("goals") or {},
        pending_approval=doc.get("pending_approval"),
        approvals=doc.get("approvals") or [],
        referrals=doc.get("referrals") or [],
        appointments=doc.get("appointments") or [],
        contacts=doc.get("contacts") or [],
        notes=len(doc.get("notes") or []),
        gaps=doc.get("gaps") or [],
        history=[StepView(state=s, on=d) for s, d in doc.get("history") or []],
        closure_reason=closure[0],
        closed_on=closure[1],
        other_programmes=others[0] if others else [],
        transferred_to=doc.get("transferred_to"),
        transferred_from=origin[0] if origin else None,
    )


class NoteView(BaseModel):
    on: date
    text: str | None = Field(description="null after the person's erasure")

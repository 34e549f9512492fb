"""Request bodies and views of the case API.

Free text about the person (goals, reasons, outcomes, gap descriptions) is sealed under the
person's key before it is stored; a view opens it only for callers who may see the case's
personal data (``CaseView.of`` with the application's ``case_texts``), others and every list
get null. Everything else in a view is a code or a date, no personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from contexts.case_management.domain import (
    LIFE_DIMENSIONS,
    AppointmentKind,
    AppointmentOutcome,
    ApprovalStep,
    Case,
    CaseState,
    ClosureReason,
    ContactChannel,
    NeedLevel,
    ReferralSource,
    Service,
)
from runtime.http.commands import MAX_ITEMS, Strict
from runtime.http.fields import MAX_VERSION, NonBlank

Code = Annotated[NonBlank, Field(min_length=1, max_length=200)]
SEALED = "free text about the person: sealed under the person's key"
RECIPIENT_KEY = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
"""A recipient (of a referral, of a consent) is a key, never a name or an address."""
Version = Annotated[int | None, Field(default=None, ge=1, le=MAX_VERSION)]
LIFE_DIMENSIONS_DOC = ", ".join(LIFE_DIMENSIONS)


class CaseCommand(Strict):
    expected_version: Version = None


class OpenCase(Strict):
    person_id: UUID
    referral_source: ReferralSource
    opened_on: date
    catch_up_reason: str | None = Field(default=None, max_length=500, description=SEALED)
    double_funding_reason: str | None = Field(default=None, max_length=500, description=SEALED)
    position_id: UUID | None = Field(
        default=None, description="defaults to the case manager's own position (token claim)"
    )


class Assess(CaseCommand):
    needs: dict[str, NeedLevel] = Field(
        max_length=MAX_ITEMS,
        description=f"life dimension -> need level; dimensions: {LIFE_DIMENSIONS_DOC}",
        examples=[{"language": "high", "housing": "medium"}],
    )
    on: date


class AgreeGoals(CaseCommand):
    goals: dict[str, Code] = Field(
        max_length=MAX_ITEMS,
        description=f"life dimension -> goal; {SEALED}",
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
    reason: str = Field(default="", max_length=500, description=f"needed for a refusal; {SEALED}")


class ProposeReferral(CaseCommand):
    service: Service
    recipient: NonBlank = Field(
        min_length=1,
        max_length=100,
        pattern=RECIPIENT_KEY,
        description="an identifier (tenant, organisation or service key), no free text",
        examples=["jmd-rheine"],
    )
    on: date


class AnswerReferral(CaseCommand):
    accepted: bool
    on: date


class CompleteReferral(CaseCommand):
    outcome: NonBlank = Field(
        min_length=1, max_length=200, examples=["B1 course place from May"], description=SEALED
    )
    on: date


class Assign(CaseCommand):
    position_id: UUID
    on: date


class ScheduleAppointment(CaseCommand):
    on: date
    kind: AppointmentKind = Field(description="a code; details belong in a (sealed) note")


class RecordAppointment(CaseCommand):
    outcome: AppointmentOutcome


class RecordContact(CaseCommand):
    on: date
    channel: ContactChannel
    life_dimensions: list[str] = Field(
        default_factory=list, max_length=MAX_ITEMS, examples=[["language"]]
    )


class AddNote(CaseCommand):
    on: date
    text: NonBlank = Field(min_length=1, max_length=5000)


class ReportGap(CaseCommand):
    life_dimension: str = Field(examples=["education"])
    description: NonBlank = Field(
        min_length=1,
        max_length=1000,
        description="what is missing, without personal data (refused: the person's name,"
        " phone numbers, e-mail addresses, dates of birth, addresses, names); sealed under"
        " the person's key, it reaches coordination only as the supervising post releases it",
    )
    on: date


class ReleaseGap(CaseCommand):
    description: NonBlank = Field(
        min_length=1,
        max_length=1000,
        description="the gap's description as reviewed for coordination; checked for personal"
        " data, it goes to coordination in clear",
        examples=["Kein B1-Kurs mit Kinderbetreuung im Stadtgebiet"],
    )
    on: date


class Transfer(CaseCommand):
    to_tenant: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["emsdetten"])
    on: date


AchievementKind = Literal[
    "language_certificate", "integration_course", "naturalisation_test", "employment",
    "qualification",
]  # fmt: skip
Level = Literal["A1", "A2", "B1", "B2", "C1", "C2"]


class RecordAchievement(CaseCommand):
    kind: AchievementKind = Field(description="contracts.ACHIEVEMENT_KINDS")
    level: Level | None = Field(default=None, description="a language certificate's, only")
    achieved_on: date = Field(description="the certificate's or exam's date")
    on: date = Field(description="the day it is recorded")


class StepView(BaseModel):
    state: CaseState
    on: date


Opener = Callable[[str | None], str | None]


def _hidden(_: str | None) -> str | None:
    return None


class CaseView(BaseModel):
    """A case's facts, pseudonymous; its free texts (goals, reasons, outcomes, gap
    descriptions) only for those who see its personal data, else null; notes are read
    separately."""

    id: UUID
    version: int
    person_id: UUID
    state: CaseState
    referral_source: ReferralSource
    opened_on: date
    catch_up_reason: str | None
    position_id: UUID | None
    needs: dict[str, str]
    goals: dict[str, str | None]
    pending_approval: ApprovalStep | None
    approvals: list[dict[str, str | bool | None]]
    referrals: list[dict[str, str | bool | None]]
    appointments: list[dict[str, str]]
    contacts: list[dict[str, str | list[str]]]
    notes: int
    gaps: list[dict[str, str | None]]
    achievements: list[dict[str, str | None]] = Field(
        description="kind, level, achieved_on, on (recorded); codes and dates"
    )
    history: list[StepView]
    closure_reason: ClosureReason | None
    closed_on: date | None
    other_programmes: list[str]
    other_programmes_reason: str | None
    transferred_to: str | None
    transferred_from: str | None

    @classmethod
    def of(cls, c: Case, texts: Opener = _hidden) -> CaseView:
        """``texts`` opens the sealed free texts (``case_texts``); by default they are null."""
        return cls(
            id=c.id,
            version=c.version,
            person_id=c.person_id,
            state=c.state,
            referral_source=c.referral_source,
            opened_on=c.opened_on,
            catch_up_reason=texts(c.catch_up_reason),
            position_id=c.position_id,
            needs=c.needs,
            goals=opened_goals(c.goals, texts),
            pending_approval=c.pending_approval,
            approvals=opened_items(c.approvals, "reason", texts),
            referrals=opened_items(c.referrals, "outcome", texts),
            appointments=c.appointments,
            contacts=c.contacts,
            notes=len(c.notes),
            gaps=opened_gaps(c.gaps, texts),
            achievements=c.achievements,
            history=[StepView(state=s, on=d) for s, d in c.history],
            closure_reason=c.closure[0] if c.closure else None,
            closed_on=c.closure[1] if c.closure else None,
            other_programmes=c.other_programmes[0] if c.other_programmes else [],
            other_programmes_reason=texts(c.other_programmes[1]) if c.other_programmes else None,
            transferred_to=c.transferred_to,
            transferred_from=c.transferred_from[0] if c.transferred_from else None,
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def opened_goals(goals: dict[str, Any], texts: Opener) -> dict[str, str | None]:
    return {d: texts(_text(g)) for d, g in goals.items()}


def opened_items(
    items: list[dict[str, Any]], key: str, texts: Opener
) -> list[dict[str, str | bool | None]]:
    """Approvals (their reasons) or referrals (their outcomes), with that free text opened."""
    return [{**i, key: texts(_text(i[key]))} if key in i else dict(i) for i in items]


def opened_gaps(gaps: list[dict[str, Any]], texts: Opener) -> list[dict[str, str | None]]:
    """The gaps, each description opened; a released description is the reviewed one."""
    return [
        {**{k: _text(v) for k, v in g.items()}, "description": texts(_text(g.get("description")))}
        for g in gaps
    ]


def case_view_of_row(doc: dict[str, Any]) -> CaseView:
    """The same view from the case's read-model document (``projections.documents``): a
    list never shows free texts (sealed ones are null there already; older clear ones too)."""
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
        catch_up_reason=None,
        position_id=doc.get("position_id"),
        needs=doc.get("needs") or {},
        goals=opened_goals(doc.get("goals") or {}, _hidden),
        pending_approval=doc.get("pending_approval"),
        approvals=opened_items(doc.get("approvals") or [], "reason", _hidden),
        referrals=opened_items(doc.get("referrals") or [], "outcome", _hidden),
        appointments=doc.get("appointments") or [],
        contacts=doc.get("contacts") or [],
        notes=len(doc.get("notes") or []),
        gaps=opened_gaps(doc.get("gaps") or [], _hidden),
        achievements=doc.get("achievements") or [],
        history=[StepView(state=s, on=d) for s, d in doc.get("history") or []],
        closure_reason=closure[0],
        closed_on=closure[1],
        other_programmes=others[0] if others else [],
        other_programmes_reason=None,
        transferred_to=doc.get("transferred_to"),
        transferred_from=origin[0] if origin else None,
    )


class NoteView(BaseModel):
    on: date
    text: str | None = Field(description="null after the person's erasure")

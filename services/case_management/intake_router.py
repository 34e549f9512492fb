"""REST API of intake requests from the immigration office: list, accept, decline, and the
achievements shared back under the person's consent (``contexts/case_management/intake.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contexts.case_management.intake import DeclineReason, IntakeRequest
from runtime.http.commands import MAX_ITEMS, Strict
from runtime.http.fields import MAX_INDEX, Version
from services.case_management.access import STAFF, Work
from services.case_management.case_models import AchievementKind, Level

MAX_DUE_DAYS = 731
router = APIRouter(
    prefix="/case_management/tenants/{tenant}", tags=["case management: intake requests"]
)


class Accept(Strict):
    person_id: UUID = Field(description="the person registered here (consent to case management)")
    on: date
    expected_version: Version = None


class Decline(Strict):
    reason: DeclineReason
    on: date
    expected_version: Version = None


class ShareAchievement(Strict):
    """Either the achievement's fields, or ``case_id`` and ``achievement``: one recorded
    earlier on a case of the request's person (before consent was given)."""

    kind: AchievementKind | None = None
    level: Level | None = None
    achieved_on: date | None = None
    case_id: UUID | None = Field(default=None, description="a case of the request's person")
    achievement: int | None = Field(
        default=None, ge=0, le=MAX_INDEX, description="its place in the case's achievements"
    )
    on: date
    expected_version: Version = None


class IntakeView(BaseModel):
    id: UUID
    version: int
    office: str
    referral_source: str
    requirements: list[str] = Field(max_length=MAX_ITEMS)
    received_on: date
    status: str
    reason: str | None
    person_id: UUID | None
    achievements: list[dict[str, str | None]] = Field(description="shared with the office")

    @classmethod
    def of(cls, r: IntakeRequest) -> IntakeView:
        return cls(
            id=r.id, version=r.version, office=r.office, referral_source=r.referral_source,
            requirements=r.requirements, received_on=date.fromisoformat(r.received_on),
            status=r.status, reason=r.reason, person_id=r.person_id,
            achievements=r.achievements,
        )  # fmt: skip


@router.get("/intake-requests", summary="Open intake requests from the immigration office")
def open_intakes(work: Work) -> list[IntakeView]:
    work.own_tenant(STAFF)
    return [IntakeView.of(r) for r in work.app.open_intakes()]


@router.get("/intake-requests/{request_id}", summary="One intake request")
def get_intake(request_id: UUID, work: Work) -> IntakeView:
    work.own_tenant(STAFF)
    return IntakeView.of(work.app.get_intake(request_id))


@router.post("/intake-requests/{request_id}/acceptance", summary="Accept, naming the person")
def accept(request_id: UUID, body: Accept, work: Work) -> JSONResponse:
    work.position()
    work.personal_data_of_person(body.person_id, body.on)
    return work.run(
        "accept_intake",
        body,
        lambda: work.app.accept_intake(
            request_id, person_id=body.person_id, on=body.on,
            expected_version=body.expected_version,
        ),
    )  # fmt: skip


@router.post("/intake-requests/{request_id}/decline", summary="Decline with a reason (a code)")
def decline(request_id: UUID, body: Decline, work: Work) -> JSONResponse:
    work.own_tenant(STAFF)
    return work.run(
        "decline_intake",
        body,
        lambda: work.app.decline_intake(
            request_id, reason=body.reason, on=body.on, expected_version=body.expected_version
        ),
    )


@router.post(
    "/intake-requests/{request_id}/achievements",
    summary="Share an integration achievement with the office (needs the person's consent)",
)
def share(request_id: UUID, body: ShareAchievement, work: Work) -> JSONResponse:
    """Without the person's valid consent for ``achievements`` to the office's tenant: 422
    ``consent-missing``, nothing appended. An achievement recorded on a case before consent
    was given is shared by naming ``case_id`` and ``achievement`` (its place on the case;
    the case manager of the case's position only)."""
    work.position()
    request = work.app.get_intake(request_id)
    if request.person_id is not None:
        work.personal_data_of_person(request.person_id, body.on)
    if body.case_id is not None:
        work.case_worker(body.case_id)
    return work.run(
        "share_achievement",
        body,
        lambda: work.app.share_achievement(
            request_id, kind=body.kind, level=body.level, achieved_on=body.achieved_on,
            on=body.on, case_id=body.case_id, achievement=body.achievement,
            expected_version=body.expected_version,
        ),
    )  # fmt: skip


class DueView(BaseModel):
    """A deadline the immigration office named for a person it referred here."""

    case_id: UUID
    intake_request_id: UUID
    office: str
    due_on: date
    days_left: int = Field(description="negative: overdue")
    what: str = Field(description="permit_end (a § 104c permit ends), or documents")
    open_requirements: list[str] = Field(max_length=MAX_ITEMS)
    position_id: UUID | None


@router.get("/due", summary="The case manager's due list: deadlines of people the office referred")
def due(
    work: Work,
    within_days: Annotated[int, Query(ge=0, le=MAX_DUE_DAYS)] = 30,
    today: date | None = None,
) -> list[DueView]:
    """Who must reach what by when, for the cases of the caller's own position (need to
    know: ``access.works_on``): a referred person's permit end or documents due, with the
    open requirements the office named. From indexes, not by loading all cases."""
    work.position()
    day = today or date.today()
    return [
        DueView(
            case_id=i.case_id,
            intake_request_id=i.intake_request_id,
            office=i.office,
            due_on=i.due_on,
            days_left=(i.due_on - day).days,
            what=i.what,
            open_requirements=i.open_requirements,
            position_id=i.position_id,
        )
        for i in work.app.due_for(work.caller, day, within_days)
    ]

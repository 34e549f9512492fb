"""REST API of the steering groups' meetings: scheduled, agenda, invitation, held, minutes.

Commands are the group's coordination post's; a meeting's papers (agenda, attendance,
minutes) are read by the post and the group's members.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from projections.documents import document
from runtime.http.reads import MAX_PAGE
from services.steering.access import Work
from services.steering.models import (
    AmendMinutes,
    ApproveMinutes,
    CarriedItem,
    DraftMinutes,
    Hold,
    Invite,
    MemberItem,
    ScheduleMeeting,
    SubmittedItem,
)

CONTEXT = "steering"
router = APIRouter(prefix=f"/{CONTEXT}/tenants/{{tenant}}", tags=["steering: meetings"])


@router.post("/meetings", status_code=201, summary="Schedule a meeting of a group")
def schedule_meeting(body: ScheduleMeeting, work: Work) -> JSONResponse:
    work.post()
    return work.run(
        "schedule_meeting",
        body,
        lambda: work.app.schedule_meeting(
            body.group_id, title=body.title, scheduled_for=body.scheduled_for
        ),
        status=201,
    )


@router.get("/meetings", summary="The meetings of the groups the caller reads, a page at a time")
def list_meetings(
    request: Request,
    work: Work,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after: UUID | None = None,
) -> JSONResponse:
    return work.papers(
        "Meeting", limit=limit, after=after, group_of=lambda r: UUID(str(r.doc["group_id"]))
    )


@router.get("/meetings/{meeting_id}", summary="A meeting: agenda, attendance, minutes")
def get_meeting(meeting_id: UUID, work: Work) -> dict[str, Any]:
    work.taking_part()
    meeting = work.app.meeting(meeting_id)
    work.reader(meeting.group_id)
    found = document(meeting)
    found["state"] = meeting.state
    return found


@router.post("/meetings/{meeting_id}/agenda", summary="An agenda item a member asked for")
def add_item(meeting_id: UUID, body: MemberItem, work: Work) -> JSONResponse:
    work.post()
    return work.run(
        "add_item",
        body,
        lambda: work.app.add_item(
            meeting_id, title=body.title, expected_version=body.expected_version
        ),
    )


@router.post(
    "/meetings/{meeting_id}/agenda/submissions",
    summary="A coordination submission on the agenda (of this tenant or a member tenant)",
)
def add_submitted_item(meeting_id: UUID, body: SubmittedItem, work: Work) -> JSONResponse:
    """The submission of ``from_tenant``'s coordination post (``GET .../submissions``): the
    group's own tenant or a tenant among its members; else 422 ``submission-not-for-group``."""
    work.post()
    work.platform.tenant(body.from_tenant)
    return work.run(
        "add_submitted_item",
        body,
        lambda: work.app.add_submitted_item(
            meeting_id, from_tenant=body.from_tenant, submission=body.submission_id,
            expected_version=body.expected_version,
        ),
    )  # fmt: skip


@router.post("/meetings/{meeting_id}/agenda/carried-over", summary="An item carried over (vertagt)")
def carry_over(meeting_id: UUID, body: CarriedItem, work: Work) -> JSONResponse:
    work.post()
    return work.run(
        "carry_over",
        body,
        lambda: work.app.carry_over(
            meeting_id, from_meeting=body.from_meeting, item=body.item,
            expected_version=body.expected_version,
        ),
    )  # fmt: skip


@router.post("/meetings/{meeting_id}/invitation", summary="Send the invitation with the agenda")
def send_invitation(meeting_id: UUID, body: Invite, work: Work) -> JSONResponse:
    """At least the rules' ``invitation_days`` before the meeting (422
    ``invitation-too-late``), with at least one item."""
    work.post()
    return work.run(
        "send_invitation",
        body,
        lambda: work.app.send_invitation(
            meeting_id, sent_on=body.sent_on, expected_version=body.expected_version
        ),
    )


@router.post("/meetings/{meeting_id}/held", summary="The meeting was held: attendance, quorum")
def hold(meeting_id: UUID, body: Hold, work: Work) -> JSONResponse:
    """The members present (ids); the quorum follows from the rules of procedure."""
    work.post()
    return work.run(
        "hold_meeting",
        body,
        lambda: work.app.hold_meeting(
            meeting_id, held_on=body.held_on, present=body.present,
            expected_version=body.expected_version,
        ),
    )  # fmt: skip


@router.post("/meetings/{meeting_id}/minutes", summary="Draft (or correct) the result minutes")
def draft_minutes(meeting_id: UUID, body: DraftMinutes, work: Work) -> JSONResponse:
    """Of a meeting held (422 ``meeting-not-held``); approved minutes are never edited (409
    ``minutes-approved``): they are amended."""
    work.post()
    return work.run(
        "draft_minutes",
        body,
        lambda: work.app.draft_minutes(
            meeting_id, minutes=body.minutes, on=body.on, expected_version=body.expected_version
        ),
    )


@router.post(
    "/meetings/{meeting_id}/minutes/approval", summary="Minutes approved at a later meeting"
)
def approve_minutes(meeting_id: UUID, body: ApproveMinutes, work: Work) -> JSONResponse:
    work.post()
    return work.run(
        "approve_minutes",
        body,
        lambda: work.app.approve_minutes(
            meeting_id, at_meeting=body.at_meeting, on=body.on,
            expected_version=body.expected_version,
        ),
    )  # fmt: skip


@router.post("/meetings/{meeting_id}/minutes/amendments", summary="Amend approved minutes")
def amend_minutes(meeting_id: UUID, body: AmendMinutes, work: Work) -> JSONResponse:
    work.post()
    return work.run(
        "amend_minutes",
        body,
        lambda: work.app.amend_minutes(
            meeting_id, amendment=body.amendment, at_meeting=body.at_meeting, on=body.on,
            expected_version=body.expected_version,
        ),
    )  # fmt: skip

"""REST API of resolutions (votes, follow-up tasks, status, evaluation) and working groups.

A vote is cast by the member itself (a token acting for it, of any tenant) or recorded by
the group's coordination post; every other command is the post's. Refusals are problems
(``not-a-member``, ``advisory-member``, ``member-absent``, ``already-voted``,
``no-quorum``, ...), and nothing is appended.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from contexts.steering import access
from projections.documents import document
from runtime.http.fields import MAX_INDEX
from runtime.http.problems import Problem
from runtime.http.reads import MAX_PAGE
from services.steering import figures
from services.steering.access import Work
from services.steering.models import (
    AssignTask,
    CastVote,
    ChangeStatus,
    CloseVote,
    GiveTimelines,
    Mandate,
    Propose,
    ReportBack,
    TaskDone,
)
from services.steering.timelines import timelines

CONTEXT = "steering"
router = APIRouter(prefix=f"/{CONTEXT}/tenants/{{tenant}}", tags=["steering: resolutions"])


@router.post("/resolutions", status_code=201, summary="Put a recommending resolution to the vote")
def propose(body: Propose, work: Work) -> JSONResponse:
    """On an item of a meeting held; it names the coordination topic the item came from."""
    work.post()
    return work.run(
        "propose_resolution",
        body,
        lambda: work.app.propose_resolution(body.meeting_id, item=body.item, title=body.title),
        status=201,
    )


@router.get("/resolutions", summary="Resolutions of the groups the caller reads, a page at a time")
def list_resolutions(
    request: Request,
    work: Work,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after: UUID | None = None,
) -> JSONResponse:
    return work.papers(
        "Resolution", limit=limit, after=after, group_of=lambda r: UUID(str(r.doc["group_id"]))
    )


@router.get("/resolutions/{resolution_id}", summary="A resolution: votes, tasks, status")
def get_resolution(resolution_id: UUID, work: Work) -> dict[str, Any]:
    work.taking_part()
    resolution = work.app.resolution(resolution_id)
    work.reader(resolution.group_id)
    return document(resolution)


@router.post("/resolutions/{resolution_id}/votes", summary="One vote of a voting member present")
def cast_vote(resolution_id: UUID, body: CastVote, work: Work) -> JSONResponse:
    """By the member (its representative's token, of any tenant) or recorded by the post."""
    work.taking_part()
    resolution = work.app.resolution(resolution_id)
    work.voter(resolution.group_id, body.member_id)
    return work.run(
        "cast_vote",
        body,
        lambda: work.app.cast_vote(
            resolution_id, member_id=body.member_id, vote=body.vote,
            expected_version=body.expected_version,
        ),
    )  # fmt: skip


@router.post("/resolutions/{resolution_id}/result", summary="Close the vote: passed or rejected")
def close_vote(resolution_id: UUID, body: CloseVote, work: Work) -> JSONResponse:
    """By the majority the rules of procedure set, of the votes cast."""
    work.post()
    return work.run(
        "close_vote",
        body,
        lambda: work.app.close_vote(
            resolution_id, on=body.on, expected_version=body.expected_version
        ),
    )


@router.post("/resolutions/{resolution_id}/tasks", summary="A follow-up task (owner, due date)")
def assign_task(resolution_id: UUID, body: AssignTask, work: Work) -> JSONResponse:
    work.post()
    return work.run(
        "assign_task",
        body,
        lambda: work.app.assign_task(
            resolution_id, title=body.title, owner_institution=body.owner_institution,
            due_on=body.due_on,
        ),
    )  # fmt: skip


@router.post("/resolutions/{resolution_id}/tasks/{task}/done", summary="A follow-up task is done")
def complete_task(
    resolution_id: UUID,
    task: Annotated[int, Path(ge=1, le=MAX_INDEX)],
    body: TaskDone,
    work: Work,
) -> JSONResponse:
    work.post()
    return work.run(
        "complete_task",
        body,
        lambda: work.app.complete_task(resolution_id, task=task, on=body.on),
    )


@router.post(
    "/resolutions/{resolution_id}/status",
    summary="Implementation started, implemented, evaluated (with the indicator)",
)
def change_status(resolution_id: UUID, body: ChangeStatus, work: Work) -> JSONResponse:
    """``evaluated`` takes its indicator from case management's figures (``evaluation.figure``:
    a life dimension, optionally a referral service, a period before and one after): the
    platform counts the referrals in the case management log of the topic's tenant (else the
    group's) once, and the event records the indicator's name, before and after and a source
    naming the figure, the periods and the event ids behind each number. The typed-in form
    (``indicator``, ``before``, ``after``, ``source``) stays as a fallback. Coordination moves
    the topic's cycle step on it."""
    work.post()
    evaluation = body.evaluation.model_dump(mode="json") if body.evaluation else None
    figure = body.evaluation.figure if body.evaluation and body.status == "evaluated" else None
    count = figures.counter(work.platform.store, figure, body.on) if figure else None
    return work.run(
        f"status_{body.status}",
        body,
        lambda: work.app.change_status(
            resolution_id, to=body.status, on=body.on, evaluation=evaluation, figure=count,
            expected_version=body.expected_version,
        ),
    )  # fmt: skip


# -- working groups ------------------------------------------------------------------------
@router.post("/working-groups", status_code=201, summary="Mandate a working group (a resolution)")
def mandate(body: Mandate, work: Work) -> JSONResponse:
    work.post()
    members = [(m.institution, m.role) for m in body.members]
    return work.run(
        "mandate_working_group",
        body,
        lambda: work.app.mandate_working_group(
            body.resolution_id, name=body.name, mandate=body.mandate, on=body.on,
            members=members,
        ),
        status=201,
    )  # fmt: skip


@router.get("/working-groups/{wg_id}", summary="A working group: mandate, timelines, reports")
def get_working_group(wg_id: UUID, work: Work) -> dict[str, Any]:
    work.taking_part()
    group = work.app.working_group(wg_id)
    work.reader(group.group_id)
    return document(group)


@router.post(
    "/working-groups/{wg_id}/timelines",
    summary="Give the working group pseudonymised case timelines (chosen by a post)",
)
def give_timelines(wg_id: UUID, body: GiveTimelines, work: Work) -> JSONResponse:
    """The coordination post of ``case_tenant`` chooses its cases, for a group of its own
    tenant or one its tenant sits in; each timeline gets a fresh pseudonym and holds codes
    and dates only."""
    work.taking_part()
    group = work.app.group(work.app.working_group(wg_id).group_id)
    if not access.chooses_timelines(
        work.caller, body.case_tenant, work.app.tenant, group.member_tenants()
    ):
        raise Problem(
            403, "tenant-not-allowed",
            "the cases' coordination post chooses them, for a group of its tenant or one its"
            " tenant is a member of",
        )  # fmt: skip
    work.platform.tenant(body.case_tenant)
    found = timelines(work.platform, body.case_tenant, body.case_ids)
    return work.run(
        "give_timelines",
        body,
        lambda: work.app.give_timelines(
            wg_id, timelines=found, chosen_by=work.principal.tenant, on=body.on
        ),
    )


@router.post(
    "/working-groups/{wg_id}/report",
    summary="The working group reports back: an agenda item of a meeting of its group",
)
def report_back(wg_id: UUID, body: ReportBack, work: Work) -> JSONResponse:
    work.post()
    return work.run(
        "report_back",
        body,
        lambda: work.app.report_back(
            wg_id, meeting_id=body.meeting_id, summary=body.summary, on=body.on
        ),
    )

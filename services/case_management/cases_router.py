"""REST API of the case cycle: opening, the list and a case's facts, the steps from intake
to closure, approvals. Referrals, assignment, monitoring records, gaps and transfer are in
``case_work_router``.

Commands on a case belong to the case manager of the position it is assigned to; approvals
to the post supervising that position. Every refusal is a problem response and appends
nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from contexts.case_management.domain import (
    CaseState,
)
from runtime.http.reads import MAX_PAGE, caught_up, next_link
from services.case_management import reads
from services.case_management.access import COORDINATORS, STAFF, Work
from services.case_management.case_models import (
    AgreeGoals,
    Assess,
    CaseView,
    Close,
    Decide,
    NoteView,
    OpenCase,
    Step,
    case_view_of_row,
)

router = APIRouter(prefix="/case_management/tenants/{tenant}", tags=["case management: cases"])


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


@router.get(
    "/cases",
    summary="The tenant's cases (case managers: their position's), a page at a time",
    response_model=list[CaseView],
)
def list_cases(
    request: Request,
    work: Work,
    state: CaseState | None = None,
    position_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after: UUID | None = None,
) -> JSONResponse:
    """From the read model, in id order; ``Link: rel="next"`` names the next page.

    Reflects the ``KIM-Position`` given (or the log's head when the request arrives).
    """
    work.own_tenant(STAFF)  # the REST list is the tenant's own worklist
    if not work.principal.roles & COORDINATORS:
        work.position()  # a case manager needs the position claim
    tenant = work.app.tenant
    caught_up(request, work.platform, "case_management", tenant, "case_management")
    wanted = work.case_rows_scope().position_filter()
    match: dict[str, list[str | None]] = {}
    if state is not None:
        match["state"] = [state.value]
    if position_id is not None:
        match["position_id"] = [str(position_id)]
        if wanted is not None and str(position_id) not in wanted:
            match["position_id"] = []  # not in the caller's scope: nothing
    elif wanted is not None:
        match["position_id"] = wanted
    rows = work.platform.read.page(
        "case_management", tenant, "Case", match=match,
        after=str(after) if after else None, limit=limit,
    )  # fmt: skip
    views = [case_view_of_row(r.doc).model_dump(mode="json") for r in rows]
    headers = next_link(request, rows[-1].key, len(rows), limit) if rows else {}
    return JSONResponse(views, headers=headers)


FREE_TEXTS = (
    "catch_up_reason", "goals", "approvals", "referrals", "gaps", "other_programmes_reason",
)  # fmt: skip
"""The view's fields that hold sealed free text about the person."""


@router.get("/cases/{case_id}", summary="A case's facts; its free texts for those who may")
def get_case(case_id: UUID, work: Work) -> CaseView:
    """Need to know (``work.case_reader``): the assigned position's case manager, its
    supervisor, and the tenant's coordinators while the case is unassigned; the tenant's
    others get 404 as for a case that does not exist. Free texts about the person (goals,
    reasons, outcomes, gap descriptions) are opened only for the assigned position's case
    manager and its supervisor, and recorded in the tenant's access log; for everyone else
    they are null."""
    today = date.today()
    case = work.case_reader(case_id, today)
    hidden = CaseView.of(case)
    if not work.app.may_see_personal_data(
        tenant=work.principal.tenant,
        roles=work.roles,
        position=work.principal.position,
        case_id=case_id,
        on=today,
    ):
        return hidden
    view = CaseView.of(case, work.app.case_texts(case))
    given = [f for f in FREE_TEXTS if getattr(view, f) != getattr(hidden, f)]
    if given:
        reads.record(work, [reads.case_read(work, case, given, today)])
    return view


@router.get("/cases/{case_id}/notes", summary="Notes (personal: assigned and supervising only)")
def get_notes(case_id: UUID, work: Work) -> list[NoteView]:
    """Recorded in the tenant's access log (who, why) before it goes out."""
    today = date.today()
    work.personal_data_of_case(case_id, today)
    notes = [NoteView(on=on, text=text) for on, text in work.app.notes(case_id)]
    if any(n.text is not None for n in notes):
        case = work.app.get_case(case_id)
        reads.record(work, [reads.case_read(work, case, ["notes"], today)])
    return notes


@router.post("/cases/{case_id}/assessment", summary="Needs and resources per life dimension")
def assess(case_id: UUID, body: Assess, work: Work) -> JSONResponse:
    work.case_worker(case_id)
    return work.run(
        "assess",
        body,
        lambda: work.app.assess(
            case_id,
            needs={d: level.value for d, level in body.needs.items()},
            on=body.on,
            expected_version=body.expected_version,
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
            by_position=work.principal.position,
            expected_version=body.expected_version,
        ),
    )

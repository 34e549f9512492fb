"""The commands of the case page: each form posts to the REST handler of its command.

A refusal renders the case page again with the German message next to the field the
problem names (status 422/409/403/404); a success redirects to the case page (303), and a
repeated submit with the same idempotency key appends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import Path, Request, Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from contexts.case_management.domain import LIFE_DIMENSIONS
from runtime.http.fields import MAX_INDEX
from services.case_management import case_work_router as work_router
from services.case_management import cases_router
from services.case_management import router as people_router
from services.case_management.access import CaseWork
from services.case_management.case_models import AddNote as AddNoteBody
from services.case_management.case_models import (
    AgreeGoals,
    AnswerReferral,
    Assess,
    Close,
    CompleteReferral,
    ProposeReferral,
    RecordContact,
    Step,
)
from services.case_management.router import GiveConsent
from services.web.base import FormDep, ViewerDep, new_form, page_router, see_other
from services.web.forms import case_work, submit
from services.web.pages_cases import case_page

router = page_router()
CASE = "/faelle/{case_id}"
Index = Annotated[int, Path(ge=0, le=MAX_INDEX)]


def _version(data: FormData) -> int | None:
    text = str(data.get("expected_version") or "").strip()
    return int(text) if text.isdigit() else None


def _text(data: FormData, name: str) -> str | None:
    value = data.get(name)
    text = value.strip() if isinstance(value, str) else ""
    return text or None


def _post(
    request: Request,
    viewer: ViewerDep,
    data: FormData,
    case_id: UUID,
    name: str,
    model: type[BaseModel],
    body: dict[str, Any],
    call: Callable[[Any, CaseWork], Response],
    fields: dict[str, str] | None = None,
) -> Response:
    """Run the command; the case page again with the errors, or a redirect to it."""
    form = new_form(request)
    form.idempotency_key = str(data.get("idempotency_key") or form.idempotency_key)
    form.values.update({k: v for k, v in data.multi_items() if isinstance(v, str)})
    form.values["life_dimensions"] = data.getlist("life_dimensions")
    done = submit(request, viewer, form, model, body, call, fields=fields)
    if done is None:
        return case_page(request, viewer, case_id, failed=(name, form))
    return see_other(request, f"/faelle/{case_id}?erledigt={name}#ergebnis")


def _step(data: FormData, **more: Any) -> dict[str, Any]:
    found = {"on": _text(data, "on"), "expected_version": _version(data), **more}
    return {k: v for k, v in found.items() if v is not None}


@router.post(CASE + "/bestandsaufnahme")
def assess(request: Request, viewer: ViewerDep, data: FormDep, case_id: UUID) -> Response:
    needs = {d: v for d in LIFE_DIMENSIONS if (v := _text(data, f"needs.{d}"))}
    return _post(
        request, viewer, data, case_id, "assess", Assess, _step(data, needs=needs),
        lambda b, w: cases_router.assess(case_id, b, w), fields={"state": "form"},
    )  # fmt: skip


@router.post(CASE + "/ziele")
def agree_goals(request: Request, viewer: ViewerDep, data: FormDep, case_id: UUID) -> Response:
    goals = {d: v for d in LIFE_DIMENSIONS if (v := _text(data, f"goals.{d}"))}
    return _post(
        request, viewer, data, case_id, "goals", AgreeGoals, _step(data, goals=goals),
        lambda b, w: cases_router.agree_goals(case_id, b, w), fields={"state": "form"},
    )  # fmt: skip


STEPS: dict[str, Callable[[UUID, Step, CaseWork], Response]] = {
    "linking": cases_router.start_linking,
    "monitoring": cases_router.start_monitoring,
    "reassessment": cases_router.start_reassessment,
}
PATHS = {"linking": "leistungssteuerung", "monitoring": "monitoring",
         "reassessment": "re-assessment"}  # fmt: skip


def _step_route(name: str) -> None:
    handler = STEPS[name]

    def step(request: Request, viewer: ViewerDep, data: FormDep, case_id: UUID) -> Response:
        return _post(
            request, viewer, data, case_id, name, Step, _step(data),
            lambda b, w: handler(case_id, b, w), fields={"state": "form"},
        )  # fmt: skip

    router.post(f"{CASE}/{PATHS[name]}", name=f"step_{name}")(step)


for _name in STEPS:
    _step_route(_name)


@router.post(CASE + "/abschluss")
def close_case(request: Request, viewer: ViewerDep, data: FormDep, case_id: UUID) -> Response:
    body = _step(data, reason=_text(data, "reason"))
    return _post(
        request, viewer, data, case_id, "close", Close, body,
        lambda b, w: cases_router.close_case(case_id, b, w), fields={"state": "form"},
    )  # fmt: skip


@router.post(CASE + "/verweisungen")
def propose_referral(request: Request, viewer: ViewerDep, data: FormDep, case_id: UUID) -> Response:
    body = _step(data, service=_text(data, "service"), recipient=_text(data, "recipient"))
    return _post(
        request, viewer, data, case_id, "referral", ProposeReferral, body,
        lambda b, w: work_router.propose_referral(case_id, b, w),
        fields={"state": "form", "consent": "recipient"},
    )  # fmt: skip


@router.post(CASE + "/verweisungen/{index}/antwort")
def answer_referral(
    request: Request, viewer: ViewerDep, data: FormDep, case_id: UUID, index: Index
) -> Response:
    accepted = {"ja": True, "nein": False}.get(str(data.get("accepted") or ""))
    body = _step(data, accepted=accepted)
    return _post(
        request, viewer, data, case_id, f"answer-{index}", AnswerReferral, body,
        lambda b, w: work_router.answer_referral(case_id, index, b, w),
    )  # fmt: skip


@router.post(CASE + "/verweisungen/{index}/abschluss")
def complete_referral(
    request: Request, viewer: ViewerDep, data: FormDep, case_id: UUID, index: Index
) -> Response:
    body = _step(data, outcome=_text(data, "outcome"))
    return _post(
        request, viewer, data, case_id, f"complete-{index}", CompleteReferral, body,
        lambda b, w: work_router.complete_referral(case_id, index, b, w),
    )  # fmt: skip


@router.post(CASE + "/kontakte")
def record_contact(request: Request, viewer: ViewerDep, data: FormDep, case_id: UUID) -> Response:
    dimensions = [d for d in data.getlist("life_dimensions") if isinstance(d, str)]
    body = _step(data, channel=_text(data, "channel"), life_dimensions=dimensions)
    return _post(
        request, viewer, data, case_id, "contact", RecordContact, body,
        lambda b, w: work_router.record_contact(case_id, b, w),
    )  # fmt: skip


@router.post(CASE + "/notizen")
def add_note(request: Request, viewer: ViewerDep, data: FormDep, case_id: UUID) -> Response:
    body = _step(data, text=_text(data, "text"))
    return _post(
        request, viewer, data, case_id, "note", AddNoteBody, body,
        lambda b, w: work_router.add_note(case_id, b, w),
    )  # fmt: skip


@router.post(CASE + "/einwilligungen")
def give_consent(request: Request, viewer: ViewerDep, data: FormDep, case_id: UUID) -> Response:
    """A consent of the case's person (the person is the case's, under the case's access)."""
    person_id = case_work(request, viewer).case_worker(case_id).person_id
    found = {
        "purpose": _text(data, "purpose"),
        "recipient": _text(data, "recipient"),
        "given_on": _text(data, "given_on"),
        "expires_on": _text(data, "expires_on"),
    }
    body = {k: v for k, v in found.items() if v is not None}
    return _post(
        request, viewer, data, case_id, "consent", GiveConsent, body,
        lambda b, w: people_router.give_consent(person_id, b, w),
    )  # fmt: skip

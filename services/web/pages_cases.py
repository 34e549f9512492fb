"""The case manager's pages: my cases, registering a person, opening a case, the case page.

Every read goes through case management's REST handlers (``cases_router``, ``router``) with
the API's access checks, so the page shows what the API would answer and a read of
personal data is recorded in the access log exactly as there. The commands on a case are
in ``pages_case_work``.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response

from contexts.case_management.case_achievements import LEVELS
from contexts.case_management.domain import (
    ALLOWED,
    GOALS_AGREED_STATES,
    LIFE_DIMENSIONS,
    REFERRAL_STATES,
    ApprovalStep,
    CaseState,
)
from runtime.http.auth import Role
from services.case_management import cases_router, intake_router
from services.case_management import router as people_router
from services.case_management.case_models import OpenCase
from services.case_management.router import GiveConsent, RegisterPerson
from services.web import labels
from services.web.base import (
    Form,
    FormDep,
    ViewerDep,
    add_nav,
    add_start,
    new_form,
    page_router,
    render,
    see_other,
)
from services.web.forms import case_work, on_personal_fields, status_of, submit

router = page_router()
CASES = "/faelle"
add_nav("Meine Fälle", CASES, [Role.CASE_MANAGER])
add_nav("Person aufnehmen", "/personen/neu", [Role.CASE_MANAGER])
add_start(Role.CASE_MANAGER, "Meine Fälle", CASES, "Fälle nach Stand, fällige Termine, ablaufende"
          " Einwilligungen und die Fallzahl der Stelle.")  # fmt: skip
add_start(Role.CASE_MANAGER, "Person aufnehmen", "/personen/neu",
          "Eine Person registrieren und ihren Fall mit der Erstberatung eröffnen.")  # fmt: skip
DUE_DAYS = 14
"""Appointments and deadlines of the coming days shown as due."""
CONSENT_DAYS = 30
"""Consents ending within this many days are listed as expiring."""
TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
"""An office named in the case page's query (``weitergegeben``): a tenant id, or dropped."""


def _caseload(request: Request, viewer: ViewerDep) -> dict[str, Any] | None:
    position = viewer.principal.position
    if position is None:
        return None
    work = case_work(request, viewer)
    view = people_router.caseload(position, work)
    return view.model_dump(mode="json")


@router.get(CASES)
def my_cases(
    request: Request,
    viewer: ViewerDep,
    zustand: CaseState | None = None,
    nach: UUID | None = None,
) -> Response:
    """A page of the own position's cases (the read model, as ``GET .../cases``)."""
    work = case_work(request, viewer)
    listed = cases_router.list_cases(request, work, state=zustand, limit=50, after=nach)
    rows: list[dict[str, Any]] = json.loads(bytes(listed.body))
    today = date.today()
    wanted = work.case_rows_scope().position_filter()
    # Of every case of the position, not only those on this page: from the index of the
    # appointments' days (the cost is that of the appointments found).
    due = [
        {"case_id": str(case.id), "on": case.appointments[i]["on"],
         "kind": case.appointments[i]["kind"]}
        for case, i in work.app.due_appointments(today, DUE_DAYS, wanted)
    ]  # fmt: skip
    deadlines = intake_router.due(work, within_days=DUE_DAYS, today=today)
    expiring = []
    for person, consent in work.app.expiring_consents(today, CONSENT_DAYS):
        cases = [work.app.get_case(c) for c in person.cases]
        mine = [c for c in cases if wanted is None or (str(c.position_id) in wanted)]
        if mine:
            expiring.append({"case_id": str(mine[-1].id), "consent": consent})
    return render(
        request,
        "cases.html",
        viewer,
        title="Meine Fälle",
        rows=rows,
        state=zustand.value if zustand else "",
        states=list(labels.STATES.items()),
        next_after=rows[-1]["id"] if len(rows) == 50 else None,
        due=due,
        deadlines=deadlines,
        expiring=expiring,
        caseload=_caseload(request, viewer),
        german_date=labels.german_date,
    )


# -- registering a person and opening a case ------------------------------------------------
def _person_form(request: Request, viewer: ViewerDep, form: Form) -> Response:
    return render(
        request, "person_new.html", viewer, status=status_of(form), title="Person aufnehmen",
        form=form,
    )  # fmt: skip


@router.get("/personen/neu")
def new_person(request: Request, viewer: ViewerDep) -> Response:
    return _person_form(request, viewer, new_form(request))


def _optional(value: Any) -> Any:
    text = str(value).strip() if value is not None else ""
    return text or None


@router.post("/personen/neu")
def register_person(request: Request, viewer: ViewerDep, data: FormDep) -> Response:
    form = new_form(request)
    form.idempotency_key = str(data.get("idempotency_key") or form.idempotency_key)
    names = ("name", "date_of_birth", "contact", "languages", "nationality", "arrival_on")
    form.values.update({n: str(data.get(n) or "") for n in names})
    languages = [x.strip() for x in form.value("languages").split(",") if x.strip()]
    personal = {n: _optional(form.value(n)) for n in names if n != "languages"}
    body = {
        "personal_data": {k: v for k, v in personal.items() if v is not None}
        | ({"languages": languages} if languages else {})
    }
    done = submit(
        request, viewer, form, RegisterPerson, body,
        lambda b, work: people_router.register_person(b, work),
    )  # fmt: skip
    if done is None:
        on_personal_fields(form)
        return _person_form(request, viewer, form)
    person_id = done.outcome["events"][0]["aggregate_id"]
    return see_other(request, f"/faelle/neu?person={person_id}")


def _case_form(request: Request, viewer: ViewerDep, form: Form, person: UUID) -> Response:
    return render(
        request,
        "case_new.html",
        viewer,
        status=status_of(form),
        title="Fall eröffnen",
        form=form,
        person=person,
        sources=list(labels.REFERRAL_SOURCES.items()),
        today=date.today().isoformat(),
    )


@router.get("/faelle/neu")
def new_case(request: Request, viewer: ViewerDep, person: UUID) -> Response:
    return _case_form(request, viewer, new_form(request), person)


@router.post("/faelle/neu")
def open_case(request: Request, viewer: ViewerDep, data: FormDep, person: UUID) -> Response:
    """The consent to case management (when ticked) and the case: two commands, each with
    its own idempotency key derived from the form's, so a repeated submit appends nothing."""
    form = new_form(request)
    key = str(data.get("idempotency_key") or form.idempotency_key)
    names = ("referral_source", "opened_on", "catch_up_reason", "double_funding_reason")
    form.values.update({n: str(data.get(n) or "") for n in (*names, "consent_on", "consent")})
    if form.value("consent") == "ja":
        form.idempotency_key = f"{key}-einwilligung"
        consent = {
            "purpose": "case_management",
            "recipient": viewer.tenant,
            "given_on": _optional(form.value("consent_on")),
        }
        given = submit(
            request, viewer, form, GiveConsent, {k: v for k, v in consent.items() if v},
            lambda b, work: people_router.give_consent(person, b, work),
            fields={"given_on": "consent_on", "recipient": "consent", "purpose": "consent"},
        )  # fmt: skip
        if given is None:
            form.idempotency_key = key
            return _case_form(request, viewer, form, person)
    form.idempotency_key = key
    body = {"person_id": str(person)} | {
        n: v for n in names if (v := _optional(form.value(n))) is not None
    }
    done = submit(
        request, viewer, form, OpenCase, body,
        lambda b, work: cases_router.open_case(b, work),
        fields={"person_id": "form", "recipient": "consent"},
    )  # fmt: skip
    if done is None:
        return _case_form(request, viewer, form, person)
    case_id = next(
        e["aggregate_id"] for e in done.outcome["events"] if e["type"].endswith("Opened")
    )
    return see_other(request, f"/faelle/{case_id}?erledigt=eroeffnet")


# -- the case page ---------------------------------------------------------------------------
CASE_FORMS = (
    "assess", "goals", "linking", "monitoring", "reassessment", "close", "referral",
    "contact", "note", "consent", "achievement",
)  # fmt: skip
REFERRAL_FORMS = ("answer", "complete")


def steps_allowed(case: Any) -> set[str]:
    """The forms of the cycle the case's state allows (the domain's ``ALLOWED``); nothing
    while an approval is pending but the closure a pending goal agreement still allows."""
    state = CaseState(case.state)
    allowed = ALLOWED[state]
    if case.pending_approval == ApprovalStep.CLOSURE:
        return set()
    found = set()
    if case.pending_approval is None:
        found |= {
            name
            for name, target in (
                ("assess", CaseState.ASSESSMENT),
                ("goals", CaseState.GOAL_AGREEMENT),
                ("linking", CaseState.LINKING),
                ("monitoring", CaseState.MONITORING),
                ("reassessment", CaseState.REASSESSMENT),
            )
            if target in allowed
        }
        if state in REFERRAL_STATES:
            found.add("referral")
    if CaseState.CLOSED in allowed:
        found.add("close")
    if state != CaseState.CLOSED:
        found |= {"contact", "note", "consent", "achievement"}
    return found


def case_page(
    request: Request,
    viewer: ViewerDep,
    case_id: UUID,
    failed: tuple[str, Form] | None = None,
    done: str | None = None,
    shared: list[str] | None = None,
) -> Response:
    """The case with its cycle: only the steps its state allows, as forms."""
    work = case_work(request, viewer)
    case = cases_router.get_case(case_id, work)
    person = people_router.get_person(case.person_id, work)
    notes = cases_router.get_notes(case_id, work)
    names = [*CASE_FORMS, *(f"{k}-{i}" for i in range(len(case.referrals)) for k in REFERRAL_FORMS)]
    forms = {name: new_form(request) for name in names}
    status = 200
    if failed is not None:
        forms[failed[0]] = failed[1]
        status = status_of(failed[1])
    for name, form in forms.items():
        form.prefix = name
    return render(
        request,
        "case.html",
        viewer,
        status=status,
        title=f"Fall {str(case.id)[:8]}",
        case=case,
        person=person,
        notes=notes,
        forms=forms,
        steps=steps_allowed(case),
        goals_agreed=CaseState(case.state) in GOALS_AGREED_STATES,
        dimensions=[(d, labels.LIFE_DIMENSIONS[d]) for d in LIFE_DIMENSIONS],
        today=date.today().isoformat(),
        done=done,
        german_date=labels.german_date,
        consent_purposes=list(labels.CONSENT_PURPOSES.items()),
        services=list(labels.SERVICES.items()),
        closure_reasons=list(labels.CLOSURE_REASONS.items()),
        channels=list(labels.CONTACT_CHANNELS.items()),
        needs=list(labels.NEED_LEVELS.items()),
        achievement_kinds=list(labels.ACHIEVEMENT_KINDS.items()),
        levels=[(level, level) for level in LEVELS],
        shared=shared or [],
    )


@router.get("/faelle/{case_id}")
def show_case(
    request: Request,
    viewer: ViewerDep,
    case_id: UUID,
    erledigt: str | None = None,
    weitergegeben: str | None = None,
) -> Response:
    shared = [t for t in (weitergegeben or "").split(",") if TENANT.match(t)]
    return case_page(request, viewer, case_id, done=erledigt, shared=shared)

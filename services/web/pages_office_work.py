"""The immigration officer's commands: a step, a check's result, the referral into case
management (with the consent it needs), registering a person, opening a procedure.

Each form posts to the immigration office's REST handler of its command through
``office_submit``: a refusal renders the page again with the German message next to the
field the problem names (422/409/403/404); a success redirects (303), and a repeated submit
with the same idempotency key appends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import Request, Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from contexts.immigration_office.states import Step
from services.immigration_office import router as office_router
from services.immigration_office.access import OfficeWork
from services.immigration_office.models import OpenProcedure, RecordCheck, RegisterPerson, TakeStep
from services.immigration_office.router import GiveConsent, Refer
from services.web.base import Form, FormDep, ViewerDep, new_form, page_router, see_other
from services.web.forms import on_personal_fields, status_of
from services.web.pages_office import (
    BASES,
    NEW_PERSON,
    OFFICE,
    PROCEDURES,
    office_submit,
    office_work,
    procedure_page,
    render,
)

router = page_router()
PROCEDURE = PROCEDURES + "/{procedure_id}"
OPEN = OFFICE + "/verfahren-eroeffnen"


def _text(data: FormData, name: str) -> str | None:
    value = data.get(name)
    text = value.strip() if isinstance(value, str) else ""
    return text or None


def _version(data: FormData) -> int | None:
    text = _text(data, "expected_version") or ""
    return int(text) if text.isdigit() else None


def _kept(request: Request, data: FormData) -> Form:
    """A form with the posted idempotency key and values (rendered again when refused)."""
    form = new_form(request)
    form.idempotency_key = str(data.get("idempotency_key") or form.idempotency_key)
    form.values.update({k: v for k, v in data.multi_items() if isinstance(v, str)})
    return form


def _present(**found: Any) -> dict[str, Any]:
    return {k: v for k, v in found.items() if v is not None}


def _post(
    request: Request,
    viewer: ViewerDep,
    data: FormData,
    procedure_id: UUID,
    name: str,
    model: type[BaseModel],
    body: dict[str, Any],
    call: Callable[[Any, OfficeWork], Response],
    fields: dict[str, str] | None = None,
) -> Response:
    """Run the command; the procedure page again with the errors, or a redirect to it."""
    form = _kept(request, data)
    done = office_submit(request, viewer, form, model, body, call, fields=fields)
    if done is None:
        return procedure_page(request, viewer, procedure_id, failed=(name, form))
    return see_other(request, f"{PROCEDURES}/{procedure_id}?erledigt={name}#ergebnis")


@router.post(PROCEDURE + "/schritt/{step}")
def take_step(
    request: Request, viewer: ViewerDep, data: FormDep, procedure_id: UUID, step: Step
) -> Response:
    """One step of the state machine (a step the state does not allow: 409, in German)."""
    body = _present(
        step=step.value, on=_text(data, "on"), due_on=_text(data, "due_on"),
        ceremony_on=_text(data, "ceremony_on"), aims_at=_text(data, "aims_at"),
        reason=_text(data, "reason"), expected_version=_version(data),
    )  # fmt: skip
    return _post(
        request, viewer, data, procedure_id, step.value, TakeStep, body,
        lambda b, w: office_router.take_step(procedure_id, b, w), fields={"step": "form"},
    )  # fmt: skip


@router.post(PROCEDURE + "/pruefungen")
def record_check(
    request: Request, viewer: ViewerDep, data: FormDep, procedure_id: UUID
) -> Response:
    passed = {"ja": True, "nein": False}.get(_text(data, "passed") or "")
    body = _present(
        check=_text(data, "check"), passed=passed, on=_text(data, "on"),
        level=_text(data, "level"), note=_text(data, "note"), expected_version=_version(data),
    )  # fmt: skip
    return _post(
        request, viewer, data, procedure_id, "check", RecordCheck, body,
        lambda b, w: office_router.record_check(procedure_id, b, w),
    )  # fmt: skip


@router.post(PROCEDURE + "/verweisung")
def refer(request: Request, viewer: ViewerDep, data: FormDep, procedure_id: UUID) -> Response:
    """The person's consent (when ticked) and the referral: two commands, each with its own
    idempotency key derived from the form's, so a repeated submit appends nothing."""
    form = _kept(request, data)
    key = form.idempotency_key
    to_tenant = _text(data, "to_tenant")
    if form.value("consent") == "ja":
        work = office_work(request, viewer)
        work.officer()  # before anything is looked up, as the REST handlers do
        person_id = work.app.get_procedure(procedure_id).person_id
        consent = _present(recipient=to_tenant, given_on=_text(data, "given_on"),
                           purpose="referral")  # fmt: skip
        form.idempotency_key = f"{key}-einwilligung"
        given = office_submit(
            request, viewer, form, GiveConsent, consent,
            lambda b, w: office_router.give_consent(person_id, b, w),
            fields={"recipient": "to_tenant", "purpose": "consent"},
        )  # fmt: skip
        form.idempotency_key = key
        if given is None:
            return procedure_page(request, viewer, procedure_id, failed=("referral", form))
    body = _present(on=_text(data, "on"), to_tenant=to_tenant, expected_version=_version(data))
    done = office_submit(
        request, viewer, form, Refer, body,
        lambda b, w: office_router.refer(procedure_id, b, w),
        fields={"recipient": "to_tenant", "consent": "consent"},
    )  # fmt: skip
    if done is None:
        return procedure_page(request, viewer, procedure_id, failed=("referral", form))
    return see_other(request, f"{PROCEDURES}/{procedure_id}?erledigt=referral#ergebnis")


# -- registering a person and opening a procedure --------------------------------------------
PERSON_FIELDS = ("name", "date_of_birth", "nationality", "resident_since")


def _person_form(request: Request, viewer: ViewerDep, form: Form) -> Response:
    return render(request, "office_person_new.html", viewer, status=status_of(form),
                  title="Person registrieren", form=form)  # fmt: skip


@router.get(NEW_PERSON)
def new_person(request: Request, viewer: ViewerDep) -> Response:
    office_work(request, viewer).officer()
    return _person_form(request, viewer, new_form(request))


@router.post(NEW_PERSON)
def register_person(request: Request, viewer: ViewerDep, data: FormDep) -> Response:
    form = _kept(request, data)
    body = {"personal_data": _present(**{n: _text(data, n) for n in PERSON_FIELDS})}
    done = office_submit(
        request, viewer, form, RegisterPerson, body,
        lambda b, w: office_router.register_person(b, w),
    )  # fmt: skip
    if done is None:
        on_personal_fields(form)
        return _person_form(request, viewer, form)
    person_id = done.outcome["events"][0]["aggregate_id"]
    return see_other(request, f"{OPEN}?person={person_id}")


def _open_form(request: Request, viewer: ViewerDep, form: Form, person: UUID) -> Response:
    return render(
        request, "office_procedure_new.html", viewer, status=status_of(form),
        title="Verfahren eröffnen", form=form, person=person, bases=list(BASES.items()),
        today=date.today().isoformat(), residence=viewer.tenant,
    )  # fmt: skip


@router.get(OPEN)
def new_procedure(request: Request, viewer: ViewerDep, person: UUID) -> Response:
    office_work(request, viewer).officer()
    return _open_form(request, viewer, new_form(request), person)


@router.post(OPEN)
def open_procedure(request: Request, viewer: ViewerDep, data: FormDep, person: UUID) -> Response:
    form = _kept(request, data)
    body = _present(
        person_id=str(person), legal_basis=_text(data, "legal_basis"),
        residence=_text(data, "residence"), opened_on=_text(data, "opened_on"),
    )  # fmt: skip
    done = office_submit(
        request, viewer, form, OpenProcedure, body,
        lambda b, w: office_router.open_procedure(b, w), fields={"person_id": "form"},
    )  # fmt: skip
    if done is None:
        return _open_form(request, viewer, form, person)
    procedure_id = next(
        e["aggregate_id"] for e in done.outcome["events"] if e["type"].endswith("Opened")
    )
    return see_other(request, f"{PROCEDURES}/{procedure_id}?erledigt=eroeffnet")

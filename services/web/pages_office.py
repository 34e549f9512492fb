"""The immigration officer's pages: the due list (Fristen), the procedures, a procedure.

Every read goes through the immigration office's REST handlers (``office_router``) with the
API's access check (the office's own staff, ``OfficeWork.officer``), so the pages show what
the API would answer and a read of personal data (the person's name, a check's note) is
recorded in the access log exactly as there. The commands (steps, checks, the referral,
registering a person, opening a procedure) are in ``pages_office_work``; they post through
``office_submit``, the immigration office's counterpart of ``forms.submit``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from contexts.immigration_office.procedure_rules import REFERRAL_STATES
from contexts.immigration_office.states import (
    CHECKS_ALLOWED_IN,
    CONVERSIONS,
    KIND_OF,
    LEVELS,
    Check,
    LegalBasis,
    State,
    Step,
)
from contexts.shared.errors import DomainError
from projections.immigration_office import application
from runtime.http.auth import Role
from services.immigration_office import router as office_router
from services.immigration_office.access import OfficeWork
from services.immigration_office.router import MAX_DUE_DAYS
from services.web import labels
from services.web.base import Form, Viewer, ViewerDep, add_nav, add_start, new_form, page_router
from services.web.base import render as render_page
from services.web.forms import (
    Submitted,
    german,
    refuse,
    status_of,
    submit,
    with_key,
)

router = page_router()
OFFICE = "/auslaenderbehoerde"
DUE = OFFICE + "/fristen"
PROCEDURES = OFFICE + "/verfahren"
NEW_PERSON = OFFICE + "/personen/neu"
OFFICER = [Role.IMMIGRATION_OFFICER]
add_nav("Fristen", DUE, OFFICER)
add_nav("Verfahren", PROCEDURES, OFFICER)
add_nav("Person registrieren", NEW_PERSON, OFFICER)
add_start(Role.IMMIGRATION_OFFICER, "Fristen", DUE,
          "Was in den nächsten Tagen fällig ist: angeforderte Unterlagen, endende"
          " Erlaubnisse.")  # fmt: skip
add_start(Role.IMMIGRATION_OFFICER, "Verfahren", PROCEDURES,
          "Einbürgerungen und Aufenthaltsverfestigungen der Behörde nach Stand.")  # fmt: skip
add_start(Role.IMMIGRATION_OFFICER, "Person registrieren", NEW_PERSON,
          "Eine Person registrieren und ihr Verfahren eröffnen (Beratung).")  # fmt: skip
M = TypeVar("M", bound=BaseModel)

BASES = {
    "stag_10": "Einbürgerung (StAG § 10)",
    "stag_10_3": "Verkürzte Einbürgerung (StAG § 10 Abs. 3)",
    "aufenthg_104c": "Chancen-Aufenthaltsrecht (§ 104c AufenthG)",
    "aufenthg_25a": "Gut integrierte Jugendliche (§ 25a AufenthG)",
    "aufenthg_25b": "Nachhaltige Integration (§ 25b AufenthG)",
    "aufenthg_9": "Niederlassungserlaubnis (§ 9 AufenthG)",
    "aufenthg_26": "Niederlassungserlaubnis (§ 26 AufenthG)",
}
KINDS = {"naturalisation": "Einbürgerung", "residence_consolidation": "Aufenthaltsverfestigung"}
STATES = {
    "counselling": "Beratung",
    "application_received": "Antrag eingegangen",
    "documents_requested": "Unterlagen angefordert",
    "documents_complete": "Unterlagen vollständig",
    "checks": "Prüfungen",
    "requirements_checked": "Voraussetzungen geprüft",
    "granted": "Bewilligt",
    "refused": "Abgelehnt",
    "withdrawn": "Zurückgenommen",
    "certificate_handed_over": "Urkunde ausgehändigt",
    "ceremony_invited": "Zur Einbürgerungsfeier eingeladen",
    "converted": "Übergeleitet (§ 25a / § 25b)",
    "expired": "Abgelaufen (zurück in die Duldung)",
    "handed_over": "An die zuständige Behörde abgegeben",
}
STEPS = {
    "receive_application": "Antragseingang eintragen",
    "request_documents": "Unterlagen anfordern",
    "complete_documents": "Unterlagen vollständig",
    "start_checks": "Prüfungen beginnen",
    "complete_requirements_check": "Voraussetzungen geprüft",
    "grant": "Bewilligen",
    "refuse": "Ablehnen",
    "withdraw": "Rücknahme des Antrags eintragen",
    "hand_over_certificate": "Urkunde aushändigen",
    "invite_to_ceremony": "Zur Einbürgerungsfeier einladen",
    "convert": "In § 25a / § 25b überleiten",
    "expire": "Ablauf feststellen",
}
CHECKS = {
    "identity": "Identität geklärt",
    "language": "Sprachnachweis",
    "test": "Einbürgerungstest",
    "livelihood": "Lebensunterhalt gesichert",
    "security_enquiry": "Sicherheitsabfrage",
    "no_convictions": "Keine Verurteilungen",
    "commitment": "Bekenntnis zur freiheitlichen demokratischen Grundordnung",
    "school_or_training": "Schulbesuch oder Ausbildung",
    "passport": "Pass oder Passbeschaffung",
    "documents": "Unterlagen",
}
DUE_WHAT = {"documents": "Unterlagen fällig", "permit_end": "Erlaubnis endet"}
OFFICE_LABELS = {"basis": BASES, "kind": KINDS, "state": STATES, "step": STEPS, "check": CHECKS,
                 "due": DUE_WHAT}  # fmt: skip
OFFICE_RULES = {
    "transition-not-allowed": "Dieser Schritt ist im aktuellen Stand des Verfahrens nicht möglich.",
    "date-before-previous-step": "Das Datum liegt vor dem vorigen Schritt des Verfahrens.",
    "due-before-request": "Die Frist liegt vor der Anforderung.",
    "ceremony-date-missing": "Bitte den Tag der Einbürgerungsfeier angeben.",
    "ceremony-before-invitation": "Die Feier liegt vor der Einladung.",
    "conversion-basis": "Bitte § 25a oder § 25b wählen.",
    "language-level": "Das Sprachniveau gehört nur zum Sprachnachweis (und dort ist es nötig).",
    "no-application": "Das Verfahren hat noch keinen Antrag.",
    "permit-still-running": "Die Erlaubnis läuft noch.",
    "rule-not-in-force": "Für dieses Antragsdatum gilt keine Fassung der Regel.",
    "wrong-tenant": "Dafür ist eine andere Behörde zuständig (Wohnort).",
    "unknown-residence": "Diesen Wohnort kennt die Plattform nicht.",
    "residence-unknown": "Der Wohnort der Person ist nicht bekannt.",
    "consent-missing": "Dafür fehlt die Einwilligung der Person (Zweck und Empfänger).",
    "consent-expires-before-given": "Die Einwilligung endet vor ihrer Erteilung.",
    "hand-over-needs-destination": "Die Abgabe nennt die zuständige Behörde.",
    "not-minimal-data": "Bitte nur die Angaben machen, die das Verfahren braucht.",
    "stale-version": "Das Verfahren wurde inzwischen geändert. Bitte die Seite neu laden.",
}


def olabel(kind: str, code: object) -> str:
    """The German label of an immigration office code (the code itself when none is known)."""
    if code is None:
        return "–"
    return OFFICE_LABELS.get(kind, {}).get(str(code), str(code))


def requirement(code: str) -> str:
    """``residence:5`` as "Aufenthalt 5 Jahre", ``language:B1`` as "Sprachnachweis B1"."""
    name, _, figure = code.partition(":")
    if name == "residence":
        return f"Aufenthalt {figure} Jahre"
    if name == "language":
        return f"Sprachnachweis {figure}"
    return olabel("check", name)


def render(
    request: Request, template: str, viewer: Viewer, *, status: int = 200, **context: Any
) -> Response:
    """``base.render`` with the office's labels (``label_of``, ``requirement``)."""
    return render_page(
        request, template, viewer, status=status, label_of=olabel, requirement=requirement,
        german_date=labels.german_date, **context,
    )  # fmt: skip


def office_work(request: Request, viewer: Viewer, key: str | None = None) -> OfficeWork:
    """The immigration office's runner for this page request (the API's access check)."""
    app = application(viewer.platform, viewer.tenant)
    found = with_key(request, key) if key else request
    return OfficeWork(found, viewer.platform, viewer.principal, app)


def office_german(rule: str, detail: str, status: int, facts: dict[str, Any]) -> str:
    if rule == "rule-not-met":
        unmet = ", ".join(requirement(str(u)) for u in facts.get("unmet") or [])
        return f"Die Voraussetzungen sind nicht erfüllt: {unmet or detail}."
    return OFFICE_RULES.get(rule) or german(rule, detail, status)


def office_submit(
    request: Request,
    viewer: Viewer,
    form: Form,
    model: type[M],
    body: dict[str, Any],
    call: Callable[[M, OfficeWork], Response],
    *,
    fields: dict[str, str] | None = None,
) -> Submitted | None:
    """``forms.submit`` for the immigration office: ``call`` (the REST handler) runs with
    the office's runner and the form's idempotency key; refusals land on ``form.errors``."""
    return submit(
        request, viewer, form, model, body, call, fields=fields,
        work=lambda key: office_work(request, viewer, key), translate=office_german,
    )  # fmt: skip


# -- the due list ----------------------------------------------------------------------------
DEFAULT_DAYS = 30


@router.get(DUE)
def due_list(request: Request, viewer: ViewerDep, tage: str | None = None) -> Response:
    """What is due within ``tage`` days, overdue first (the handler of ``GET .../due``); a
    number out of range is shown next to the field."""
    work = office_work(request, viewer)
    form = new_form(request)
    form.prefix = "due"
    text = (tage or "").strip() or str(DEFAULT_DAYS)
    form.values["tage"] = text
    days = int(text) if text.isdigit() else -1
    if not 0 <= days <= MAX_DUE_DAYS:
        refuse(form, "tage", f"Bitte eine ganze Zahl von 0 bis {MAX_DUE_DAYS} angeben.")
        form.values["_status"] = 422
        days = DEFAULT_DAYS
    items = office_router.due(work, within_days=days, today=None, position_id=None)
    return render(
        request, "office_due.html", viewer, status=status_of(form), title="Fristen",
        items=items, days=days, max_days=MAX_DUE_DAYS, form=form,
    )  # fmt: skip


# -- the procedures --------------------------------------------------------------------------
@router.get(PROCEDURES)
def procedures(
    request: Request, viewer: ViewerDep, stand: State | None = None, nach: UUID | None = None
) -> Response:
    """A page of the office's procedures (the read model, as ``GET .../procedures``)."""
    work = office_work(request, viewer)
    listed = office_router.list_procedures(request, work, state=stand, limit=50, after=nach)
    rows: list[dict[str, Any]] = json.loads(bytes(listed.body))
    for row in rows:
        row["kind"] = KIND_OF[LegalBasis(row["legal_basis"])].value
    return render(
        request, "office_procedures.html", viewer, title="Verfahren", rows=rows,
        state=stand.value if stand else "", states=list(STATES.items()),
        next_after=rows[-1]["id"] if len(rows) == 50 else None,
    )  # fmt: skip


PROCEDURE_FORMS = ("check", "referral")


def step_forms(view: Any) -> list[str]:
    """The steps the procedure's state allows (as the API lists them), as forms; a hand-over
    names a destination and has its own command, not offered here."""
    return [s.value for s in view.allowed_steps if s != Step.HAND_OVER]


def checks_open(view: Any) -> bool:
    """Whether a check's result may be recorded (the domain's ``record_check`` rule)."""
    state = State(view.state)
    if state not in CHECKS_ALLOWED_IN:
        return False
    return state != State.GRANTED or view.legal_basis == LegalBasis.AUFENTHG_104C


def _judged_by(work: OfficeWork, procedure_id: UUID, view: Any) -> dict[str, Any] | None:
    """The rule version the procedure is judged by: the decision's, else the one valid on
    the application date (none before the application)."""
    if view.rule:
        return dict(view.rule)
    try:
        p = work.app.get_procedure(procedure_id)
        return work.app.rule_of(p).figures()
    except DomainError:
        return None


def procedure_page(
    request: Request,
    viewer: ViewerDep,
    procedure_id: UUID,
    failed: tuple[str, Form] | None = None,
    done: str | None = None,
) -> Response:
    """The procedure: state, rule, checks and requirements; only the allowed steps as forms."""
    work = office_work(request, viewer)
    view = office_router.get_procedure(procedure_id, work)
    person = office_router.get_person(view.person_id, work)
    steps = step_forms(view)
    forms = {name: new_form(request) for name in (*steps, *PROCEDURE_FORMS)}
    status, stray = 200, None
    if failed is not None:
        if failed[0] in forms:
            forms[failed[0]] = failed[1]
        else:  # a step the page does not offer (the state moved on): its refusal on top
            stray = failed[1]
        status = status_of(failed[1])
    for name, form in forms.items():
        form.prefix = name.replace("_", "-")
    return render(
        request, "office_procedure.html", viewer, status=status,
        title=f"Verfahren {str(view.id)[:8]}", p=view, stray=stray,
        case_management=view.residence if viewer.platform.directory().get(view.residence) else "",
        name=(person.personal_data or {}).get("name"), forms=forms, steps=steps,
        checks_open=checks_open(view), referral_open=State(view.state) in REFERRAL_STATES,
        rule=_judged_by(work, procedure_id, view), today=date.today().isoformat(), done=done,
        check_options=[(c.value, CHECKS[c.value]) for c in Check],
        levels=[(lv.value, lv.value) for lv in LEVELS],
        aims=[(b.value, BASES[b.value]) for b in sorted(CONVERSIONS)],
    )  # fmt: skip


@router.get(PROCEDURES + "/{procedure_id}")
def show_procedure(
    request: Request, viewer: ViewerDep, procedure_id: UUID, erledigt: str | None = None
) -> Response:
    return procedure_page(request, viewer, procedure_id, done=erledigt)

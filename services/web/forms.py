"""Posting a command from a form: the REST body model, the REST handler, German refusals.

``submit`` parses the REST request model from the form's values, runs the REST handler
with the form's idempotency key as the ``Idempotency-Key`` header (so a repeated submit is
answered from the idempotency record and appends nothing) and turns every refusal into
German messages keyed by the field the problem names (see ``services/web/base.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError
from fastapi import Request, Response
from pydantic import BaseModel, ValidationError

from contexts.case_management.application import CaseManagementApplication
from contexts.shared.errors import DomainError
from contexts.shared.indexes import IndexBoundExceeded
from runtime.http.problems import Problem
from services.case_management.access import CaseWork
from services.web.base import Form, Viewer

M = TypeVar("M", bound=BaseModel)

RULES = {
    "transition-not-allowed": "Dieser Schritt ist im aktuellen Stand des Falls nicht möglich.",
    "date-before-last-step": "Das Datum liegt vor dem letzten Schritt des Falls.",
    "closure-awaits-approval": "Der Abschluss wartet auf die Freigabe der Koordinierungsstelle.",
    "goals-await-approval": "Die Zielvereinbarung wartet auf die Freigabe.",
    "goals-refused": "Die Ziele wurden nicht freigegeben: bitte überarbeitete Ziele vereinbaren.",
    "no-life-dimension": "Bitte mindestens eine Lebensdimension angeben.",
    "unknown-life-dimension": "Unbekannte Lebensdimension.",
    "unknown-code": "Bitte einen der angebotenen Werte wählen.",
    "consent-missing": "Dafür fehlt die Einwilligung der Person (Zweck und Empfänger).",
    "caseload-limit": "Die Stelle hat ihre Fallzahlgrenze erreicht.",
    "case-already-open": "Für diese Person ist bereits ein Fall offen.",
    "case-closed": "Der Fall ist abgeschlossen.",
    "double-funding": "Die Person nimmt an einem anderen Programm teil: bitte den Grund angeben.",
    "outside-target-group": "Die Person gehört nicht zur Zielgruppe: bitte den Grund angeben.",
    "no-goals-to-reach": "Ohne vereinbarte Ziele kann der Fall nicht so abgeschlossen werden.",
    "referral-not-in-this-state": "Verweisungen sind erst in der Leistungssteuerung möglich.",
    "referral-status": "Die Verweisung ist nicht in dem Stand, der das erlaubt.",
    "reason-missing": "Bitte einen Grund angeben.",
    "note-empty": "Die Notiz ist leer.",
    "person-erased": "Die Daten der Person wurden gelöscht.",
    "personal-data-in-gap": "Die Beschreibung darf keine personenbezogenen Daten enthalten.",
    "personal-data-in-text": "Der Text darf keine personenbezogenen Daten enthalten.",
    "not-minimal-data": "Bitte nur die Angaben machen, die der Fall braucht.",
    "stale-version": "Der Fall wurde inzwischen geändert. Bitte die Seite neu laden.",
    "concurrent-write": "Jemand hat den Fall gleichzeitig geändert. Bitte neu laden.",
    "idempotency-key-reused": "Das Formular wurde schon mit anderen Angaben gesendet."
    " Bitte die Seite neu laden.",
    "not-found": "Nicht gefunden (oder nicht in Ihrer Zuständigkeit).",
    "role-not-allowed": "Ihre Rolle darf das nicht.",
    "tenant-not-allowed": "Das gehört zu einem anderen Mandanten.",
    "position-claim-missing": "Ihre Anmeldung nennt keine Stelle: bitte mit Stelle anmelden.",
    "personal-data-not-allowed": "Diese personenbezogenen Daten sind nicht für Sie bestimmt.",
    "not-the-supervising-post": "Nur die Koordinierungsstelle mit der Fachaufsicht entscheidet.",
    "nothing-to-approve": "Es wartet nichts auf Freigabe.",
    "read-model-behind": "Die Übersicht ist noch nicht aktuell. Bitte gleich noch einmal laden.",
    "store-unavailable": "Die Datenbank ist gerade nicht erreichbar. Bitte später erneut senden.",
    "rate-limited": "Zu viele Anfragen. Bitte kurz warten.",
}
"""German messages of the rules a form can meet; others get a generic one with the detail."""

PYDANTIC = {
    "missing": "Bitte ausfüllen.",
    "date_from_datetime_parsing": "Bitte ein gültiges Datum angeben.",
    "date_parsing": "Bitte ein gültiges Datum angeben.",
    "date_type": "Bitte ein gültiges Datum angeben.",
    "enum": "Bitte einen der angebotenen Werte wählen.",
    "literal_error": "Bitte einen der angebotenen Werte wählen.",
    "string_too_short": "Bitte ausfüllen.",
    "string_too_long": "Der Text ist zu lang.",
    "string_pattern_mismatch": "Bitte nur Buchstaben, Ziffern, Punkt, Bindestrich oder"
    " Unterstrich verwenden, ohne Leerzeichen.",
    "uuid_parsing": "Bitte einen der angebotenen Werte wählen.",
    "int_parsing": "Bitte eine ganze Zahl angeben.",
    "too_long": "Zu viele Einträge.",
    "extra_forbidden": "Dieses Feld ist nicht vorgesehen.",
}


def german(rule: str, detail: str, status: int = 422) -> str:
    """The German message of a refusal: a known rule's, else a generic one with its detail."""
    if rule in RULES:
        return RULES[rule]
    if status == 404:
        return RULES["not-found"]
    return f"Abgelehnt ({rule}): {detail}"


def _pydantic_message(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind in PYDANTIC:
        return PYDANTIC[kind]
    if kind == "value_error":
        text = str(error.get("msg", "")).removeprefix("Value error, ")
        if "blank" in text:
            return PYDANTIC["missing"]
        return f"Ungültiger Wert: {text}"
    return f"Ungültiger Wert ({kind})."


def field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic location as the form field's name (``needs.language``)."""
    return ".".join(str(p) for p in loc if p not in {"body"}) or "form"


@dataclass(frozen=True)
class Submitted:
    """A command that ran (or was answered from its idempotency record)."""

    outcome: dict[str, Any]
    replayed: bool

    @property
    def position(self) -> int:
        return int(self.outcome.get("position", 0))


def with_key(request: Request, key: str) -> Request:
    """The request as the REST handler expects it: the form's key as ``Idempotency-Key``."""
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"idempotency-key"]
    headers.append((b"idempotency-key", key.encode()))
    return Request({**request.scope, "headers": headers}, request.receive)


def case_work(request: Request, viewer: Viewer, key: str | None = None) -> CaseWork:
    """Case management's runner for this page request (the API's access checks)."""
    platform = viewer.platform
    app = platform.app(CaseManagementApplication, viewer.tenant, vault=platform.vault)
    return CaseWork(with_key(request, key) if key else request, platform, viewer.principal, app)


def refuse(form: Form, field: str, message: str) -> None:
    form.errors.setdefault(field, []).append(message)


def status_of(form: Form) -> int:
    return int(form.values.get("_status", 422)) if form.errors else 200


Translate = Callable[[str, str, int, dict[str, Any]], str]
"""(rule, detail, status, facts) -> the German message of a refusal."""


def _german_of(rule: str, detail: str, status: int, facts: dict[str, Any]) -> str:
    return german(rule, detail, status)


def submit(
    request: Request,
    viewer: Viewer,
    form: Form,
    model: type[M],
    body: dict[str, Any],
    call: Callable[[M, Any], Response],
    *,
    fields: dict[str, str] | None = None,
    work: Callable[[str], Any] | None = None,
    translate: Translate = _german_of,
) -> Submitted | None:
    """Run ``call`` (the REST handler) with ``body`` parsed as ``model`` and the runner its
    dependency would build (``work(idempotency_key)``; by default case management's); None
    and ``form.errors`` filled when refused, in German (``translate``). ``fields`` maps a
    problem's field to a form field (``{"state": "form"}``; unnamed fields go to the form
    as a whole)."""
    names = fields or {}

    def put(field: str | None, message: str, status: int) -> None:
        target = names.get(field or "", field or "form")
        refuse(form, target, message)
        form.values["_status"] = status

    try:
        parsed = model.model_validate(body)
    except ValidationError as e:
        for error in e.errors():
            put(field_of(error.get("loc", ())), _pydantic_message(dict(error)), 422)
        return None
    try:
        runner = (work or (lambda key: case_work(request, viewer, key)))(form.idempotency_key)
        response = call(parsed, runner)
    except Problem as e:
        found = e.extensions.get("errors") or [{"field": None}]
        for error in found:
            message = translate(e.rule, e.detail, e.status, e.extensions)
            put(error.get("field"), message, e.status)
        return None
    except DomainError as e:
        put(e.facts.get("field"), translate(e.rule, e.detail, e.status, e.facts), e.status)
        return None
    except IndexBoundExceeded as e:
        put(None, german(e.bound.rule, e.bound.detail, 409), 409)
        return None
    except IntegrityError:
        put(None, RULES["concurrent-write"], 409)
        return None
    outcome = json.loads(bytes(response.body))
    return Submitted(outcome, response.headers.get("idempotent-replayed") == "true")


def on_personal_fields(form: Form) -> None:
    """A person's refusals name ``personal_data.<field>``; the form's fields are ``<field>``."""
    form.errors = {
        k.removeprefix("personal_data.").split(".")[0]: v for k, v in form.errors.items()
    }

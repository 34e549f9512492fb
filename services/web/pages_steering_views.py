"""What the steering group's pages read and show: the runner, the papers, German labels.

Every read goes through the steering context's REST handlers with the runner the API's
dependency builds (``services/steering/access.py``: ``SteeringWork`` of the group's tenant),
so who reads what follows the same rules: the group's coordination post and its members,
whatever their home tenant. Which forms a page offers follows ``contexts/steering/access``
(``runs_group``, ``members_represented``), the functions the REST checks ask.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from fastapi import Request, Response
from pydantic import BaseModel

from contexts.shared.errors import DomainError
from contexts.steering import access
from projections.steering import application
from runtime.http.problems import Problem
from runtime.http.reads import MAX_PAGE, caught_up_with_heads
from services.steering import groups_router, meetings_router, resolutions_router
from services.steering.access import SteeringWork
from services.web.base import STATUS_TITLES, Form, Viewer, render
from services.web.forms import Submitted, german, submit, with_key
from services.web.labels import LIFE_DIMENSIONS, SERVICES

M = TypeVar("M", bound=BaseModel)
CONTEXT = "steering"
HOME = "/lenkungsgruppen"
RESOLUTIONS = "/lenkungsgruppen/beschluesse"

MEETING_STATES = {
    "scheduled": "geplant",
    "invited": "eingeladen",
    "held": "stattgefunden",
    "minutes_drafted": "stattgefunden, Protokoll im Entwurf",
    "minutes_approved": "stattgefunden, Protokoll genehmigt",
}
ITEM_SOURCES = {
    "coordination": "Vorlage der Koordinierungsstelle",
    "member": "Antrag eines Mitglieds",
    "carried_over": "vertagt",
    "working_group": "Bericht einer Arbeitsgruppe",
}
RESOLUTION_STATUSES = {
    "open": "zur Abstimmung",
    "passed": "angenommen",
    "rejected": "abgelehnt",
    "in_implementation": "Umsetzung begonnen",
    "implemented": "umgesetzt",
    "evaluated": "evaluiert",
}
NEXT_STATUSES = {"in_implementation": "Umsetzung begonnen", "implemented": "umgesetzt"}
"""The status form's choices; ``evaluated`` has its own forms (``pages_steering_evaluation``)."""
FIGURE_LABELS = {"dimensions": LIFE_DIMENSIONS, "services": SERVICES}
VOTES = {"for": "Ja", "against": "Nein", "abstain": "Enthaltung"}
RULES = {
    "advisory-member": "Beratende Mitglieder stimmen nicht ab.",
    "agenda-empty": "Die Einladung geht nur mit mindestens einem Tagesordnungspunkt hinaus.",
    "already-invited": "Die Einladung wurde schon versandt.",
    "already-voted": "Dieses Mitglied hat schon abgestimmt.",
    "indicator-required": "Für die Evaluation bitte den Indikator angeben (vorher, nachher,"
    " Quelle).",
    "invalid-date": "Bitte ein gültiges Datum angeben.",
    "invalid-period": "Der Zeitraum ist nicht gültig.",
    "invitation-too-late": "Die Einladung muss nach der Geschäftsordnung früher versandt werden.",
    "item-exists": "Dieser Punkt steht schon auf der Tagesordnung.",
    "meeting-already-held": "Die Sitzung hat schon stattgefunden.",
    "meeting-held": "Die Sitzung hat stattgefunden: die Tagesordnung ist geschlossen.",
    "meeting-not-held": "Die Sitzung hat noch nicht stattgefunden.",
    "member-absent": "Das Mitglied war in der Sitzung nicht anwesend.",
    "member-left": "Das Mitglied ist ausgeschieden.",
    "minutes-approved": "Das Protokoll ist genehmigt und wird nicht mehr geändert, nur ergänzt.",
    "minutes-not-approved": "Das Protokoll ist noch nicht genehmigt.",
    "minutes-not-drafted": "Es gibt noch kein Protokoll.",
    "no-quorum": "Die Sitzung war nicht beschlussfähig.",
    "no-such-item": "Diesen Tagesordnungspunkt gibt es nicht.",
    "no-such-task": "Diesen Arbeitsauftrag gibt es nicht.",
    "no-follow-up-task": "Die Umsetzung beginnt mit einem Arbeitsauftrag: bitte zuerst einen"
    " erteilen.",
    "no-votes": "Es wurde noch keine Stimme abgegeben.",
    "not-implemented": "Evaluiert wird ein Beschluss, wenn er umgesetzt ist.",
    "date-before-last-step": "Das Datum liegt vor dem letzten Schritt des Beschlusses.",
    "period-in-future": "Der Zeitraum muss am Tag der Evaluation (und heute) schon vorbei sein.",
    "period-inverted": "Das Ende des Zeitraums liegt vor seinem Beginn.",
    "periods-overlap": "Der Zeitraum nachher beginnt erst nach dem Ende des Zeitraums vorher.",
    "unknown-life-dimension": "Bitte einen der angebotenen Lebensbereiche wählen.",
    "unknown-service": "Bitte einen der angebotenen Dienste wählen.",
    "not-a-member": "Die Unterlagen der Lenkungsgruppe sind für ihre Koordinierungsstelle und"
    " ihre Mitglieder bestimmt.",
    "not-a-later-meeting": "Das Protokoll wird in einer späteren Sitzung der Gruppe genehmigt.",
    "not-invited": "Die Einladung wurde noch nicht versandt.",
    "not-the-group": "Das gehört zu einer anderen Lenkungsgruppe.",
    "resolution-evaluated": "Der Beschluss ist schon evaluiert.",
    "resolution-not-passed": "Der Beschluss wurde nicht angenommen.",
    "status-not-allowed": "Dieser Stand ist jetzt nicht möglich.",
    "submission-not-for-group": "Diese Vorlage ist nicht für diese Lenkungsgruppe.",
    "task-done": "Der Arbeitsauftrag ist schon erledigt.",
    "tasks-open": "Es sind noch Arbeitsaufträge offen.",
    "text-required": "Bitte einen Text angeben.",
    "voting-closed": "Die Abstimmung ist geschlossen.",
    "role-not-allowed": "Die Lenkungsgruppe führt die Koordinierungsstelle; ihre Unterlagen"
    " lesen die Koordinierungsstelle und die Mitglieder.",
    "tenant-not-allowed": "Diese Lenkungsgruppe führt die Koordinierungsstelle eines anderen"
    " Mandanten.",
}
"""German messages of the steering context's rules (``contexts/steering``)."""
GENERIC = re.compile(r"^Abgelehnt \(([a-z-]+)\): ")
ENGLISH = {
    "Ungültiger Wert: a date": "Bitte ein gültiges Datum angeben.",
    "Ungültiger Wert: an integer": "Bitte eine ganze Zahl angeben.",
    "Ungültiger Wert: a decimal": "Bitte eine Zahl angeben, z. B. 12 oder 12,5.",
}
"""Messages of the shared field types (``runtime/http/fields.py``) in German."""


def _german(message: str) -> str:
    found = GENERIC.match(message)
    if found and found.group(1) in RULES:
        return RULES[found.group(1)]
    return next((text for start, text in ENGLISH.items() if message.startswith(start)), message)


def steering_work(
    request: Request, viewer: Viewer, tenant: str, key: str | None = None
) -> SteeringWork:
    """The runner the API's dependency builds for ``tenant``'s steering groups (404 for an
    unknown tenant), with the form's idempotency key as the ``Idempotency-Key``."""
    platform = viewer.platform
    platform.tenant(tenant)
    app = application(platform, tenant)
    return SteeringWork(with_key(request, key) if key else request, platform, viewer.principal, app)


def body_of(response: Response) -> Any:
    return json.loads(bytes(response.body))


def fresh(work: SteeringWork) -> None:
    """The read model at the head of the group tenant's log (what was just posted shows)."""
    caught_up_with_heads(work.platform, CONTEXT, CONTEXT, [work.app.tenant])


def group_tenants(viewer: Viewer) -> list[str]:
    """Whose groups the viewer may sit in or run: its tenant and the tenants above it."""
    return [viewer.tenant, *viewer.platform.directory().ancestors(viewer.tenant)]


def tenant_name(viewer: Viewer, key: str) -> str:
    info = viewer.platform.directory().get(key)
    return info.name if info is not None else key


def runs(work: SteeringWork) -> bool:
    return access.runs_group(work.caller, work.app.tenant)


def papers(work: SteeringWork, kind: str) -> list[dict[str, Any]]:
    """The rows of ``kind`` whose group the caller reads (the REST list handlers)."""
    lists = {
        "groups": groups_router.list_groups,
        "meetings": meetings_router.list_meetings,
        "resolutions": resolutions_router.list_resolutions,
    }
    found: list[dict[str, Any]] = body_of(
        lists[kind](work.request, work, limit=MAX_PAGE, after=None)
    )
    return found


def members(group: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(
        group["members"].values(),
        key=lambda m: (not m["voting"], not m["permanent"], m["institution"], m["member_id"]),
    )


def represented(work: SteeringWork, group_id: UUID) -> set[str]:
    """The member ids the viewer acts for today (votes for itself)."""
    group = work.app.group(group_id)
    found = access.members_represented(work.caller, work.members(group), date.today())
    return {m.member_id for m in found}


def task_rows(resolutions: list[dict[str, Any]], today: str) -> list[dict[str, Any]]:
    """The follow-up tasks of ``resolutions``: overdue first, then open by due date, then
    done."""
    rows = []
    for r in resolutions:
        for task in r.get("tasks") or []:
            done = bool(task.get("done_on"))
            overdue = not done and str(task["due_on"]) < today
            rows.append({**task, "resolution": r, "overdue": overdue, "done": done})
    return sorted(rows, key=lambda t: (not t["overdue"], t["done"], str(t["due_on"])))


def meeting_state(doc: dict[str, Any]) -> str:
    """A meeting row's state, as ``Meeting.state`` names it (the row has the facts only)."""
    if doc.get("minutes_approved"):
        return "minutes_approved"
    if doc.get("minutes") is not None:
        return "minutes_drafted"
    if doc.get("held_on"):
        return "held"
    return "invited" if doc.get("invited_on") else "scheduled"


def vote_counts(resolution: dict[str, Any]) -> dict[str, int]:
    votes = resolution.get("votes") or {}
    return {code: sum(1 for v in votes.values() if v == code) for code in VOTES}


def german_rule(rule: str, detail: str, status: int, facts: dict[str, Any]) -> str:
    """``forms.submit``'s ``translate``: a steering rule's German message, else the shared
    one (``forms.german``)."""
    return RULES[rule] if rule in RULES else german(rule, detail, status)


def translated(form: Form) -> None:
    """The shared field types' English messages in German (the rules: ``german_rule``)."""
    for name, messages in form.errors.items():
        form.errors[name] = [_german(message) for message in messages]


def submit_steering(
    request: Request,
    viewer: Viewer,
    tenant: str,
    form: Form,
    model: type[M],
    body: dict[str, Any],
    call: Callable[[M, SteeringWork], Response],
    *,
    fields: dict[str, str] | None = None,
) -> Submitted | None:
    """``forms.submit`` for a steering command of ``tenant``'s groups (the REST handler)."""

    done = submit(
        request, viewer, form, model, body, call, fields=fields, translate=german_rule,
        work=lambda key: steering_work(request, viewer, tenant, key),
    )  # fmt: skip
    translated(form)
    return done


@contextmanager
def german_refusals() -> Iterator[None]:
    """A steering rule's refusal while reading, with its German message."""
    try:
        yield
    except (Problem, DomainError) as e:
        if e.rule in RULES:
            raise Problem(e.status, "steering", RULES[e.rule]) from None
        raise


def refusal_page(request: Request, viewer: Viewer, e: Problem) -> Response:
    return render(
        request, "error.html", viewer, status=e.status,
        title=STATUS_TITLES.get(e.status, "Fehler"), detail=e.detail,
    )  # fmt: skip


def read_page(request: Request, viewer: Viewer, build: Callable[[], Response]) -> Response:
    """``build`` the page; a steering rule's refusal as a German error page."""
    try:
        with german_refusals():
            return build()
    except Problem as e:
        if e.rule != "steering":
            raise
        return refusal_page(request, viewer, e)

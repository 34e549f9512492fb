"""The coordination post's pages (Koordinierungsstelle): the cases of the positions it
supervises, the approvals waiting for it, system gaps and topics through the strategic
cycle with their submission to the steering group, the positions and supervision lines.

Reads go through the REST handlers and the read models with their access rules (a
coordinator sees the cases of the positions whose supervision line names their post and
position, ``contexts/case_management/access.py``); every form posts the REST handler's
command with the form's idempotency key (``services/web/base.py``).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response

from contexts.coordination.gaps import NEXT_STEP, CycleStep
from gateway.access import town_view_tenants
from projections import coordination as figures
from runtime.http.auth import Role
from runtime.http.reads import caught_up_with_heads
from services.case_management import cases_router
from services.case_management.case_models import Decide
from services.coordination import cycle_router
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
from services.web.forms import case_work, status_of, submit
from services.web.pages_coordination_support import (
    CYCLE_STEPS,
    EMPLOYER_KINDS,
    GAP_SOURCES,
    POSITION_TYPES,
    fte,
    may_write,
    readable,
    submit_coordination,
)

router = page_router()
HOME = "/koordination"
TOPICS = "/koordination/themen"
POSITIONS = "/koordination/stellen"
COORDINATORS = [Role.COORDINATOR]
add_nav("Fachaufsicht", HOME, COORDINATORS)
add_nav("Lücken und Themen", TOPICS, COORDINATORS)
add_nav("Stellen", POSITIONS, COORDINATORS)
add_start(Role.COORDINATOR, "Fachaufsicht und Freigaben", HOME,
          "Die Fälle der beaufsichtigten Stellen und was auf Ihre Freigabe wartet.")  # fmt: skip
add_start(Role.COORDINATOR, "Versorgungslücken und Themen", TOPICS,
          "Gemeldete Lücken, Themen im Regelkreis, Vorlage an die Lenkungsgruppe.")  # fmt: skip
add_start(Role.COORDINATOR, "Stellen und Fachaufsicht", POSITIONS,
          "Die Stellen, die in Ihrer Kommune arbeiten, und ihre Aufsichtslinien.")  # fmt: skip
MAX_CASES = 200


# -- supervised cases and approvals ---------------------------------------------------------
def _overview(
    request: Request, viewer: ViewerDep, forms: dict[str, Form], status: int = 200
) -> Response:
    work = case_work(request, viewer)
    listed = cases_router.list_cases(
        request, work, state=None, position_id=None, limit=MAX_CASES, after=None
    )
    rows: list[dict[str, Any]] = json.loads(bytes(listed.body))
    waiting = [r for r in rows if r.get("pending_approval")]
    for r in waiting:
        forms.setdefault(r["id"], new_form(request))
    return render(
        request,
        "coordination_overview.html",
        viewer,
        status=status,
        title="Fachaufsicht",
        rows=rows,
        waiting=waiting,
        forms=forms,
        more=len(rows) == MAX_CASES,
        today=date.today().isoformat(),
        german_date=labels.german_date,
    )


@router.get(HOME)
def overview(request: Request, viewer: ViewerDep) -> Response:
    return _overview(request, viewer, {})


@router.post(HOME + "/faelle/{case_id}/freigabe")
def decide(request: Request, viewer: ViewerDep, data: FormDep, case_id: UUID) -> Response:
    """The supervising post approves or refuses what the case waits for (``decide``)."""
    form = new_form(request)
    form.idempotency_key = str(data.get("idempotency_key") or form.idempotency_key)
    names = ("step", "on", "reason", "expected_version", "decision")
    form.values.update({n: str(data.get(n) or "") for n in names})
    body: dict[str, Any] = {
        "step": form.value("step"),
        "approved": form.value("decision") == "approve",
        "on": form.value("on"),
        "reason": form.value("reason"),
    }
    _versioned(form, body)
    done = submit(
        request, viewer, form, Decide, body,
        lambda b, work: cases_router.decide(case_id, b, work),
        fields={"approved": "decision", "expected_version": "form"},
    )  # fmt: skip
    if done is None:
        return _overview(request, viewer, {str(case_id): form}, status_of(form))
    outcome = "freigegeben" if body["approved"] else "abgelehnt"
    return see_other(request, f"{HOME}?erledigt={outcome}#fall-{case_id}")


# -- gaps and topics through the strategic cycle ------------------------------------------
def _topics(
    request: Request, viewer: ViewerDep, forms: dict[str, Form], status: int = 200
) -> Response:
    platform = viewer.platform
    readable(lambda: town_view_tenants(viewer.principal, platform.directory(), viewer.tenant))
    # As the REST lists: the read model as of the log's head (the page after a form shows
    # what the form just recorded).
    caught_up_with_heads(platform, "coordination", "coordination", [viewer.tenant])
    rows = platform.read.rows("coordination", [viewer.tenant])
    found = figures.gap_figures(rows)
    gaps = sorted(
        (r.doc for r in rows if r.kind == "SystemGap"),
        key=lambda g: (str(g.get("reported_on")), str(g.get("id"))),
    )
    topics = []
    for t in found.topics:
        step = CycleStep(str(t["step"]))
        after = NEXT_STEP.get(step)
        topics.append({**t, "next_step": after.value if after else None})
        forms.setdefault(f"step-{t['id']}", new_form(request))
        forms.setdefault(f"submit-{t['id']}", new_form(request))
    for name in ("gap", "topic", *(f"group-{g['id']}" for g in gaps if not g.get("topic_id"))):
        forms.setdefault(name, new_form(request)).prefix = name
    return render(
        request,
        "coordination_topics.html",
        viewer,
        status=status,
        title="Versorgungslücken und Themen",
        figures=found,
        gaps=gaps,
        topics=topics,
        forms=forms,
        steps=CYCLE_STEPS,
        sources=GAP_SOURCES,
        dimensions=list(labels.LIFE_DIMENSIONS.items()),
        may_write=may_write(viewer),
        open_topics=[(t["id"], t["title"]) for t in topics],
        today=date.today().isoformat(),
        german_date=labels.german_date,
    )


@router.get(TOPICS)
def topics(request: Request, viewer: ViewerDep) -> Response:
    return _topics(request, viewer, {})


def _topic_form(request: Request, data: Any, names: tuple[str, ...]) -> Form:
    form = new_form(request)
    form.idempotency_key = str(data.get("idempotency_key") or form.idempotency_key)
    form.values.update({n: str(data.get(n) or "") for n in names})
    return form


def _versioned(form: Form, body: dict[str, Any]) -> dict[str, Any]:
    """The version the form was rendered at (a conflict if the aggregate moved since)."""
    version = form.value("expected_version")
    if version:
        body["expected_version"] = int(version) if version.isdigit() else version
    return body


@router.post(TOPICS + "/{topic_id}/schritt")
def advance(request: Request, viewer: ViewerDep, data: FormDep, topic_id: UUID) -> Response:
    """The topic goes to the next step of the strategic cycle (``advance_topic``)."""
    form = _topic_form(request, data, ("step", "on", "note", "expected_version"))
    body = _versioned(
        form, {"step": form.value("step"), "on": form.value("on"), "note": form.value("note")}
    )
    done = submit_coordination(
        request, viewer, form, cycle_router.Advance, body,
        lambda b, cmd: cycle_router.advance(topic_id, b, cmd),
    )  # fmt: skip
    if done is None:
        return _topics(request, viewer, {f"step-{topic_id}": form}, status_of(form))
    return see_other(request, f"{TOPICS}?erledigt=schritt#thema-{topic_id}")


@router.post(TOPICS + "/{topic_id}/lenkungsgruppe")
def submit_to_steering(
    request: Request, viewer: ViewerDep, data: FormDep, topic_id: UUID
) -> Response:
    """The topic goes to the steering group with a summary (``submit_to_steering``)."""
    form = _topic_form(request, data, ("on", "summary", "expected_version"))
    body = _versioned(form, {"on": form.value("on"), "summary": form.value("summary")})
    done = submit_coordination(
        request, viewer, form, cycle_router.Submit, body,
        lambda b, cmd: cycle_router.submit(topic_id, b, cmd),
    )  # fmt: skip
    if done is None:
        return _topics(request, viewer, {f"submit-{topic_id}": form}, status_of(form))
    return see_other(request, f"{TOPICS}?erledigt=vorgelegt#thema-{topic_id}")


@router.post(TOPICS + "/luecken")
def record_gap(request: Request, viewer: ViewerDep, data: FormDep) -> Response:
    """A system gap the post noticed itself (``record_gap``; no personal data)."""
    form = _topic_form(request, data, ("life_dimension", "description", "reported_on"))
    body = {n: form.value(n) for n in ("life_dimension", "description", "reported_on")}
    done = submit_coordination(
        request, viewer, form, cycle_router.RecordGap, body,
        lambda b, cmd: cycle_router.record_gap(b, cmd),
    )  # fmt: skip
    if done is None:
        return _topics(request, viewer, {"gap": form}, status_of(form))
    return see_other(request, f"{TOPICS}?erledigt=luecke#luecken")


@router.post(TOPICS)
def open_topic(request: Request, viewer: ViewerDep, data: FormDep) -> Response:
    """A topic that gaps are grouped into, for the strategic cycle (``open_topic``)."""
    form = _topic_form(request, data, ("title", "life_dimension"))
    body = {n: form.value(n) for n in ("title", "life_dimension")}
    done = submit_coordination(
        request, viewer, form, cycle_router.OpenTopic, body,
        lambda b, cmd: cycle_router.open_topic(b, cmd),
    )  # fmt: skip
    if done is None:
        return _topics(request, viewer, {"topic": form}, status_of(form))
    return see_other(request, f"{TOPICS}?erledigt=thema#themen")


@router.post(TOPICS + "/luecken/{gap_id}/thema")
def group_gap(request: Request, viewer: ViewerDep, data: FormDep, gap_id: UUID) -> Response:
    """The gap goes into the chosen topic (``group_gap``)."""
    form = _topic_form(request, data, ("topic_id",))
    topic = form.value("topic_id")
    try:
        topic_id = UUID(topic)
    except ValueError:
        form.errors["topic_id"] = ["Bitte ein Thema auswählen."]
        return _topics(request, viewer, {f"group-{gap_id}": form}, 422)
    done = submit_coordination(
        request, viewer, form, cycle_router.GroupGap, {"gap_id": str(gap_id)},
        lambda b, cmd: cycle_router.group_gap(topic_id, b, cmd),
    )  # fmt: skip
    if done is None:
        return _topics(request, viewer, {f"group-{gap_id}": form}, status_of(form))
    return see_other(request, f"{TOPICS}?erledigt=zugeordnet#thema-{topic_id}")


# -- positions and supervision lines ------------------------------------------------------
@router.get(POSITIONS)
def positions(request: Request, viewer: ViewerDep) -> Response:
    """The positions working in the viewer's tenant, from its own log and those above it
    (the town's view, as ``GET .../positions/working-here``), with their supervision."""
    platform = viewer.platform
    tenants = readable(
        lambda: town_view_tenants(viewer.principal, platform.directory(), viewer.tenant)
    )
    caught_up_with_heads(platform, "coordination", "coordination", tenants)
    rows = platform.read.rows("coordination", tenants)
    working = figures.positions_working_in(rows, viewer.tenant, date.today())
    names = {key: t.name for key, t in platform.directory().tenants.items()}
    return render(
        request,
        "coordination_positions.html",
        viewer,
        title="Stellen und Fachaufsicht",
        positions=working,
        names=names,
        titles={r.key: str(r.doc["title"]) for r in rows if r.kind == "Position"},
        types=POSITION_TYPES,
        employers=EMPLOYER_KINDS,
        fte=fte,
        german_date=labels.german_date,
    )

"""The steering group's pages (Lenkungsgruppe): the groups the viewer sits in or runs with
their members, the meetings with agenda, attendance, quorum, minutes and resolutions, the
resolutions with their votes, follow-up tasks, implementation and evaluation.

A member of any tenant reads what the group allows (Rheine's coordination post in Kreis
Steinfurt's group); the coordination post of the group's tenant runs it: the forms post the
REST handlers' commands (``services/steering/*_router.py``) with the form's idempotency key,
and a page offers only the forms the same access rule lets the viewer use.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import Path, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from runtime.http.auth import Role
from runtime.http.fields import MAX_INDEX
from services.steering import groups_router, meetings_router, resolutions_router
from services.steering import models as m
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
from services.web.forms import status_of
from services.web.pages_steering_views import (
    FIGURE_LABELS,
    HOME,
    ITEM_SOURCES,
    MEETING_STATES,
    NEXT_STATUSES,
    RESOLUTION_STATUSES,
    RESOLUTIONS,
    VOTES,
    fresh,
    group_tenants,
    meeting_state,
    members,
    papers,
    read_page,
    represented,
    runs,
    steering_work,
    submit_steering,
    task_rows,
    tenant_name,
    vote_counts,
)

router = page_router()
TAKING_PART = [Role.STEERING_MEMBER, Role.COORDINATOR, Role.DISTRICT_COORDINATOR]
add_nav("Lenkungsgruppen", HOME, TAKING_PART)
add_nav("Beschlüsse", RESOLUTIONS, TAKING_PART)
GROUPS_TEXT = "Ihre Lenkungsgruppen: Mitglieder, Sitzungen, Tagesordnung und Protokolle."
TASKS_TEXT = "Beschlussempfehlungen, Abstimmungen, Arbeitsaufträge (überfällige zuerst)."
for _role in TAKING_PART:
    add_start(_role, "Lenkungsgruppen", HOME, GROUPS_TEXT)
    add_start(_role, "Beschlüsse und Arbeitsaufträge", RESOLUTIONS, TASKS_TEXT)
Tenant = Annotated[str, Path(max_length=60, pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")]
LABELS: dict[str, Any] = {
    "states": MEETING_STATES, "sources": ITEM_SOURCES, "statuses": RESOLUTION_STATUSES,
    "votes": VOTES, "next_statuses": NEXT_STATUSES, **FIGURE_LABELS,
}  # fmt: skip


def _today() -> str:
    return date.today().isoformat()


def _posted(request: Request, data: FormData, *names: str) -> Form:
    form = new_form(request)
    form.idempotency_key = str(data.get("idempotency_key") or form.idempotency_key)
    form.values.update({n: str(data.get(n) or "").strip() for n in names})
    return form


# -- groups --------------------------------------------------------------------------------
@router.get(HOME)
def groups(request: Request, viewer: ViewerDep) -> Response:
    """The groups of the viewer's tenant and the tenants above it that the viewer reads."""

    def build() -> Response:
        found = []
        for tenant in group_tenants(viewer):
            work = steering_work(request, viewer, tenant)
            work.taking_part()
            fresh(work)
            for g in papers(work, "groups"):
                found.append({**g, "tenant": tenant, "tenant_name": tenant_name(viewer, tenant),
                              "runs": runs(work), "listed": members(g)})  # fmt: skip
        return render(request, "steering_groups.html", viewer, title="Lenkungsgruppen",
                      groups=found)  # fmt: skip

    return read_page(request, viewer, build)


def _group(request: Request, viewer: ViewerDep, tenant: str, group_id: UUID,
           form: Form | None = None) -> Response:  # fmt: skip
    def build() -> Response:
        work = steering_work(request, viewer, tenant)
        group = groups_router.get_group(group_id, work)
        fresh(work)
        meetings = sorted(
            ({**x, "state": x.get("state") or meeting_state(x)}
             for x in papers(work, "meetings") if x["group_id"] == str(group_id)),
            key=lambda x: str(x["scheduled_for"]), reverse=True,
        )  # fmt: skip
        resolutions = [r for r in papers(work, "resolutions") if r["group_id"] == str(group_id)]
        return render(
            request, "steering_group.html", viewer, status=status_of(form) if form else 200,
            title=str(group["name"]), group=group, tenant=tenant,
            tenant_name=tenant_name(viewer, tenant), listed=members(group), meetings=meetings,
            resolutions=resolutions, runs=runs(work), today=_today(),
            form=form or new_form(request), **LABELS,
        )  # fmt: skip

    return read_page(request, viewer, build)


@router.get(HOME + "/{tenant}/gruppen/{group_id}")
def group(request: Request, viewer: ViewerDep, tenant: Tenant, group_id: UUID) -> Response:
    return _group(request, viewer, tenant, group_id)


@router.post(HOME + "/{tenant}/gruppen/{group_id}/sitzungen")
def schedule(request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant,
             group_id: UUID) -> Response:  # fmt: skip
    """The post schedules a meeting of the group (``schedule_meeting``)."""
    form = _posted(request, data, "title", "scheduled_for")
    body = {"group_id": str(group_id), **form.values}
    done = submit_steering(
        request, viewer, tenant, form, m.ScheduleMeeting, body,
        meetings_router.schedule_meeting, fields={"group_id": "form"},
    )  # fmt: skip
    if done is None:
        return _group(request, viewer, tenant, group_id, form)
    meeting = done.outcome["events"][0]["aggregate_id"]
    return see_other(request, f"{HOME}/{tenant}/sitzungen/{meeting}?erledigt=geplant")


# -- meetings ------------------------------------------------------------------------------
def _meeting(request: Request, viewer: ViewerDep, tenant: str, meeting_id: UUID,
             forms: dict[str, Form] | None = None) -> Response:  # fmt: skip
    forms = dict(forms or {})

    def build() -> Response:
        work = steering_work(request, viewer, tenant)
        meeting = meetings_router.get_meeting(meeting_id, work)
        group = groups_router.get_group(UUID(meeting["group_id"]), work)
        fresh(work)
        resolutions = [r for r in papers(work, "resolutions")
                       if r["meeting_id"] == str(meeting_id)]  # fmt: skip
        for name in ("item", "invite", "hold", "minutes", "propose"):
            forms.setdefault(name, new_form(request)).prefix = name
        failed = next((f for f in forms.values() if f.errors), None)
        return render(
            request, "steering_meeting.html", viewer,
            status=status_of(failed) if failed else 200, title=str(meeting["title"]),
            meeting=meeting, group=group, tenant=tenant, listed=members(group),
            resolutions=[{**r, "counts": vote_counts(r)} for r in resolutions],
            runs=runs(work), forms=forms, today=_today(), **LABELS,
        )  # fmt: skip

    return read_page(request, viewer, build)


MEETING = HOME + "/{tenant}/sitzungen/{meeting_id}"


@router.get(MEETING)
def meeting(request: Request, viewer: ViewerDep, tenant: Tenant, meeting_id: UUID) -> Response:
    return _meeting(request, viewer, tenant, meeting_id)


def _meeting_command(
    request: Request, viewer: ViewerDep, tenant: str, meeting_id: UUID, name: str,
    form: Form, model: Any, body: dict[str, Any], call: Any, done_text: str,
    fields: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    done = submit_steering(request, viewer, tenant, form, model, body, call, fields=fields)
    if done is None:
        return _meeting(request, viewer, tenant, meeting_id, {name: form})
    if name == "propose":
        resolution = done.outcome["events"][0]["aggregate_id"]
        return see_other(request, f"{HOME}/{tenant}/beschluesse/{resolution}?erledigt={done_text}")
    page = f"{HOME}/{tenant}/sitzungen/{meeting_id}"
    return see_other(request, f"{page}?erledigt={done_text}")


@router.post(MEETING + "/tagesordnung")
def add_item(request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant,
             meeting_id: UUID) -> Response:  # fmt: skip
    form = _posted(request, data, "title")
    return _meeting_command(
        request, viewer, tenant, meeting_id, "item", form, m.MemberItem, dict(form.values),
        lambda b, w: meetings_router.add_item(meeting_id, b, w), "punkt",
    )  # fmt: skip


@router.post(MEETING + "/einladung")
def invite(request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant,
           meeting_id: UUID) -> Response:  # fmt: skip
    form = _posted(request, data, "sent_on")
    return _meeting_command(
        request, viewer, tenant, meeting_id, "invite", form, m.Invite, dict(form.values),
        lambda b, w: meetings_router.send_invitation(meeting_id, b, w), "eingeladen",
    )  # fmt: skip


@router.post(MEETING + "/anwesenheit")
def hold(request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant,
         meeting_id: UUID) -> Response:  # fmt: skip
    form = _posted(request, data, "held_on")
    present = [str(v) for v in data.getlist("present")]
    body = {**form.values, "present": present}
    form.values["present"] = present
    return _meeting_command(
        request, viewer, tenant, meeting_id, "hold", form, m.Hold, body,
        lambda b, w: meetings_router.hold(meeting_id, b, w), "gehalten",
    )  # fmt: skip


@router.post(MEETING + "/protokoll")
def minutes(request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant,
            meeting_id: UUID) -> Response:  # fmt: skip
    form = _posted(request, data, "minutes", "on")
    return _meeting_command(
        request, viewer, tenant, meeting_id, "minutes", form, m.DraftMinutes, dict(form.values),
        lambda b, w: meetings_router.draft_minutes(meeting_id, b, w), "protokoll",
    )  # fmt: skip


@router.post(MEETING + "/beschluesse")
def propose(request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant,
            meeting_id: UUID) -> Response:  # fmt: skip
    form = _posted(request, data, "item", "title")
    item = form.value("item")
    body = {
        "meeting_id": str(meeting_id),
        **form.values,
        "item": int(item) if item.isdigit() else item,
    }
    return _meeting_command(
        request, viewer, tenant, meeting_id, "propose", form, m.Propose, body,
        resolutions_router.propose, "vorgelegt", fields={"meeting_id": "form"},
    )  # fmt: skip


# -- resolutions ---------------------------------------------------------------------------
@router.get(RESOLUTIONS)
def resolutions(request: Request, viewer: ViewerDep) -> Response:
    """The resolutions of every group the viewer reads, their tasks overdue first."""

    def build() -> Response:
        found = []
        for tenant in group_tenants(viewer):
            work = steering_work(request, viewer, tenant)
            work.taking_part()
            fresh(work)
            names = {g["id"]: g["name"] for g in papers(work, "groups")}
            found += [{**r, "tenant": tenant, "group_name": names.get(r["group_id"], "–"),
                       "counts": vote_counts(r)} for r in papers(work, "resolutions")]  # fmt: skip
        return render(
            request, "steering_resolutions.html", viewer, title="Beschlüsse",
            resolutions=found, tasks=task_rows(found, _today()), **LABELS,
        )  # fmt: skip

    return read_page(request, viewer, build)


def _resolution(request: Request, viewer: ViewerDep, tenant: str, resolution_id: UUID,
                forms: dict[str, Form] | None = None) -> Response:  # fmt: skip
    forms = dict(forms or {})

    def build() -> Response:
        work = steering_work(request, viewer, tenant)
        resolution = resolutions_router.get_resolution(resolution_id, work)
        meeting = meetings_router.get_meeting(UUID(resolution["meeting_id"]), work)
        group = groups_router.get_group(UUID(resolution["group_id"]), work)
        running = runs(work)
        mine = represented(work, UUID(resolution["group_id"]))
        voters = [x for x in members(group) if x["voting"]
                  and x["member_id"] in meeting["present"]
                  and x["member_id"] not in resolution["votes"]
                  and (running or x["member_id"] in mine)]  # fmt: skip
        for name in ("vote", "close", "task", "status", "evaluate", "hand"):
            forms.setdefault(name, new_form(request)).prefix = name
        for task in resolution["tasks"]:
            forms.setdefault(f"done-{task['task']}", new_form(request)).prefix = f"t{task['task']}"
        failed = next((f for f in forms.values() if f.errors), None)
        return render(
            request, "steering_resolution.html", viewer,
            status=status_of(failed) if failed else 200, title=str(resolution["title"]),
            resolution=resolution, meeting=meeting, group=group, tenant=tenant,
            names={x["member_id"]: x["institution"] for x in members(group)},
            counts=vote_counts(resolution), tasks=task_rows([resolution], _today()),
            voters=voters, runs=running, forms=forms, today=_today(), **LABELS,
        )  # fmt: skip

    return read_page(request, viewer, build)


RESOLUTION = HOME + "/{tenant}/beschluesse/{resolution_id}"


@router.get(RESOLUTION)
def resolution(request: Request, viewer: ViewerDep, tenant: Tenant,
               resolution_id: UUID) -> Response:  # fmt: skip
    return _resolution(request, viewer, tenant, resolution_id)


def _resolution_command(
    request: Request, viewer: ViewerDep, tenant: str, resolution_id: UUID, name: str,
    form: Form, model: Any, body: dict[str, Any], call: Any, done_text: str,
    fields: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    done = submit_steering(request, viewer, tenant, form, model, body, call, fields=fields)
    if done is None:
        return _resolution(request, viewer, tenant, resolution_id, {name: form})
    return see_other(request, f"{HOME}/{tenant}/beschluesse/{resolution_id}?erledigt={done_text}")


@router.post(RESOLUTION + "/stimmen")
def vote(request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant,
         resolution_id: UUID) -> Response:  # fmt: skip
    form = _posted(request, data, "member_id", "vote")
    return _resolution_command(
        request, viewer, tenant, resolution_id, "vote", form, m.CastVote, dict(form.values),
        lambda b, w: resolutions_router.cast_vote(resolution_id, b, w), "stimme",
    )  # fmt: skip


@router.post(RESOLUTION + "/ergebnis")
def close(request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant,
          resolution_id: UUID) -> Response:  # fmt: skip
    form = _posted(request, data, "on")
    return _resolution_command(
        request, viewer, tenant, resolution_id, "close", form, m.CloseVote, dict(form.values),
        lambda b, w: resolutions_router.close_vote(resolution_id, b, w), "ergebnis",
    )  # fmt: skip


@router.post(RESOLUTION + "/auftraege")
def assign(request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant,
           resolution_id: UUID) -> Response:  # fmt: skip
    form = _posted(request, data, "title", "owner_institution", "due_on")
    return _resolution_command(
        request, viewer, tenant, resolution_id, "task", form, m.AssignTask, dict(form.values),
        lambda b, w: resolutions_router.assign_task(resolution_id, b, w), "auftrag",
    )  # fmt: skip


@router.post(RESOLUTION + "/auftraege/{task}/erledigt")
def task_done(
    request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant, resolution_id: UUID,
    task: Annotated[int, Path(ge=1, le=MAX_INDEX)],
) -> Response:  # fmt: skip
    form = _posted(request, data, "on")
    form.prefix = f"t{task}"
    return _resolution_command(
        request, viewer, tenant, resolution_id, f"done-{task}", form, m.TaskDone,
        dict(form.values),
        lambda b, w: resolutions_router.complete_task(resolution_id, task, b, w), "erledigt",
    )  # fmt: skip

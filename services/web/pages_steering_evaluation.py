"""A resolution's implementation and evaluation on its page (the coordination post's forms).

Three forms post ``change_status`` (``services/steering/resolutions_router.py``):

- the status form: ``in_implementation`` or ``implemented``;
- the evaluation form, the normal way: the indicator counted from case management's events
  (``evaluation.figure``: a life dimension, optionally a referral service, a period before
  and a period after, ``readjust``);
- the fallback "Indikator von Hand eintragen": ``indicator``, ``before``, ``after``,
  ``source`` as the evaluator read them.

A refusal shows its German message next to the field the problem names (``FIGURE``,
``TYPED``); nothing is appended.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response

from services.steering import models as m
from services.steering import resolutions_router
from services.web.base import FormDep, ViewerDep, page_router
from services.web.pages_steering import RESOLUTION, Tenant, _posted, _resolution_command

router = page_router()
PERIODS = ("before_from", "before_to", "after_from", "after_to")
FIGURE = {
    "evaluation.figure.life_dimension": "life_dimension",
    "evaluation.figure.service": "service",
    **{f"evaluation.figure.{n.replace('_', '.')}": n for n in PERIODS},
    "evaluation.figure.before": "before_from",
    "evaluation.figure.after": "after_from",
    "evaluation.figure": "life_dimension",
    "evaluation.readjust": "readjust",
    "evaluation": "life_dimension",
    "status": "form",
}
"""A refusal's field (the REST body's) -> the evaluation form's field."""
TYPED = ("indicator", "before", "after", "source")
TYPED_FIELDS = {f"evaluation.{n}": n for n in TYPED} | {
    "evaluation": "indicator", "evaluation.readjust": "readjust", "status": "form",
}  # fmt: skip


def _change(
    request: Request, viewer: ViewerDep, tenant: str, resolution_id: UUID, name: str,
    form: Any, body: dict[str, Any], done_text: str, fields: dict[str, str],
) -> Response:  # fmt: skip
    return _resolution_command(
        request, viewer, tenant, resolution_id, name, form, m.ChangeStatus, body,
        lambda b, w: resolutions_router.change_status(resolution_id, b, w), done_text,
        fields=fields,
    )  # fmt: skip


@router.post(RESOLUTION + "/stand")
def change_status(request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant,
                  resolution_id: UUID) -> Response:  # fmt: skip
    """Implementation begun or finished (``evaluated`` has the forms below)."""
    form = _posted(request, data, "status", "on")
    body = {"status": form.value("status"), "on": form.value("on")}
    return _change(request, viewer, tenant, resolution_id, "status", form, body, "stand",
                   {"evaluation": "status"})  # fmt: skip


@router.post(RESOLUTION + "/evaluation")
def evaluate(request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant,
             resolution_id: UUID) -> Response:  # fmt: skip
    """The evaluation with the indicator the platform counts from case management."""
    form = _posted(request, data, "on", "life_dimension", "service", "readjust", *PERIODS)
    figure: dict[str, Any] = {
        "life_dimension": form.value("life_dimension"),
        "before": {"from": form.value("before_from"), "to": form.value("before_to")},
        "after": {"from": form.value("after_from"), "to": form.value("after_to")},
    }
    if form.value("service"):
        figure["service"] = form.value("service")
    evaluation = {"figure": figure, "readjust": form.value("readjust") == "ja"}
    body = {"status": "evaluated", "on": form.value("on"), "evaluation": evaluation}
    return _change(request, viewer, tenant, resolution_id, "evaluate", form, body, "evaluiert",
                   FIGURE)  # fmt: skip


@router.post(RESOLUTION + "/evaluation/von-hand")
def evaluate_by_hand(request: Request, viewer: ViewerDep, data: FormDep, tenant: Tenant,
                     resolution_id: UUID) -> Response:  # fmt: skip
    """The fallback: the indicator as the evaluator read it (e.g. from another figure)."""
    form = _posted(request, data, "on", "readjust", *TYPED)
    evaluation: dict[str, Any] = {n: form.value(n) for n in TYPED}
    for n in ("before", "after"):
        evaluation[n] = form.value(n).replace(",", ".")
    evaluation["readjust"] = form.value("readjust") == "ja"
    body = {"status": "evaluated", "on": form.value("on"), "evaluation": evaluation}
    return _change(request, viewer, tenant, resolution_id, "hand", form, body, "evaluiert",
                   TYPED_FIELDS)  # fmt: skip

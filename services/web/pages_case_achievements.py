"""The case page's integration achievements: the form posts to the REST handler
``record_achievement`` through the shared ``forms.submit``.

A refusal renders the case page again with the German message next to the field the
problem names (nothing appended); a success redirects to the case page (303) and names the
offices the achievement was shared with under the person's consent (the REST answer's
``shared_with``), or that it was recorded on the case only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import Request, Response

from services.case_management import case_work_router as work_router
from services.case_management.case_models import RecordAchievement
from services.web.base import FormDep, ViewerDep, new_form, page_router, see_other
from services.web.forms import german, submit
from services.web.pages_cases import case_page

router = page_router()
NAME = "achievement"
SHARED = "weitergegeben"
"""The query parameter of the redirect naming the offices it was shared with (read by
``pages_cases.show_case``)."""

MESSAGES = {
    "language-level": "Ein Sprachzertifikat braucht sein Niveau (A1 bis C2); die anderen"
    " Leistungen haben keines.",
    "achievement-in-future": "Das Datum der Leistung liegt nach dem Tag der Erfassung.",
    "date-before-opening": "Das Datum liegt vor der Eröffnung des Falls.",
    "unknown-achievement": "Bitte eine der angebotenen Leistungen wählen.",
}
"""German messages of the achievement rules (the others are ``forms.RULES``')."""


def _german(rule: str, detail: str, status: int, facts: dict[str, Any]) -> str:
    return MESSAGES.get(rule) or german(rule, detail, status)


def _text(value: object) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    return text or None


@router.post("/faelle/{case_id}/integrationsleistungen")
def record_achievement(
    request: Request, viewer: ViewerDep, data: FormDep, case_id: UUID
) -> Response:
    form = new_form(request)
    form.idempotency_key = str(data.get("idempotency_key") or form.idempotency_key)
    form.values.update({k: v for k, v in data.multi_items() if isinstance(v, str)})
    version = str(data.get("expected_version") or "").strip()
    found = {
        "kind": _text(data.get("kind")),
        "level": _text(data.get("level")),
        "achieved_on": _text(data.get("achieved_on")),
        "on": _text(data.get("on")),
        "expected_version": int(version) if version.isdigit() else None,
    }
    body = {k: v for k, v in found.items() if v is not None}
    done = submit(
        request, viewer, form, RecordAchievement, body,
        lambda b, w: work_router.record_achievement(case_id, b, w),
        fields={"state": "form"}, translate=_german,
    )  # fmt: skip
    if done is None:
        return case_page(request, viewer, case_id, failed=(NAME, form))
    offices = ",".join(str(o) for o in done.outcome.get("shared_with") or [])
    return see_other(
        request, f"/faelle/{case_id}?erledigt={NAME}&{SHARED}={quote(offices)}#ergebnis"
    )

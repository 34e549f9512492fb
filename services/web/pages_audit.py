"""The auditor's pages (Prüfung, Bezirksregierung): the Verwendungsnachweis of a notice and
year with a drill-down from each figure to the ids of the events it is computed from, the
verification of the tenant's hash chains, and the record of the auditor's own queries.

Every page calls the audit REST handler itself (``services/audit/router.py``): the same
mandate check (``contexts/audit/access.py``), the same computation and the same entry in
the audited tenant's audit log before the answer goes out, so what the page shows is what
the API, the CSV and the PDF say, and each page view is in the record of queries.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from contexts.coordination.statement import VacancyRule
from gateway.access import audits
from runtime.http.auth import Role
from runtime.http.problems import Problem
from runtime.http.reads import caught_up_with_heads
from services.audit import labels as audit_labels
from services.audit import router as audit_router
from services.web import labels
from services.web.base import Viewer, ViewerDep, add_nav, add_start, page_router, render
from services.web.pages_coordination_support import POSITION_TYPES

router = page_router()
HOME = "/pruefung"
add_nav("Prüfung", HOME, [Role.AUDITOR])
add_start(Role.AUDITOR, "Verwendungsnachweise prüfen", HOME,
          "Nachweise je Bescheid und Jahr bis zu den Ereignissen, die Prüfung der Hash-Ketten"
          " und Ihre eigenen Abfragen.")  # fmt: skip
REFERENCE = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$"
YEAR = Annotated[int, Query(ge=2015, le=2100)]
QUERY_PAGE = 200


def audited(viewer: Viewer) -> list[str]:
    """The tenants this auditor audits: the mandate's, or their own and those below it."""
    directory = viewer.platform.directory()
    named = (
        sorted(viewer.principal.mandate)
        if viewer.principal.mandate is not None
        else [viewer.tenant, *directory.descendants(viewer.tenant)]
    )
    return [t for t in named if directory.get(t) and audits(viewer.principal, directory, t)]


def _names(viewer: Viewer) -> dict[str, str]:
    return {key: t.name for key, t in viewer.platform.directory().tenants.items()}


@router.get(HOME)
def start(request: Request, viewer: ViewerDep) -> Response:
    """The audited tenants and their notices with the years they run through."""
    if Role.AUDITOR not in viewer.principal.roles:
        raise Problem(403, "role-not-allowed", "this page needs the role auditor")
    tenants = audited(viewer)
    notices: dict[str, list[dict[str, Any]]] = {}
    caught_up_with_heads(viewer.platform, "coordination", "coordination", tenants)
    for row in viewer.platform.read.rows("coordination", tenants, "FundingNotice"):
        period = row.doc.get("period") or {}
        first, last = str(period.get("start", "0000"))[:4], str(period.get("end", "0000"))[:4]
        years = list(range(int(first), int(last) + 1)) if first.isdigit() else []
        notices.setdefault(row.tenant, []).append(
            {"reference": row.doc["reference"], "baustein": row.doc["baustein"], "years": years}
        )
    for found in notices.values():
        found.sort(key=lambda n: (n["baustein"], n["reference"]))
    return render(
        request, "audit_start.html", viewer, title="Prüfung", tenants=tenants,
        notices=notices, names=_names(viewer), bausteine=audit_labels.BAUSTEINE,
    )  # fmt: skip


def _statement(viewer: Viewer, tenant: str, notice: str, year: int) -> dict[str, Any]:
    """The statement as ``GET /audit/tenants/<t>/statements/<notice>?year=`` gives it
    (mandate check, computation, and the query recorded in the tenant's audit log)."""
    platform = viewer.platform
    answer = audit_router.get_statement(
        notice, viewer.principal, platform.tenant(tenant), platform, year=year,
        format="json", rule=VacancyRule.TWELFTH_PER_VACANT_MONTH, as_of=None, position=None,
    )  # fmt: skip
    found: dict[str, Any] = json.loads(bytes(answer.body))
    return found


@router.get(HOME + "/{tenant}/nachweis")
def statement(
    request: Request,
    viewer: ViewerDep,
    tenant: str,
    bescheid: Annotated[str, Query(pattern=REFERENCE)],
    jahr: YEAR,
) -> Response:
    s = _statement(viewer, tenant, bescheid, jahr)
    return render(
        request, "audit_statement.html", viewer, title=f"Verwendungsnachweis {s['notice']}",
        s=s, tenant=tenant, year=jahr, names=_names(viewer), label_of=_line_label,
        euro=_euro, fte=_fte, types=POSITION_TYPES, rules=AMOUNT_RULES,
    )  # fmt: skip


AMOUNT_RULES = {"flat": "Pauschale", "share": "Anteil", "actual_cost": "Ist-Kosten"}
"""The forwarding contracts' amount rules as the statement names them."""
FIGURES = r"^(granted|totals|months|positions|contracts)-\d{1,3}$"
"""A figure of the statement: its group and its place in it."""


def _figure(s: dict[str, Any], group: str, index: int) -> dict[str, Any]:
    """One figure of the statement as the evidence page shows it: what, how much, events."""
    lines = s[group]
    if index >= len(lines):
        raise Problem(404, "not-found", f"the statement has no figure {group}-{index}")
    line = lines[index]
    if group in ("granted", "totals"):
        title, shown = _line_label(line["label"]), f"{_euro(line['value'])} €"
    elif group == "months":
        title = f"Stellenbesetzung {labels.german_month(line['month'])}"
        shown = f"{_fte(line['filled_fte'])} VZÄ besetzt"
    elif group == "positions":
        title, shown = f"Stelle {line['title']}", f"{_euro(line['actual_cost'])} € Ist-Kosten"
    else:
        title = f"Weiterleitungsvertrag {str(line['contract_id'])[:8]}"
        shown = f"{_euro(line['grant_use'])} € Zuwendung"
    return {"title": title, "shown": shown, "events": line.get("events") or []}


@router.get(HOME + "/{tenant}/nachweis/belege")
def evidence(
    request: Request,
    viewer: ViewerDep,
    tenant: str,
    bescheid: Annotated[str, Query(pattern=REFERENCE)],
    jahr: YEAR,
    zahl: Annotated[str, Query(pattern=FIGURES)],
) -> Response:
    """One figure of the statement and the ids of the events it is computed from."""
    s = _statement(viewer, tenant, bescheid, jahr)
    group, _, index = zahl.partition("-")
    line = _figure(s, group, int(index))
    return render(
        request, "audit_evidence.html", viewer, title=f"Belege: {line['title']}",
        s=s, tenant=tenant, year=jahr, line=line, names=_names(viewer),
    )  # fmt: skip


@router.get(HOME + "/{tenant}/kette")
def verification(request: Request, viewer: ViewerDep, tenant: str) -> Response:
    """The tenant's hash chains checked as ``kim audit verify`` and the REST answer do."""
    platform = viewer.platform
    found = audit_router.verification(viewer.principal, platform.tenant(tenant), platform)
    return render(
        request, "audit_verification.html", viewer, title="Prüfung der Hash-Ketten",
        v=found, tenant=tenant, names=_names(viewer), contexts=audit_labels.CONTEXTS,
        reason=audit_labels.chain_reason,
    )  # fmt: skip


@router.get(HOME + "/{tenant}/abfragen")
def queries(
    request: Request,
    viewer: ViewerDep,
    tenant: str,
    nach: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Response:
    """The auditor's own recorded queries of the tenant (this page view among them)."""
    platform = viewer.platform
    answer = audit_router.queries(
        request, viewer.principal, platform.tenant(tenant), platform, limit=QUERY_PAGE, after=nach
    )
    page: list[dict[str, Any]] = json.loads(bytes(answer.body))
    mine = [q for q in page if q["auditor"] == viewer.principal.actor]
    link = answer.headers.get("link", "")
    following = link.split("after=")[1].split(">")[0].split("&")[0] if "after=" in link else None
    return render(
        request, "audit_queries.html", viewer, title="Meine Abfragen", queries=mine,
        tenant=tenant, names=_names(viewer), following=following,
        german_date=labels.german_date,
    )  # fmt: skip


def _line_label(key: str) -> str:
    return audit_labels.LABELS.get(key, key)


def _euro(value: Any) -> str:
    return audit_labels.euro(Decimal(str(value)))


def _fte(value: Any) -> str:
    """Full-time equivalents with two places and a decimal comma."""
    return f"{Decimal(str(value)):.2f}".replace(".", ",")

"""The district coordinator's dashboard (Kommunales Integrationszentrum): the district and
its member towns in figures, without personal data.

Funding granted vs forwarded vs filled per notice (in a month, and month by month through a
year), the caseload per position against 1:100, the regional areas, and the open cases'
needs by life dimension per town. The figures are the read side's own
(``projections/coordination.py``, ``projections/case_management.py``) under the gateway's
access rule for figures (``gateway.access.figure_tenants``), as GraphQL's ``funding``,
``caseFigures`` and ``regionalAreas`` give them; each chart comes with its numbers as a table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from gateway.access import figure_tenants
from projections import case_management as case_figures
from projections import coordination as figures
from projections.projection import SUMMARY_KIND
from runtime.http.auth import Role
from runtime.http.reads import caught_up_with_heads
from runtime.readstore import Row
from services.web import labels
from services.web.base import ViewerDep, add_nav, add_start, page_router, render
from services.web.charts import Chart, Series, bar_chart, month_label
from services.web.charts_line import line_chart
from services.web.pages_coordination_support import euro, fte, readable

router = page_router()
DASHBOARD = "/kreis"
add_nav("Kreisübersicht", DASHBOARD, [Role.DISTRICT_COORDINATOR])
add_start(Role.DISTRICT_COORDINATOR, "Kreisübersicht", DASHBOARD,
          "Förderung, Stellen, Fallzahlen und Regionalbereiche des Kreises und seiner"
          " Kommunen, ohne personenbezogene Daten.")  # fmt: skip
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard shows, computed from the read models' rows."""

    tenants: list[str]
    month: str
    funding: list[figures.NoticeFigure]
    funding_chart: Chart | None
    year_chart: Chart | None
    caseload: list[case_figures.CaseloadFigure]
    titles: dict[str, str]  # position id -> its title (coordination's read model)
    areas: list[figures.AreaFigure]
    dimension_chart: Chart | None
    open_cases: int
    closed_cases: int


def default_month(rows: list[Row], today: date) -> str:
    """This month, or the last month a notice of the district ran, if all have ended."""
    ends = [
        str(r.doc["period"]["end"])[:7]
        for r in rows
        if r.kind == "FundingNotice" and r.doc.get("period")
    ]
    this = today.isoformat()[:7]
    return min(this, max(ends)) if ends else this


def _funding_chart(found: list[figures.NoticeFigure], month: str) -> Chart | None:
    if not found:
        return None
    return bar_chart(
        "foerderung-monat",
        f"Förderung je Bescheid im {month_label(month)} (VZÄ)",
        "Für jeden Förderbescheid drei Balken: bewilligte, weitergeleitete und besetzte"
        " Vollzeitäquivalente.",
        [f.reference for f in found],
        [
            Series("bewilligt", [float(f.granted_fte) for f in found]),
            Series("weitergeleitet", [float(f.forwarded_fte) for f in found]),
            Series("besetzt", [float(f.filled_fte) for f in found]),
        ],
        unit="VZÄ",
        category_header="Bescheid",
    )


def _year_chart(rows: list[Row], year: int) -> Chart | None:
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    per_month = [figures.funding_figures(rows, m) for m in months]
    if not any(per_month):
        return None

    def total(pick: str) -> list[float]:
        return [float(sum((getattr(f, pick) for f in found), Decimal(0))) for found in per_month]

    return line_chart(
        "foerderung-jahr",
        f"Förderung aller Bescheide Monat für Monat {year} (VZÄ)",
        "Stufenlinien der bewilligten, weitergeleiteten und besetzten Vollzeitäquivalente"
        " je Monat; jede Linie hat ihre eigene Strichart und Punktform.",
        [month_label(m, short=True) for m in months],
        [
            Series("bewilligt", total("granted_fte")),
            Series("weitergeleitet", total("forwarded_fte")),
            Series("besetzt", total("filled_fte")),
        ],
        step=True,
        unit="VZÄ",
    )


def _dimension_chart(summaries: list[Row], names: dict[str, str]) -> Chart | None:
    per_town: dict[str, Counter[str]] = {}
    for r in summaries:
        if r.kind == SUMMARY_KIND:
            per_town.setdefault(r.tenant, Counter()).update(
                {k[4:]: int(v) for k, v in r.doc.items() if k.startswith("dim:")}
            )
    dimensions = sorted({d for c in per_town.values() for d in c})
    if not dimensions:
        return None
    towns = sorted(per_town)
    return bar_chart(
        "lebensdimensionen",
        "Bedarfe offener Fälle je Lebensdimension",
        "Gestapelte Balken je Lebensdimension, ein Abschnitt je Kommune; die Summe steht über"
        " dem Balken.",
        [labels.label("dimension", d) for d in dimensions],
        [Series(names.get(t, t), [per_town[t][d] for d in dimensions]) for t in towns],
        stacked=True,
        unit="Fälle",
        category_header="Lebensdimension",
        whole=True,
    )


def dashboard(viewer: ViewerDep, month: str | None, today: date) -> Dashboard:
    """The figures of the viewer's district and its member towns (one read per model)."""
    platform = viewer.platform
    directory = platform.directory()
    tenants = readable(lambda: figure_tenants(viewer.principal, directory, viewer.tenant, True))
    # As of each log's head when the page is asked for, as the REST lists.
    caught_up_with_heads(platform, "coordination", "coordination", tenants)
    caught_up_with_heads(platform, "case_management", "case_management", tenants)
    rows = platform.read.rows("coordination", tenants)
    chosen = month or default_month(rows, today)
    funding = figures.funding_figures(rows, chosen)
    summaries = [
        r
        for kind in (SUMMARY_KIND, "KnownPosition")
        for r in platform.read.rows("case_management", tenants, kind)
    ]
    found = case_figures.case_figures(
        [r.doc for r in summaries if r.kind == SUMMARY_KIND],
        [r for r in summaries if r.kind == "KnownPosition"],
    )
    own = [r for r in rows if r.tenant == viewer.tenant]
    towns = {str(r.doc["work_tenant"]) for r in own if r.kind == "Position"} & set(tenants)
    areas = figures.regional_area_figures(
        own, [r.doc for r in summaries if r.kind == SUMMARY_KIND and r.tenant in towns], today
    )
    names = {key: t.name for key, t in directory.tenants.items()}
    return Dashboard(
        tenants=tenants,
        month=chosen,
        funding=funding,
        funding_chart=_funding_chart(funding, chosen),
        year_chart=_year_chart(rows, int(chosen[:4])),
        caseload=found.caseload,
        titles={r.key: str(r.doc["title"]) for r in rows if r.kind == "Position"},
        areas=areas,
        dimension_chart=_dimension_chart(summaries, names),
        open_cases=found.open_cases,
        closed_cases=found.closed_cases,
    )


@router.get(DASHBOARD)
def district(
    request: Request,
    viewer: ViewerDep,
    monat: Annotated[str | None, Query(pattern=MONTH)] = None,
) -> Response:
    today = date.today()
    board = dashboard(viewer, monat, today)
    names = {key: t.name for key, t in viewer.platform.directory().tenants.items()}
    return render(
        request,
        "district_dashboard.html",
        viewer,
        title="Kreisübersicht",
        board=board,
        month_name=month_label(board.month),
        names=names,
        fte=fte,
        euro=euro,
        target=case_figures.CASELOAD_TARGET_PER_FTE,
    )

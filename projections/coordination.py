"""Coordination's read side: funding, positions, gaps and regional areas from its rows.

Pure functions over documents (see ``documents``); no personal data goes in or out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from contexts.coordination.application import CoordinationApplication
from contexts.shared.application import TenantApplication
from projections.catalogue import ProjectionSpec
from projections.rows import Doc, of_kind, sorted_counts
from runtime.platform import Platform
from runtime.readstore import Row


def staffed_on(position: Doc, day: date) -> Decimal:
    total = Decimal(0)
    for s in position.get("staffing") or []:
        start = date.fromisoformat(str(s["start"]))
        end = date.fromisoformat(str(s["end"])) if s.get("end") else None
        if start <= day and (end is None or day <= end):
            total += Decimal(str(s["fte"]))
    return total


def _active(period: Doc, day: date) -> bool:
    return date.fromisoformat(str(period["start"])) <= day <= date.fromisoformat(str(period["end"]))


@dataclass(frozen=True)
class NoticeFigure:
    tenant: str
    notice_id: str
    reference: str
    baustein: int
    granted_fte: Decimal
    granted_money_per_year: Decimal
    forwarded_fte: Decimal
    forwarded_money_per_year: Decimal
    filled_fte: Decimal
    staff_cost: Decimal  # actual staff cost recorded for the month


def funding_figures(rows: list[Row], month: str) -> list[NoticeFigure]:
    """Per funding notice: granted vs forwarded vs filled FTE and money in ``month``."""
    day = date.fromisoformat(f"{month}-01")
    contracts = [r for r in of_kind(rows, "ForwardingContract") if not r.doc.get("terminated")]
    positions = of_kind(rows, "Position")
    figures = []
    for n in of_kind(rows, "FundingNotice"):
        grants = n.doc.get("grants") or {}
        granted_fte = sum((Decimal(str(g[0])) for g in grants.values()), Decimal(0))
        granted_money = sum(
            (Decimal(str(g[0])) * Decimal(str(g[1])) for g in grants.values()), Decimal(0)
        ) + Decimal(str(n.doc.get("material_costs_per_year") or 0))
        mine = [
            c for c in contracts if c.doc["notice_id"] == n.key and _active(c.doc["period"], day)
        ]
        contract_ids = {c.key for c in mine}
        funded = [
            p
            for p in positions
            if (p.doc["funding_kind"] == "notice" and p.doc["funding_id"] == n.key)
            or (p.doc["funding_kind"] == "contract" and p.doc["funding_id"] in contract_ids)
        ]
        figures.append(
            NoticeFigure(
                tenant=n.tenant,
                notice_id=n.key,
                reference=str(n.doc["reference"]),
                baustein=int(n.doc["baustein"]),
                granted_fte=granted_fte if _active(n.doc["period"], day) else Decimal(0),
                granted_money_per_year=granted_money,
                forwarded_fte=sum((Decimal(str(c.doc["fte"])) for c in mine), Decimal(0)),
                forwarded_money_per_year=sum(
                    (Decimal(str(c.doc["amount_per_year"])) for c in mine), Decimal(0)
                ),
                filled_fte=sum((staffed_on(p.doc, day) for p in funded), Decimal(0)),
                staff_cost=sum(
                    (Decimal(str((p.doc.get("costs") or {}).get(month, 0))) for p in funded),
                    Decimal(0),
                ),
            )
        )
    return sorted(figures, key=lambda f: (f.tenant, f.baustein, f.reference))


@dataclass(frozen=True)
class GapFigures:
    by_life_dimension: list[tuple[str, int]]
    by_source: list[tuple[str, int]]
    topics_by_step: list[tuple[str, int]]
    topics: list[Doc] = field(default_factory=list)


def gap_figures(rows: list[Row]) -> GapFigures:
    gaps = [r.doc for r in of_kind(rows, "SystemGap")]
    topics = [r.doc for r in of_kind(rows, "GapTopic")]
    return GapFigures(
        by_life_dimension=sorted_counts(Counter(str(g["life_dimension"]) for g in gaps)),
        by_source=sorted_counts(Counter(str(g["source"]) for g in gaps)),
        topics_by_step=sorted_counts(Counter(str(t["step"]) for t in topics)),
        topics=sorted(topics, key=lambda t: str(t["title"])),
    )


@dataclass(frozen=True)
class AreaFigure:
    area_id: str
    name: str
    towns: list[str]
    case_management_fte: Decimal  # the area's share of the district's case management
    positions: int
    position_fte: Decimal
    filled_fte: Decimal
    open_cases: int

    @property
    def cases_per_fte(self) -> Decimal:
        if not self.position_fte:
            return Decimal(0)
        return (Decimal(self.open_cases) / self.position_fte).quantize(Decimal("0.1"))


def regional_area_figures(
    coordination: list[Row], summaries: list[Doc], day: date
) -> list[AreaFigure]:
    """Per regional area of a district: its share, the positions in it, their open cases.

    ``summaries`` are the case-management summary rows of the towns where the positions
    work (open cases per position are counted there, pseudonymous figures only).
    """
    open_by_position: Counter[str] = Counter()
    for summary in summaries:
        for key, n in summary.items():
            if key.startswith("pos:"):
                open_by_position[key[4:]] += int(n)
    positions = of_kind(coordination, "Position")
    found = []
    for area in of_kind(coordination, "RegionalArea"):
        mine = [p for p in positions if p.doc.get("regional_area_id") == area.key]
        found.append(
            AreaFigure(
                area_id=area.key,
                name=str(area.doc["name"]),
                towns=[str(t) for t in area.doc.get("towns") or []],
                case_management_fte=Decimal(str(area.doc["case_management_fte"])),
                positions=len(mine),
                position_fte=sum((Decimal(str(p.doc["fte"])) for p in mine), Decimal(0)),
                filled_fte=sum((staffed_on(p.doc, day) for p in mine), Decimal(0)),
                open_cases=sum(open_by_position.get(p.key, 0) for p in mine),
            )
        )
    return sorted(found, key=lambda a: a.name)


def _application(platform: Platform, tenant: str) -> TenantApplication:
    return platform.app(CoordinationApplication, tenant)


PROJECTION = ProjectionSpec("coordination", _application)

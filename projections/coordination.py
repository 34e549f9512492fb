"""Coordination's read side: funding, positions, gaps, regional areas and the positions
working in a tenant (whichever log holds them), from its rows.

Pure functions over documents (see ``documents``); no personal data goes in or out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.staff_costs import (
    Staffing,
    months_of,
    spread_year_cost,
    staffed_fte_in,
)
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


def _staffing(position: Doc) -> list[Staffing]:
    return [
        Staffing(
            str(s["staff_id"]),
            Decimal(str(s["fte"])),
            date.fromisoformat(str(s["start"])),
            date.fromisoformat(str(s["end"])) if s.get("end") else None,
        )
        for s in position.get("staffing") or []
    ]


def month_cost(position: Doc, month: str) -> Decimal:
    """The staff cost of a month: as reported, or its share of a yearly figure (spread by
    the rule of ``contexts.coordination.positions.spread_year_cost``)."""
    year = month[:4]
    yearly = (position.get("year_costs") or {}).get(year)
    if yearly is None:
        return Decimal(str((position.get("costs") or {}).get(month, 0)))
    weights = [
        staffed_fte_in(_staffing(position), first, last) for _, first, last in months_of(int(year))
    ]
    return spread_year_cost(Decimal(str(yearly)), int(year), weights).get(month, Decimal(0))


def version_on(notice: Doc, day: date) -> Doc:
    """The notice's version (as issued or amended) valid on ``day``; rows written before
    notices had versions hold only the latest terms."""
    versions: list[Doc] = notice.get("versions") or [notice]
    found = versions[0]
    for version in versions:
        if str(version.get("effective_from", "")) <= day.isoformat():
            found = version
    return found


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
        version = version_on(n.doc, day)
        grants = version.get("grants") or {}
        granted_fte = sum((Decimal(str(g[0])) for g in grants.values()), Decimal(0))
        granted_money = sum(
            (Decimal(str(g[0])) * Decimal(str(g[1])) for g in grants.values()), Decimal(0)
        ) + Decimal(str(version.get("material_costs_per_year") or 0))
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
                staff_cost=sum((month_cost(p.doc, month) for p in funded), Decimal(0)),
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


@dataclass(frozen=True)
class StaffingFigure:
    staff_id: str  # pseudonymous (e.g. LF-CM-01), never a name
    fte: Decimal
    start: date
    end: date | None


@dataclass(frozen=True)
class SupervisionFigure:
    post_tenant: str
    valid_from: date
    valid_to: date | None
    supervisor_position_id: str | None  # None: every coordinator of the post


@dataclass(frozen=True)
class ContractFigure:
    """The forwarding contract (Weiterleitungsvertrag) that funds a position."""

    contract_id: str
    recipient_kind: str  # "tenant" or "provider"
    recipient: str  # the tenant key, or the provider's name where the holder registered it
    position_type: str
    amount_rule: str
    amount_per_year: Decimal
    fte: Decimal
    start: date
    end: date
    cooperation_agreement: str
    terminated: bool
    notice_reference: str | None  # the notice the contract forwards from


@dataclass(frozen=True)
class NoticeRef:
    """The funding notice (Förderbescheid) that funds a position directly."""

    notice_id: str
    reference: str
    baustein: int
    grantor: str


@dataclass(frozen=True)
class WorkingPosition:
    """A position working in a tenant, from whichever log holds it (no personal data)."""

    holder: str  # the tenant whose log holds the position (the asked tenant or one above)
    position_id: str
    title: str
    position_type: str
    baustein: int
    fte: Decimal
    employer_kind: str
    employer: str  # the provider's name where the holder registered it, else the key
    work_tenant: str
    regional_area: str | None
    staffing: list[StaffingFigure]
    filled_fte: Decimal  # on the day asked
    costs: list[tuple[str, Decimal]]  # actual staff cost recorded per month (YYYY-MM, EUR)
    year_costs: list[tuple[int, Decimal]]  # actual staff cost reported for a whole year
    supervision: list[SupervisionFigure]
    contract: ContractFigure | None
    notice: NoticeRef | None


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _name_of(docs: dict[str, Row], kind: str, key: str) -> str:
    found = docs.get(key)
    return str(found.doc.get("name") or key) if found and found.kind == kind else key


def positions_working_in(rows: list[Row], tenant: str, day: date) -> list[WorkingPosition]:
    """The positions whose work location is ``tenant``, with staffing, costs and funding.

    ``rows`` are coordination rows of ``tenant`` and the tenants above it (whose logs may
    hold positions working in it, e.g. the district's provider positions in a member town).
    Only positions working in ``tenant`` come out; a position's employer, contract, notice
    and regional area are looked up in its own holder's rows only.
    """
    by_holder: dict[str, dict[str, Row]] = {}
    for r in rows:
        by_holder.setdefault(r.tenant, {})[r.key] = r
    found = []
    for p in of_kind(rows, "Position"):
        if p.doc.get("work_tenant") != tenant:
            continue
        docs = by_holder[p.tenant]
        d = p.doc
        employer = str(d["employer"])
        if d.get("employer_kind") == "provider":
            employer = _name_of(docs, "Organisation", employer)
        area = docs.get(str(d.get("regional_area_id")))
        area_name = str(area.doc["name"]) if area and area.kind == "RegionalArea" else None
        contract, notice = _funding_of(docs, str(d["funding_kind"]), str(d["funding_id"]))
        found.append(
            WorkingPosition(
                holder=p.tenant,
                position_id=p.key,
                title=str(d["title"]),
                position_type=str(d["position_type"]),
                baustein=int(d["baustein"]),
                fte=Decimal(str(d["fte"])),
                employer_kind=str(d["employer_kind"]),
                employer=employer,
                work_tenant=tenant,
                regional_area=area_name,
                staffing=[
                    StaffingFigure(
                        staff_id=str(s["staff_id"]),
                        fte=Decimal(str(s["fte"])),
                        start=date.fromisoformat(str(s["start"])),
                        end=_day(s.get("end")),
                    )
                    for s in d.get("staffing") or []
                ],
                filled_fte=staffed_on(d, day),
                costs=sorted((str(m), Decimal(str(a))) for m, a in (d.get("costs") or {}).items()),
                year_costs=sorted(
                    (int(y), Decimal(str(a))) for y, a in (d.get("year_costs") or {}).items()
                ),
                supervision=[
                    SupervisionFigure(
                        post_tenant=str(s["post_tenant"]),
                        valid_from=date.fromisoformat(str(s["valid_from"])),
                        valid_to=_day(s.get("valid_to")),
                        supervisor_position_id=(
                            str(s["supervisor_position_id"])
                            if s.get("supervisor_position_id")
                            else None
                        ),
                    )
                    for s in d.get("supervision") or []
                ],
                contract=contract,
                notice=notice,
            )
        )
    return sorted(found, key=lambda w: (w.holder != tenant, w.holder, w.title, w.position_id))


def _funding_of(
    docs: dict[str, Row], kind: str, key: str
) -> tuple[ContractFigure | None, NoticeRef | None]:
    """The contract or the notice funding a position, from its holder's rows."""
    row = docs.get(key)
    if row is None:
        return None, None
    if kind == "contract" and row.kind == "ForwardingContract":
        c = row.doc
        recipient = str(c["recipient"])
        if c.get("recipient_kind") == "provider":
            recipient = _name_of(docs, "Organisation", recipient)
        forwarded_from = docs.get(str(c.get("notice_id")))
        return ContractFigure(
            contract_id=row.key,
            recipient_kind=str(c["recipient_kind"]),
            recipient=recipient,
            position_type=str(c["position_type"]),
            amount_rule=str(c["amount_rule"]),
            amount_per_year=Decimal(str(c["amount_per_year"])),
            fte=Decimal(str(c["fte"])),
            start=date.fromisoformat(str(c["period"]["start"])),
            end=date.fromisoformat(str(c["period"]["end"])),
            cooperation_agreement=str(c.get("cooperation_agreement") or ""),
            terminated=bool(c.get("terminated")),
            notice_reference=(
                str(forwarded_from.doc["reference"])
                if forwarded_from and forwarded_from.kind == "FundingNotice"
                else None
            ),
        ), None
    if kind == "notice" and row.kind == "FundingNotice":
        n = row.doc
        return None, NoticeRef(
            notice_id=row.key,
            reference=str(n["reference"]),
            baustein=int(n["baustein"]),
            grantor=str(n.get("grantor") or ""),
        )
    return None, None


def _application(platform: Platform, tenant: str) -> TenantApplication:
    return platform.app(CoordinationApplication, tenant)


PROJECTION = ProjectionSpec("coordination", _application)

"""Figures computed from read-model rows: per tenant, or summed over a district's towns.

Pure functions over documents (see ``documents``); no personal data goes in or out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from runtime.readstore import Row

CASELOAD_TARGET_PER_FTE = 100
Doc = dict[str, Any]


def _of(rows: list[Row], kind: str) -> list[Row]:
    return [r for r in rows if r.kind == kind]


def _counts(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items())


@dataclass(frozen=True)
class CaseloadFigure:
    position_id: str
    tenant: str
    fte: Decimal
    open_cases: int

    @property
    def per_fte(self) -> Decimal:
        if not self.fte:
            return Decimal(0)
        return (Decimal(self.open_cases) / self.fte).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class CaseFigures:
    open_cases: int
    closed_cases: int
    by_state: list[tuple[str, int]]
    by_life_dimension: list[tuple[str, int]]
    by_referral_source: list[tuple[str, int]]
    by_closure_reason: list[tuple[str, int]]
    referrals: list[tuple[str, str, int]]  # service, status, count
    caseload: list[CaseloadFigure]
    gaps_reported: int


def case_contribution(kind: str, doc: Doc) -> Counter[str]:
    """What one row adds to its tenant's case-management summary (see ``projection``)."""
    found: Counter[str] = Counter()
    if kind != "Case":
        return found
    state = str(doc["state"])
    found["cases"] += 1
    found[f"state:{state}"] += 1
    found[f"source:{doc['referral_source']}"] += 1
    if state == "closed":
        if doc.get("closure"):
            found[f"closure:{doc['closure'][0]}"] += 1
    else:
        found["open"] += 1
        for dimension in doc.get("needs") or {}:
            found[f"dim:{dimension}"] += 1
        if doc.get("position_id"):
            found[f"pos:{doc['position_id']}"] += 1
    for ref in doc.get("referrals") or []:
        found[f"ref:{ref['service']}:{ref['status']}"] += 1
    found["gaps"] += len(doc.get("gaps") or [])
    return found


def _prefixed(total: Counter[str], prefix: str) -> list[tuple[str, int]]:
    return sorted((k[len(prefix) :], n) for k, n in total.items() if k.startswith(prefix) and n)


def case_figures(summaries: list[Doc], positions: list[Row]) -> CaseFigures:
    """Figures of one tenant or many, from their summary rows and known positions."""
    total: Counter[str] = Counter()
    for summary in summaries:
        total.update({k: int(v) for k, v in summary.items()})
    caseload = [
        CaseloadFigure(
            position_id=r.key,
            tenant=r.tenant,
            fte=Decimal(str(r.doc["fte"])),
            open_cases=total.get(f"pos:{r.key}", 0),
        )
        for r in positions
    ]
    referrals = []
    for key, n in _prefixed(total, "ref:"):
        service, _, status = key.partition(":")
        referrals.append((service, status, n))
    return CaseFigures(
        open_cases=total.get("open", 0),
        closed_cases=total.get("cases", 0) - total.get("open", 0),
        by_state=_prefixed(total, "state:"),
        by_life_dimension=_prefixed(total, "dim:"),
        by_referral_source=_prefixed(total, "source:"),
        by_closure_reason=_prefixed(total, "closure:"),
        referrals=sorted(referrals),
        caseload=sorted(caseload, key=lambda f: (f.tenant, f.position_id)),
        gaps_reported=total.get("gaps", 0),
    )


@dataclass(frozen=True)
class ExpiringConsent:
    tenant: str
    person_id: str
    purpose: str
    recipient: str
    expires_on: date


def expiring_consents(rows: list[Row], today: date, within_days: int) -> list[ExpiringConsent]:
    """Valid consents whose expiry lies within the next ``within_days`` days."""
    until = today + timedelta(days=within_days)
    found = []
    for r in _of(rows, "Person"):
        if r.doc.get("erased_on"):
            continue
        for c in r.doc.get("consents") or []:
            if not c.get("expires_on") or c.get("revoked_on"):
                continue
            expires = date.fromisoformat(str(c["expires_on"]))
            if today <= expires <= until:
                found.append(
                    ExpiringConsent(
                        r.tenant, r.key, str(c["purpose"]), str(c["recipient"]), expires
                    )
                )
    return sorted(found, key=lambda e: (e.expires_on, e.tenant, e.person_id))


# -- coordination --------------------------------------------------------------------------
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
    contracts = [r for r in _of(rows, "ForwardingContract") if not r.doc.get("terminated")]
    positions = _of(rows, "Position")
    figures = []
    for n in _of(rows, "FundingNotice"):
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
    gaps = [r.doc for r in _of(rows, "SystemGap")]
    topics = [r.doc for r in _of(rows, "GapTopic")]
    return GapFigures(
        by_life_dimension=_counts(Counter(str(g["life_dimension"]) for g in gaps)),
        by_source=_counts(Counter(str(g["source"]) for g in gaps)),
        topics_by_step=_counts(Counter(str(t["step"]) for t in topics)),
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
    positions = _of(coordination, "Position")
    found = []
    for area in _of(coordination, "RegionalArea"):
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

"""The immigration office's read side: its projection and the figures from its rows.

No personal data goes in or out: procedure rows hold codes, dates and the pseudonymous
person id; the figures are counts from the per-tenant summary rows, summed over a district's
towns or the whole programme. Processing times (application to decision) are kept as a
histogram of days per kind, so the median and the 90th percentile are exact for any set of
tenants; the backlog as open applications by the month they came in.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date

from contexts.immigration_office.application import ImmigrationOfficeApplication
from contexts.immigration_office.states import OPEN_APPLICATION
from contexts.shared.application import TenantApplication
from projections.catalogue import ProjectionSpec
from projections.rows import Doc
from runtime.platform import Platform

NAME = "immigration_office"
AGE_BANDS = (("0-3", 0, 3), ("3-6", 3, 6), ("6-12", 6, 12), ("12+", 12, 10_000))
"""Backlog ages in whole months since the application came in."""


def _month(value: object) -> str | None:
    return str(value)[:7] if value else None


def procedure_contribution(kind: str, doc: Doc) -> Counter[str]:
    """What one row adds to its tenant's summary (see ``projections.projection``)."""
    found: Counter[str] = Counter()
    if kind != "Procedure":
        return found
    k, state, basis = str(doc["kind"]), str(doc["state"]), str(doc["legal_basis"])
    found[f"procedures:{k}"] += 1
    found[f"state:{k}:{basis}:{state}"] += 1
    taken = doc.get("taken_over")  # from another office: opened, applied (and decided) there
    if taken:
        found[f"taken_over:{k}:{_month(taken['on'])}"] += 1
    else:
        found[f"opened:{k}:{_month(doc['opened_on'])}"] += 1
    if state == "handed_over" and doc.get("closed_on"):  # a move, not a decision
        found[f"handed_over:{k}:{_month(doc['closed_on'])}"] += 1
    position = doc.get("position_id")  # the Baustein 3 position that opened it
    if position:
        found[f"pos:{position}:{k}"] += 1
        found[f"pos_state:{position}:{k}:{state}"] += 1
    applied, decided = doc.get("applied_on"), doc.get("decided_on")
    if applied and not taken:
        found[f"applied:{k}:{_month(applied)}"] += 1
    if taken and decided == taken.get("decided_on"):
        decided = None  # the origin decided it and counts it
    if decided and doc.get("outcome"):
        found[f"decided:{k}:{doc['outcome']}:{_month(decided)}"] += 1
        if position:
            found[f"pos_decided:{position}:{k}:{doc['outcome']}:{_month(decided)}"] += 1
        if applied:
            days = (date.fromisoformat(str(decided)) - date.fromisoformat(str(applied))).days
            found[f"days:{k}:{days}"] += 1
    if applied and state in OPEN_APPLICATION:
        found[f"backlog:{k}:{_month(applied)}"] += 1
    for referral in doc.get("referrals") or []:
        found[f"referral:{k}:{referral['status']}"] += 1
    return found


@dataclass(frozen=True)
class MonthCount:
    kind: str
    what: str  # opened, applied, handed_over, taken_over, or a decision's outcome
    month: str
    count: int


@dataclass(frozen=True)
class ProcessingTime:
    kind: str
    decided: int
    median_days: int
    p90_days: int


@dataclass(frozen=True)
class OfficeFigures:
    procedures: list[tuple[str, int]]  # kind -> count
    by_state: list[tuple[str, str, str, int]]  # kind, basis, state, count
    per_month: list[MonthCount]
    processing: list[ProcessingTime]
    backlog: list[tuple[str, str, int]]  # kind, age band (months), count
    per_position: list[tuple[str, str, int]]  # position, kind, count
    per_position_state: list[tuple[str, str, str, int]]  # position, kind, state, count
    per_position_decided: list[tuple[str, str, str, str, int]]  # position, kind, outcome, month
    referrals: list[tuple[str, str, int]]  # kind, status (requested/accepted/declined), count


def percentile(histogram: dict[int, int], share: float) -> int:
    """The nearest-rank percentile of values given as value -> count."""
    total = sum(histogram.values())
    rank, seen = max(1, math.ceil(total * share)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise ValueError("an empty histogram has no percentile")


def _months_between(earlier: str, today: date) -> int:
    year, month = int(earlier[:4]), int(earlier[5:7])
    return (today.year - year) * 12 + today.month - month


def office_figures(summaries: list[Doc], today: date) -> OfficeFigures:
    """The figures of one tenant or many, from their summary rows."""
    total: Counter[str] = Counter()
    for summary in summaries:
        total.update({k: int(v) for k, v in summary.items()})
    procedures, by_state, per_month, positions, referrals = [], [], [], [], []
    position_states: list[tuple[str, str, str, int]] = []
    position_decided: list[tuple[str, str, str, str, int]] = []
    days: dict[str, dict[int, int]] = {}
    backlog: Counter[tuple[str, str]] = Counter()
    for key, n in sorted(total.items()):
        if n <= 0:
            continue
        head, _, rest = key.partition(":")
        parts = rest.split(":")
        if head == "procedures":
            procedures.append((parts[0], n))
        elif head == "state":
            by_state.append((parts[0], parts[1], parts[2], n))
        elif head in ("opened", "applied", "handed_over", "taken_over"):
            per_month.append(MonthCount(parts[0], head, parts[1], n))
        elif head == "decided":
            per_month.append(MonthCount(parts[0], parts[1], parts[2], n))
        elif head == "days":
            days.setdefault(parts[0], {})[int(parts[1])] = n
        elif head == "backlog":
            age = _months_between(parts[1], today)
            band = next(b for b, low, high in AGE_BANDS if low <= age < high)
            backlog[(parts[0], band)] += n
        elif head == "pos":
            positions.append((parts[0], parts[1], n))
        elif head == "pos_state":
            position_states.append((parts[0], parts[1], parts[2], n))
        elif head == "pos_decided":
            position_decided.append((parts[0], parts[1], parts[2], parts[3], n))
        elif head == "referral":
            referrals.append((parts[0], parts[1], n))
    processing = [
        ProcessingTime(k, sum(h.values()), percentile(h, 0.5), percentile(h, 0.9))
        for k, h in sorted(days.items())
    ]
    order = [b for b, _, _ in AGE_BANDS]
    return OfficeFigures(
        procedures=procedures,
        by_state=by_state,
        per_month=sorted(per_month, key=lambda m: (m.kind, m.month, m.what)),
        processing=processing,
        backlog=sorted(
            ((k, b, n) for (k, b), n in backlog.items()), key=lambda x: (x[0], order.index(x[1]))
        ),
        per_position=positions,
        per_position_state=position_states,
        per_position_decided=sorted(position_decided, key=lambda x: (x[0], x[1], x[3], x[2])),
        referrals=referrals,
    )


def application(platform: Platform, tenant: str) -> ImmigrationOfficeApplication:
    """The tenant's immigration office (its write model; the projection decodes with it)."""
    return platform.app(
        ImmigrationOfficeApplication,
        tenant,
        vault=platform.vault,
        directory=lambda: platform.directory(refresh=True),
    )


def _application(platform: Platform, tenant: str) -> TenantApplication:
    return application(platform, tenant)


PROJECTION = ProjectionSpec(NAME, _application, summarise=procedure_contribution)

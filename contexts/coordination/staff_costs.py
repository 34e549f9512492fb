"""Staffing periods, staff costs and contributions: the terms positions are counted in.

Plain values and rules without an aggregate of their own, shared by ``positions`` (which
records them), ``statement`` (which counts them) and the read side (which shows them).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from contexts.shared.errors import DomainError

STAFF_ID_HINT = "a pseudonymous staff id such as MA-0042, never a name"


@dataclass(frozen=True)
class Staffing:
    staff_id: str
    fte: Decimal
    start: date
    end: date | None

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def overlaps(self, start: date, end: date | None) -> bool:
        return (self.end is None or start <= self.end) and (end is None or self.start <= end)


OWN_FUNDS = "own_funds"  # Eigenanteil / kommunale Aufstockung (employer, district, town)
THIRD_PARTY = "third_party"  # Drittmittel (another programme or funder)
CONTRIBUTION_KINDS = (OWN_FUNDS, THIRD_PARTY)


@dataclass(frozen=True)
class Contribution:
    year: int
    kind: str
    contributor: str  # who pays: a tenant key, an organisation id or a name
    source: str  # e.g. "Haushalt 2021, Produkt 05.02" or "ESF Plus"
    amount: Decimal

    @property
    def key(self) -> tuple[int, str, str, str]:
        return (self.year, self.kind, self.contributor, self.source)


def months_of(year: int) -> list[tuple[str, date, date]]:
    """The months of a year: (YYYY-MM, first day, last day)."""
    return [
        (f"{year}-{m:02d}", date(year, m, 1), date(year, m, calendar.monthrange(year, m)[1]))
        for m in range(1, 13)
    ]


def staffed_fte_in(staffing: list[Staffing], first: date, last: date) -> Decimal:
    """Filled FTE in the days ``first``..``last``, weighted by days."""
    days = Decimal((last - first).days + 1)
    total = Decimal(0)
    for s in staffing:
        start = max(s.start, first)
        end = min(s.end or last, last)
        if start <= end:
            total += s.fte * Decimal((end - start).days + 1) / days
    return total


def spread_year_cost(amount: Decimal, year: int, weights: list[Decimal]) -> dict[str, Decimal]:
    """A yearly staff cost spread over the months: by the filled FTE of each month (weighted by
    days), or evenly over the twelve months if the year has no staffing at all. Rounded to the
    cent; the last month with a share takes the rest, so the months add up to ``amount``."""
    if not any(weights):
        weights = [Decimal(1)] * 12
    total = sum(weights, Decimal(0))
    months = [m for m, _, _ in months_of(year)]
    shares = {
        m: (amount * w / total).quantize(Decimal("0.01"), ROUND_HALF_UP)
        for m, w in zip(months, weights, strict=True)
        if w
    }
    last = max(shares)
    shares[last] += amount - sum(shares.values(), Decimal(0))
    return shares


def check_staff_id(staff_id: str) -> None:
    if not staff_id or len(staff_id) > 40 or " " in staff_id.strip():
        raise DomainError(
            "staff-id-not-pseudonymous", f"the staff id must be {STAFF_ID_HINT}", field="staff_id"
        )

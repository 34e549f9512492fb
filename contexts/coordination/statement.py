"""The numerical part of the Verwendungsnachweis: how a funding notice's money was used in a year.

Computed from the aggregates as they stood (as of a date or log position, see the caller)
and the events behind them, so every figure names the event ids it rests on (drill-down).

Rules (decided here, written in the context README):
- Months are counted in twelfths; a month only partly inside a period counts by its days.
- Granted: FTE x flat rate per position type, for the months of the notice period in the
  year, plus the material costs per year for those months.
- Filled FTE per month: the staffing of every position funded by the notice, directly or
  through one of its forwarding contracts, weighted by days (part-time counts by its FTE).
- Staff cost cap per own position: flat rate x position FTE x eligible months / 12. Vacancy
  rule ``twelfth_per_vacant_month`` (default): each full calendar month without any staffing
  takes 1/12 off; ``pro_rata_filled``: the months count by their filled FTE instead.
  Recognised = the actual staff cost of the year, at most the cap.
- Forwarded per contract: flat contracts the amount per year for their months; contracts
  with ``actual_cost_capped`` the staff cost the recipient reported, at most that amount.
- Used = recognised own staff cost + forwarded + material costs (as granted; spending on
  material is not recorded in the platform yet). Unused = granted - used.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from uuid import UUID

from contexts.coordination.funding import (
    AmountRule,
    ForwardingContract,
    FundingNotice,
    Period,
    flat_rate,
)
from contexts.coordination.positions import Position

CENT = Decimal("0.01")
Evidence = Mapping[UUID, Sequence[tuple[str, object]]]
"""aggregate id -> the (event id, domain event) pairs behind its state, in order."""


class VacancyRule(StrEnum):
    TWELFTH_PER_VACANT_MONTH = "twelfth_per_vacant_month"
    PRO_RATA_FILLED = "pro_rata_filled"


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def months_of(year: int) -> list[tuple[str, date, date]]:
    return [
        (f"{year}-{m:02d}", date(year, m, 1), date(year, m, calendar.monthrange(year, m)[1]))
        for m in range(1, 13)
    ]


def share_of_month(period: Period, first: date, last: date) -> Decimal:
    """The part of a month inside ``period``, by days."""
    start, end = max(period.start, first), min(period.end, last)
    if start > end:
        return Decimal(0)
    return Decimal((end - start).days + 1) / Decimal((last - first).days + 1)


def staffed_in_month(position: Position, first: date, last: date) -> Decimal:
    """Filled FTE of a position in a month, weighted by days."""
    days = Decimal((last - first).days + 1)
    total = Decimal(0)
    for s in position.staffing:
        start = max(s.start, first)
        end = min(s.end or last, last)
        if start <= end:
            total += s.fte * Decimal((end - start).days + 1) / days
    return total


def _ids(evidence: Evidence, aggregate_id: UUID, *kinds: str) -> list[str]:
    """Event ids of the aggregate's events whose class name is one of ``kinds`` (or all)."""
    return [
        event_id
        for event_id, event in evidence.get(aggregate_id, ())
        if not kinds or type(event).__name__ in kinds
    ]


@dataclass(frozen=True)
class Line:
    """One figure of the statement with the events it rests on."""

    label: str
    value: Decimal
    events: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MonthLine:
    month: str
    granted_fte: Decimal
    forwarded_fte: Decimal
    filled_fte: Decimal
    events: list[str]


@dataclass(frozen=True)
class PositionLine:
    position_id: UUID
    title: str
    position_type: str
    fte: Decimal
    funded_by: str  # "Bescheid" or the contract's recipient
    vacant_months: int
    eligible_months: Decimal
    cap: Decimal
    actual_cost: Decimal
    recognised: Decimal
    events: list[str]


@dataclass(frozen=True)
class ContractLine:
    contract_id: UUID
    recipient: str
    position_type: str
    fte: Decimal
    months: Decimal
    forwarded: Decimal
    reported_cost: Decimal
    events: list[str]


@dataclass(frozen=True)
class Statement:
    notice_id: UUID
    reference: str
    grantor: str
    baustein: int
    year: int
    vacancy_rule: VacancyRule
    months_in_period: Decimal
    granted: list[Line]
    months: list[MonthLine]
    positions: list[PositionLine]
    contracts: list[ContractLine]
    totals: list[Line]

    def total(self, label: str) -> Decimal:
        return next(t.value for t in self.totals if t.label == label)


def _position_line(
    position: Position,
    funded_by: str,
    notice_period: Period,
    year: int,
    rule: VacancyRule,
    evidence: Evidence,
) -> PositionLine:
    rate = flat_rate(position.position_type, year)
    vacant = 0
    eligible = Decimal(0)
    filled_months = Decimal(0)
    for _, first, last in months_of(year):
        share = share_of_month(notice_period, first, last)
        if not share:
            continue
        eligible += share
        filled = staffed_in_month(position, first, last)
        if position.fte:
            filled_months += min(filled, position.fte) / position.fte * share
        if filled == 0:
            vacant += 1
    if rule == VacancyRule.TWELFTH_PER_VACANT_MONTH:
        eligible = max(Decimal(0), eligible - vacant)
    else:
        eligible = filled_months
    cap = money(rate * position.fte * eligible / 12)
    year_months = {m for m, _, _ in months_of(year)}
    actual = money(sum((a for m, a in position.costs.items() if m in year_months), Decimal(0)))
    cost_events = [
        event_id
        for event_id, event in evidence.get(position.id, ())
        if type(event).__name__ == "StaffCostRecorded"
        and getattr(event, "month", "") in year_months
    ]
    return PositionLine(
        position_id=position.id,
        title=position.title,
        position_type=position.position_type.value,
        fte=position.fte,
        funded_by=funded_by,
        vacant_months=vacant,
        eligible_months=eligible.quantize(Decimal("0.0001")),
        cap=cap,
        actual_cost=actual,
        recognised=min(actual, cap),
        events=_ids(evidence, position.id, "Created", "StaffingStarted", "StaffingEnded")
        + cost_events,
    )


def statement(
    notice: FundingNotice,
    contracts: Sequence[ForwardingContract],
    positions: Sequence[Position],
    year: int,
    evidence: Evidence,
    rule: VacancyRule = VacancyRule.TWELFTH_PER_VACANT_MONTH,
) -> Statement:
    """The statement of ``notice`` for ``year`` from its contracts and the positions they fund."""
    mine = [c for c in contracts if c.notice_id == notice.id]
    by_contract = {c.id: c for c in mine}
    own = [p for p in positions if p.funding_kind == "notice" and p.funding_id == notice.id]
    forwarded_positions = [
        p for p in positions if p.funding_kind == "contract" and p.funding_id in by_contract
    ]
    months = months_of(year)
    in_period = sum((share_of_month(notice.period, f, la) for _, f, la in months), Decimal(0))
    notice_events = _ids(evidence, notice.id)

    granted = []
    for kind, (fte, rate) in sorted(notice.grants.items()):
        granted.append(
            Line(
                f"granted:{kind.value}",
                money(fte * rate * in_period / 12),
                notice_events,
            )
        )
    material = money(notice.material_costs_per_year * in_period / 12)
    granted.append(Line("granted:material_costs", material, notice_events))

    month_lines = []
    for month, first, last in months:
        share = share_of_month(notice.period, first, last)
        granted_fte = notice.granted_fte * share
        forwarded_fte = sum(
            (c.fte * share_of_month(c.period, first, last) for c in mine), Decimal(0)
        )
        contributing = [
            p for p in own + forwarded_positions if staffed_in_month(p, first, last) > 0
        ]
        filled = sum((staffed_in_month(p, first, last) for p in contributing), Decimal(0))
        month_lines.append(
            MonthLine(
                month=month,
                granted_fte=granted_fte.quantize(Decimal("0.0001")),
                forwarded_fte=forwarded_fte.quantize(Decimal("0.0001")),
                filled_fte=filled.quantize(Decimal("0.0001")),
                events=[
                    e
                    for p in contributing
                    for e in _ids(evidence, p.id, "StaffingStarted", "StaffingEnded")
                ],
            )
        )

    position_lines = [
        _position_line(p, "Bescheid", notice.period, year, rule, evidence) for p in own
    ] + [
        _position_line(
            p, by_contract[p.funding_id].recipient, by_contract[p.funding_id].period, year, rule,
            evidence,
        )
        for p in forwarded_positions
    ]  # fmt: skip

    contract_lines = []
    for c in mine:
        active = sum((share_of_month(c.period, f, la) for _, f, la in months), Decimal(0))
        reported = sum(
            (
                line.actual_cost
                for line in position_lines
                if _funding_of(positions, line.position_id) == c.id
            ),
            Decimal(0),
        )
        flat = money(c.amount_per_year * active / 12)
        forwarded = flat if c.amount_rule == AmountRule.FLAT else min(flat, reported)
        contract_lines.append(
            ContractLine(
                contract_id=c.id,
                recipient=c.recipient,
                position_type=c.position_type.value,
                fte=c.fte,
                months=active.quantize(Decimal("0.0001")),
                forwarded=forwarded,
                reported_cost=reported,
                events=_ids(evidence, c.id)
                + [
                    e
                    for line in position_lines
                    if _funding_of(positions, line.position_id) == c.id
                    for e in line.events
                ],
            )
        )

    granted_total = money(sum((g.value for g in granted), Decimal(0)))
    own_lines = [line for line in position_lines if line.funded_by == "Bescheid"]
    recognised = money(sum((line.recognised for line in own_lines), Decimal(0)))
    forwarded_total = money(sum((c.forwarded for c in contract_lines), Decimal(0)))
    used = recognised + forwarded_total + material
    totals = [
        Line("granted", granted_total, notice_events),
        Line(
            "recognised_staff_cost",
            recognised,
            [e for line in own_lines for e in line.events],
        ),
        Line("forwarded", forwarded_total, [e for c in contract_lines for e in c.events]),
        Line("material_costs", material, notice_events),
        Line("used", used, []),
        Line("unused", granted_total - used, []),
    ]
    return Statement(
        notice_id=notice.id,
        reference=notice.reference,
        grantor=notice.grantor,
        baustein=notice.baustein,
        year=year,
        vacancy_rule=rule,
        months_in_period=in_period.quantize(Decimal("0.0001")),
        granted=granted,
        months=month_lines,
        positions=position_lines,
        contracts=contract_lines,
        totals=totals,
    )


def _funding_of(positions: Sequence[Position], position_id: UUID) -> UUID | None:
    return next((p.funding_id for p in positions if p.id == position_id), None)

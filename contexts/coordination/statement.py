"""The numerical part of the Verwendungsnachweis: how a funding notice's money was used in a year.

Computed from the aggregates as they stood (as of a date or log position, see the caller)
and the events behind them, so every figure names the event ids it rests on (drill-down).
Every total is the sum of the lines shown above it, to the cent (lines are rounded first,
then added), so a statement always adds up.

Rules (written with worked examples in the context README):
- A month counts in twelfths; a month only partly inside a period counts by its days. Where
  an amendment takes effect within a month, the days before and after count at their
  version's FTE and rate.
- Granted: FTE x the notice's rate per FTE for each day's version, plus material costs.
- Cap per position (own or forwarded under "actual cost, at most the flat rate"): for each
  month, the notice's rate x FTE filled x the month's share / 12, summed over the year.
  FTE filled under ``twelfth_per_vacant_month`` (default): the most FTE staffed on any day of
  the month (a month without any staffing is vacant and adds nothing); under
  ``pro_rata_filled``: the FTE staffed weighted by days. Never more than the position's FTE.
- Grant use of a position = min(its actual staff cost in the year, its cap).
- A contract "actual cost, at most the flat rate" uses the sum of its positions' grant use,
  reduced to the contract's amount for its months if above it (the reduction is a line of
  its own); a flat contract uses its amount per year for its months, whatever the cost.
- Staff cost = grant use + own funds + third-party funds + uncovered (the difference no
  record explains; negative where a flat amount exceeds the cost).
- Used = grant use of own positions + forwarded + material costs (as granted; material
  spending is not recorded yet). To repay = granted - used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from contexts.coordination.funding import (
    AmountRule,
    ForwardingContract,
    FundingNotice,
    NoticeVersion,
    Period,
)
from contexts.coordination.positions import Position
from contexts.coordination.staff_costs import OWN_FUNDS, THIRD_PARTY, months_of, staffed_fte_in
from contexts.coordination.statement_lines import (
    ContractLine,
    Line,
    MonthLine,
    PositionLine,
    RateLine,
    Statement,
    VacancyRule,
)

__all__ = [
    "ContractLine",
    "Line",
    "PositionLine",
    "Statement",
    "VacancyRule",
    "position_line",
    "statement",
]

CENT = Decimal("0.01")
Evidence = Mapping[UUID, Sequence[tuple[str, object]]]
"""aggregate id -> the (event id, domain event) pairs behind its state, in order."""


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def four(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def share_of_month(period: Period, first: date, last: date) -> Decimal:
    """The part of a month inside ``period``, by days."""
    start, end = max(period.start, first), min(period.end, last)
    if start > end:
        return Decimal(0)
    return Decimal((end - start).days + 1) / Decimal((last - first).days + 1)


def by_version(
    notice: FundingNotice, period: Period, first: date, last: date
) -> list[tuple[NoticeVersion, Decimal]]:
    """The month's share inside ``period``, split by the notice versions valid on its days."""
    start, end = max(period.start, first), min(period.end, last)
    if start > end:
        return []
    days = Decimal((last - first).days + 1)
    return [
        (version, Decimal((e - s).days + 1) / days) for version, s, e in notice.segments(start, end)
    ]


def staffed_in_month(position: Position, first: date, last: date) -> Decimal:
    """Filled FTE of a position in a month, weighted by days."""
    return staffed_fte_in(position.staffing, first, last)


def peak_staffed(position: Position, first: date, last: date) -> Decimal:
    """The most FTE staffed on any one day of ``first``..``last``."""
    days = {first} | {s.start for s in position.staffing if first <= s.start <= last}
    days |= {
        s.end + timedelta(days=1) for s in position.staffing if s.end and first <= s.end < last
    }
    return max((position.staffed_fte_on(d) for d in days), default=Decimal(0))


def _ids(evidence: Evidence, aggregate_id: UUID, *kinds: str) -> list[str]:
    """Event ids of the aggregate's events whose class name is one of ``kinds`` (or all)."""
    return [
        event_id
        for event_id, event in evidence.get(aggregate_id, ())
        if not kinds or type(event).__name__ in kinds
    ]


def _year_events(evidence: Evidence, position_id: UUID, year: int) -> list[str]:
    """The ids of the cost and contribution events of ``year``."""
    found = []
    for event_id, event in evidence.get(position_id, ()):
        kind = type(event).__name__
        if (
            kind == "StaffCostRecorded" and str(getattr(event, "month", "")).startswith(f"{year}-")
        ) or (
            kind in ("YearStaffCostRecorded", "ContributionRecorded")
            and getattr(event, "year", None) == year
        ):
            found.append(event_id)
    return found


def position_line(
    position: Position,
    notice: FundingNotice,
    contract: ForwardingContract | None,
    year: int,
    rule: VacancyRule,
    evidence: Evidence,
) -> PositionLine:
    """One position's line of the year: cap, actual cost, grant use, own and third-party
    funds; ``contract`` is the one funding it (None: the notice directly)."""
    period = contract.period if contract is not None else notice.period
    vacant = 0
    months_filled = Decimal(0)
    fte_months = Decimal(0)
    cap = Decimal(0)
    in_period: set[str] = set()
    for month, first, last in months_of(year):
        parts = by_version(notice, period, first, last)
        share = sum((s for _, s in parts), Decimal(0))
        if not share:
            continue
        in_period.add(month)
        start, end = max(period.start, first), min(period.end, last)
        if rule == VacancyRule.TWELFTH_PER_VACANT_MONTH:
            filled = peak_staffed(position, start, end)
        else:
            filled = staffed_fte_in(position.staffing, start, end)
        filled = min(filled, position.fte)
        if filled == 0:
            vacant += 1
            continue
        months_filled += share
        fte_months += filled * share
        cap += sum((v.rate(position.position_type) * filled * s / 12 for v, s in parts), Decimal(0))
    costs = position.monthly_costs(year)
    actual = money(sum((a for m, a in costs.items() if m in in_period), Decimal(0)))
    cap = money(cap)
    flat = contract is not None and contract.amount_rule == AmountRule.FLAT
    own = position.contributed(year, OWN_FUNDS)
    third = position.contributed(year, THIRD_PARTY)
    use = None if flat else min(actual, cap)
    return PositionLine(
        position_id=position.id,
        title=position.title,
        position_type=position.position_type.value,
        fte=position.fte,
        funded_by="Bescheid" if contract is None else contract.recipient,
        contract_id=None if contract is None else contract.id,
        amount_rule="notice" if contract is None else contract.amount_rule.value,
        vacant_months=vacant,
        months_filled=four(months_filled),
        fte_months=four(fte_months),
        cap=cap,
        actual_cost=actual,
        grant_use=use,
        own_funds=own,
        third_party=third,
        uncovered=None if use is None else actual - use - own - third,
        events=_ids(evidence, position.id, "Created", "StaffingStarted", "StaffingEnded")
        + _year_events(evidence, position.id, year),
    )


def _contract_line(
    contract: ForwardingContract,
    lines: list[PositionLine],
    year: int,
    evidence: Evidence,
) -> ContractLine:
    months = sum(
        (share_of_month(contract.period, f, la) for _, f, la in months_of(year)), Decimal(0)
    )
    limit = money(contract.amount_per_year * months / 12)
    positions_use = sum((p.grant_use or Decimal(0) for p in lines), Decimal(0))
    if contract.amount_rule == AmountRule.FLAT:
        reduction, use = Decimal(0), limit
    else:
        reduction = max(Decimal(0), positions_use - limit)
        use = positions_use - reduction
    return ContractLine(
        contract_id=contract.id,
        recipient=contract.recipient,
        position_type=contract.position_type.value,
        fte=contract.fte,
        amount_rule=contract.amount_rule.value,
        amount_per_year=contract.amount_per_year,
        months=four(months),
        limit=limit,
        positions_use=positions_use,
        reduction=reduction,
        grant_use=use,
        reported_cost=sum((p.actual_cost for p in lines), Decimal(0)),
        own_funds=sum((p.own_funds for p in lines), Decimal(0)),
        third_party=sum((p.third_party for p in lines), Decimal(0)),
        events=_ids(evidence, contract.id) + [e for p in lines for e in p.events],
    )


def _granted(notice: FundingNotice, year: int, events: list[str]) -> tuple[list[Line], Line]:
    staff: dict[str, Decimal] = {}
    material = Decimal(0)
    for _, first, last in months_of(year):
        for version, share in by_version(notice, notice.period, first, last):
            for kind, (fte, rate) in version.grants.items():
                staff[kind.value] = staff.get(kind.value, Decimal(0)) + fte * rate * share / 12
            material += version.material_costs_per_year * share / 12
    lines = [Line(f"granted:{kind}", money(value), events) for kind, value in sorted(staff.items())]
    return lines, Line("granted:material_costs", money(material), events)


def _rates(notice: FundingNotice, year: int) -> list[RateLine]:
    """The rates of the versions in force on some day of ``year``."""
    start = max(notice.period.start, date(year, 1, 1))
    end = min(notice.period.end, date(year, 12, 31))
    if start > end:
        return []
    return [
        RateLine(kind.value, fte, rate, version.effective_from, version.reference)
        for version, _, _ in notice.segments(start, end)
        for kind, (fte, rate) in sorted(version.grants.items())
    ]


def statement(
    notice: FundingNotice,
    contracts: Sequence[ForwardingContract],
    positions: Sequence[Position],
    year: int,
    evidence: Evidence,
    rule: VacancyRule = VacancyRule.TWELFTH_PER_VACANT_MONTH,
) -> Statement:
    """The statement of ``notice`` for ``year`` from its contracts and the positions they fund."""
    mine = sorted((c for c in contracts if c.notice_id == notice.id), key=lambda c: str(c.id))
    by_contract = {c.id: c for c in mine}
    own = sorted(
        (p for p in positions if p.funding_kind == "notice" and p.funding_id == notice.id),
        key=lambda p: (p.title, str(p.id)),
    )
    forwarded_positions = sorted(
        (p for p in positions if p.funding_kind == "contract" and p.funding_id in by_contract),
        key=lambda p: (p.title, str(p.id)),
    )
    months = months_of(year)
    in_period = sum((share_of_month(notice.period, f, la) for _, f, la in months), Decimal(0))
    notice_events = _ids(evidence, notice.id)
    granted, material = _granted(notice, year, notice_events)
    granted.append(material)

    month_lines = []
    for month, first, last in months:
        granted_fte = sum(
            (v.granted_fte * s for v, s in by_version(notice, notice.period, first, last)),
            Decimal(0),
        )
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
                granted_fte=four(granted_fte),
                forwarded_fte=four(forwarded_fte),
                filled_fte=four(filled),
                events=[
                    e
                    for p in contributing
                    for e in _ids(evidence, p.id, "StaffingStarted", "StaffingEnded")
                ],
            )
        )

    own_lines = [position_line(p, notice, None, year, rule, evidence) for p in own]
    forwarded_lines = [
        position_line(p, notice, by_contract[p.funding_id], year, rule, evidence)
        for p in forwarded_positions
    ]
    contract_lines = [
        _contract_line(
            c, [line for line in forwarded_lines if line.contract_id == c.id], year, evidence
        )
        for c in mine
    ]

    granted_total = sum((g.value for g in granted), Decimal(0))
    own_use = sum((line.grant_use or Decimal(0) for line in own_lines), Decimal(0))
    forwarded_total = sum((c.grant_use for c in contract_lines), Decimal(0))
    used = own_use + forwarded_total + material.value
    staff_cost = sum((p.actual_cost for p in own_lines), Decimal(0)) + sum(
        (c.reported_cost for c in contract_lines), Decimal(0)
    )
    own_funds = sum((p.own_funds for p in own_lines + forwarded_lines), Decimal(0))
    third = sum((p.third_party for p in own_lines + forwarded_lines), Decimal(0))
    own_events = [e for line in own_lines for e in line.events]
    contract_events = [e for c in contract_lines for e in c.events]
    totals = [
        Line("granted", granted_total, notice_events),
        Line("recognised_staff_cost", own_use, own_events),
        Line("forwarded", forwarded_total, contract_events),
        Line("material_costs", material.value, notice_events),
        Line("used", used, []),
        Line("unused", granted_total - used, []),
        Line("staff_cost", staff_cost, own_events + contract_events),
        Line("staff_grant_use", own_use + forwarded_total, []),
        Line("own_funds", own_funds, own_events + contract_events),
        Line("third_party", third, own_events + contract_events),
        Line("uncovered", staff_cost - own_use - forwarded_total - own_funds - third, []),
    ]
    return Statement(
        notice_id=notice.id,
        reference=notice.versions[0].reference,
        references=notice.references,
        grantor=notice.grantor,
        baustein=notice.baustein,
        period=notice.period,
        year=year,
        vacancy_rule=rule,
        months_in_period=four(in_period),
        rates=_rates(notice, year),
        granted=granted,
        months=month_lines,
        positions=own_lines + forwarded_lines,
        contracts=contract_lines,
        totals=totals,
    )

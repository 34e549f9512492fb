"""Funding notices (Förderbescheide) and forwarding contracts (Weiterleitungsverträge).

The funding notice is the consistency boundary for what may be forwarded: every forwarding
contract reserves its share on the notice in the same save, so two concurrent contracts on
one notice cannot together exceed the grant (the second gets a version conflict).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contexts.shared.errors import DomainError


class PositionType(StrEnum):
    COORDINATION = "coordination"  # Koordinierungsstelle
    ASSISTANCE = "assistance"  # Verwaltungsassistenz
    CASE_MANAGEMENT = "case_management"  # Case Management
    IMMIGRATION_OFFICE = "immigration_office"  # Stelle in Ausländer-/Einbürgerungsbehörde


BAUSTEIN_OF: dict[PositionType, int] = {
    PositionType.COORDINATION: 1,
    PositionType.ASSISTANCE: 1,
    PositionType.CASE_MANAGEMENT: 2,
    PositionType.IMMIGRATION_OFFICE: 3,
}

# Flat rate per full-time position and year (fachbezogene Pauschale), by the year it applies
# from. A versioned parameter: a notice records the rate it was issued with.
FLAT_RATES: dict[PositionType, list[tuple[int, Decimal]]] = {
    PositionType.COORDINATION: [(2020, Decimal("55000"))],
    PositionType.CASE_MANAGEMENT: [(2020, Decimal("55000"))],
    PositionType.IMMIGRATION_OFFICE: [(2020, Decimal("55000"))],
    PositionType.ASSISTANCE: [(2020, Decimal("45000"))],  # 0.5 FTE = 22,500 EUR
}


def flat_rate(position_type: PositionType, year: int) -> Decimal:
    rates = [rate for since, rate in FLAT_RATES[position_type] if since <= year]
    if not rates:
        raise DomainError(
            "no-flat-rate", f"no flat rate for {position_type} in {year}", field="period_start"
        )
    return rates[-1]


class AmountRule(StrEnum):
    FLAT = "flat"  # a fixed amount per year
    ACTUAL_COST_CAPPED = "actual_cost_capped"  # actual staff cost, up to the amount per year


class RecipientKind(StrEnum):
    TENANT = "tenant"  # a member town's coordination post (e.g. Rheine)
    PROVIDER = "provider"  # a free welfare provider (an organisation of the tenant)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    end_field: str = "period_end"  # the request field named in an error

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise DomainError(
                "period-ends-before-start",
                f"the period ends ({self.end}) before it starts ({self.start})",
                field=self.end_field,
            )

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    def months(self) -> list[date]:
        """First days of the months the period touches."""
        found = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            found.append(date(year, month, 1))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found

    def active_on(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def fte(value: Decimal | str | float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def money(value: Decimal | str | float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Reservation:
    """A forwarding contract's share of a notice."""

    contract_id: UUID
    position_type: PositionType
    fte: Decimal
    amount_per_year: Decimal
    period: Period


class FundingNotice(Aggregate):
    """A Förderbescheid for one Baustein, to the tenant whose log holds it."""

    class Issued(Aggregate.Created):
        grantor: str
        reference: str
        baustein: int
        period_start: str
        period_end: str
        grants: dict[str, dict[str, str]]  # position type -> {"fte", "rate"}
        material_costs_per_year: str
        issued_on: str

    class Amended(Aggregate.Event):
        reference: str
        issued_on: str
        period_end: str
        grants: dict[str, dict[str, str]]
        material_costs_per_year: str
        reason: str

    class ForwardingReserved(Aggregate.Event):
        contract_id: UUID
        position_type: str
        fte: str
        amount_per_year: str
        start: str
        end: str

    class ForwardingReleased(Aggregate.Event):
        contract_id: UUID

    @event(Issued)
    def __init__(
        self,
        grantor: str,
        reference: str,
        baustein: int,
        period_start: str,
        period_end: str,
        grants: dict[str, dict[str, str]],
        material_costs_per_year: str,
        issued_on: str,
    ) -> None:
        self.grantor = grantor
        self.baustein = baustein
        self.period_start = date.fromisoformat(period_start)
        self._apply(reference, issued_on, period_end, grants, material_costs_per_year)
        self.amendments: list[str] = []
        self.reservations: dict[UUID, Reservation] = {}

    def _apply(
        self,
        reference: str,
        issued_on: str,
        period_end: str,
        grants: dict[str, dict[str, str]],
        material_costs: str,
    ) -> None:
        self.reference = reference
        self.issued_on = date.fromisoformat(issued_on)
        self.period = Period(self.period_start, date.fromisoformat(period_end))
        self.grants = {
            PositionType(k): (Decimal(v["fte"]), Decimal(v["rate"])) for k, v in grants.items()
        }
        self.material_costs_per_year = Decimal(material_costs)

    @event(Amended)
    def amend(
        self,
        reference: str,
        issued_on: str,
        period_end: str,
        grants: dict[str, dict[str, str]],
        material_costs_per_year: str,
        reason: str,
    ) -> None:
        self._apply(reference, issued_on, period_end, grants, material_costs_per_year)
        self.amendments.append(reason)

    @event(ForwardingReserved)
    def reserve(
        self,
        contract_id: UUID,
        position_type: str,
        fte: str,
        amount_per_year: str,
        start: str,
        end: str,
    ) -> None:
        self.reservations[contract_id] = Reservation(
            contract_id,
            PositionType(position_type),
            Decimal(fte),
            Decimal(amount_per_year),
            Period(date.fromisoformat(start), date.fromisoformat(end), "end"),
        )

    @event(ForwardingReleased)
    def release(self, contract_id: UUID) -> None:
        self.reservations.pop(contract_id, None)

    # -- figures ------------------------------------------------------------------------------
    @property
    def granted_fte(self) -> Decimal:
        return sum((f for f, _rate in self.grants.values()), Decimal(0))

    @property
    def granted_money_per_year(self) -> Decimal:
        """Staff funding per year: FTE times flat rate, summed over position types."""
        return money(sum((f * rate for f, rate in self.grants.values()), Decimal(0)))

    def forwarded_in(
        self,
        day: date,
        *,
        excluding: UUID | None = None,
        position_type: PositionType | None = None,
    ) -> tuple[Decimal, Decimal]:
        """FTE and money per year forwarded by the contracts in force on ``day``."""
        active = [
            r
            for r in self.reservations.values()
            if r.contract_id != excluding
            and r.period.active_on(day)
            and (position_type is None or r.position_type == position_type)
        ]
        return (
            sum((r.fte for r in active), Decimal(0)),
            sum((r.amount_per_year for r in active), Decimal(0)),
        )

    def change_days(self, period: Period) -> list[date]:
        """The days in ``period`` on which the forwarded totals can rise: contract starts."""
        starts = {r.period.start for r in self.reservations.values()}
        return sorted({period.start} | {d for d in starts if period.start <= d <= period.end})

    def check_forwarding(
        self,
        fte_share: Decimal,
        amount_per_year: Decimal,
        period: Period,
        *,
        position_type: PositionType | None = None,
        excluding: UUID | None = None,
    ) -> None:
        """Refuse a forwarding that leaves the notice's period or exceeds its grant.

        Checked on every day the totals can change, in total and for the position type.
        """
        if not self.period.contains(period):
            raise DomainError(
                "contract-outside-notice-period",
                f"the contract period {period} lies outside the notice period {self.period}",
                field="start" if period.start < self.period.start else "end",
                notice_period=str(self.period),
                contract_period=str(period),
            )
        for day in self.change_days(period):
            forwarded_fte, forwarded_money = self.forwarded_in(day, excluding=excluding)
            self._check_fte(forwarded_fte + fte_share, self.granted_fte, day, "")
            if position_type is not None and position_type in self.grants:
                typed, _ = self.forwarded_in(day, excluding=excluding, position_type=position_type)
                granted = self.grants[position_type][0]
                self._check_fte(typed + fte_share, granted, day, f"{position_type} ")
            if forwarded_money + amount_per_year > self.granted_money_per_year:
                raise DomainError(
                    "forwarded-money-exceed-grant",
                    f"forwarded {forwarded_money + amount_per_year} EUR a year exceed granted"
                    f" {self.granted_money_per_year} EUR a year for Baustein {self.baustein}"
                    f" in {day.year} (from {day.isoformat()})",
                    field="amount_per_year",
                    forwarded_per_year=str(forwarded_money + amount_per_year),
                    granted_per_year=str(self.granted_money_per_year),
                    baustein=self.baustein,
                    month=day.isoformat()[:7],
                    day=day.isoformat(),
                )

    def _check_fte(self, forwarded: Decimal, granted: Decimal, day: date, kind: str) -> None:
        if forwarded > granted:
            raise DomainError(
                "forwarded-fte-exceed-grant",
                f"forwarded {forwarded} {kind}FTE exceed granted {granted} {kind}FTE"
                f" for Baustein {self.baustein} in {day.year} (from {day.isoformat()})",
                field="fte",
                forwarded_fte=str(forwarded),
                granted_fte=str(granted),
                baustein=self.baustein,
                month=day.isoformat()[:7],
                day=day.isoformat(),
            )


class ForwardingContract(Aggregate):
    """A Weiterleitungsvertrag (with its Kooperationsvereinbarung) under one notice."""

    class Concluded(Aggregate.Created):
        notice_id: UUID
        recipient_kind: str
        recipient: str
        position_type: str
        fte: str
        amount_rule: str
        amount_per_year: str
        start: str
        end: str
        cooperation_agreement: str

    class Amended(Aggregate.Event):
        fte: str
        amount_per_year: str
        end: str
        reason: str

    class Terminated(Aggregate.Event):
        end: str
        reason: str

    @event(Concluded)
    def __init__(
        self,
        notice_id: UUID,
        recipient_kind: str,
        recipient: str,
        position_type: str,
        fte: str,
        amount_rule: str,
        amount_per_year: str,
        start: str,
        end: str,
        cooperation_agreement: str,
    ) -> None:
        self.notice_id = notice_id
        self.recipient_kind = RecipientKind(recipient_kind)
        self.recipient = recipient
        self.position_type = PositionType(position_type)
        self.fte = Decimal(fte)
        self.amount_rule = AmountRule(amount_rule)
        self.amount_per_year = Decimal(amount_per_year)
        self.period = Period(date.fromisoformat(start), date.fromisoformat(end))
        self.cooperation_agreement = cooperation_agreement
        self.terminated = False

    @event(Amended)
    def amend(self, fte: str, amount_per_year: str, end: str, reason: str) -> None:
        self.fte = Decimal(fte)
        self.amount_per_year = Decimal(amount_per_year)
        self.period = Period(self.period.start, date.fromisoformat(end))

    @event(Terminated)
    def terminate(self, end: str, reason: str) -> None:
        self.period = Period(self.period.start, date.fromisoformat(end))
        self.terminated = True

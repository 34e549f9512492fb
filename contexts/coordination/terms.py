"""The terms of funding: position types and Bausteine, periods, amounts, notice versions.

Values without an aggregate of their own, shared by notices and contracts (``funding``),
positions and the statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

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


Grants = dict[PositionType, tuple[Decimal, Decimal]]
"""Position type -> (FTE granted, flat rate per FTE and year), as a notice states them."""


@dataclass(frozen=True)
class NoticeVersion:
    """What a notice grants from a day on: as issued, or as an amendment changed it.

    The rate per FTE (fachbezogene Pauschale) belongs to the notice and each amendment,
    never to a table of the platform; a figure uses the version valid on its day.
    """

    effective_from: date
    reference: str
    issued_on: date
    grants: Grants
    material_costs_per_year: Decimal

    @property
    def granted_fte(self) -> Decimal:
        return sum((f for f, _rate in self.grants.values()), Decimal(0))

    @property
    def granted_money_per_year(self) -> Decimal:
        """Staff funding per year: FTE times flat rate, summed over position types."""
        return money(sum((f * rate for f, rate in self.grants.values()), Decimal(0)))

    def rate(self, position_type: PositionType) -> Decimal:
        """The rate per FTE and year for the type (0 if this version grants none of it)."""
        return self.grants.get(position_type, (Decimal(0), Decimal(0)))[1]


@dataclass(frozen=True)
class Reservation:
    """A forwarding contract's share of a notice."""

    contract_id: UUID
    position_type: PositionType
    fte: Decimal
    amount_per_year: Decimal
    period: Period


def version_of(
    effective_from: date,
    reference: str,
    issued_on: str,
    grants: dict[str, dict[str, str]],
    material_costs: str,
) -> NoticeVersion:
    return NoticeVersion(
        effective_from=effective_from,
        reference=reference,
        issued_on=date.fromisoformat(issued_on),
        grants={
            PositionType(k): (Decimal(v["fte"]), Decimal(v["rate"])) for k, v in grants.items()
        },
        material_costs_per_year=Decimal(material_costs),
    )

"""The lines of a Verwendungsnachweis (computed in ``statement``): each figure with the
events it rests on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from contexts.coordination.terms import Period


class VacancyRule(StrEnum):
    TWELFTH_PER_VACANT_MONTH = "twelfth_per_vacant_month"
    PRO_RATA_FILLED = "pro_rata_filled"


@dataclass(frozen=True)
class Line:
    """One figure of the statement with the events it rests on."""

    label: str
    value: Decimal
    events: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RateLine:
    """A rate per FTE in force during the year, as the notice or an amendment states it."""

    position_type: str
    fte: Decimal
    rate: Decimal
    effective_from: date
    reference: str


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
    contract_id: UUID | None
    amount_rule: str  # "notice" for own positions, else the contract's rule
    vacant_months: int
    months_filled: Decimal  # months with staffing, by their share of the funding period
    fte_months: Decimal  # sum over the months of FTE filled x share (the cap's basis)
    cap: Decimal
    actual_cost: Decimal
    grant_use: Decimal | None  # None: a flat contract, whose line carries the money
    own_funds: Decimal
    third_party: Decimal
    uncovered: Decimal | None
    events: list[str]


@dataclass(frozen=True)
class ContractLine:
    contract_id: UUID
    recipient: str
    position_type: str
    fte: Decimal
    amount_rule: str
    amount_per_year: Decimal
    months: Decimal
    limit: Decimal  # the amount per year for the contract's months
    positions_use: Decimal  # sum of its positions' grant use (actual cost rule)
    reduction: Decimal  # cut to the limit (actual cost rule)
    grant_use: Decimal  # what is forwarded under the notice
    reported_cost: Decimal
    own_funds: Decimal
    third_party: Decimal
    events: list[str]

    @property
    def forwarded(self) -> Decimal:
        return self.grant_use


@dataclass(frozen=True)
class Statement:
    notice_id: UUID
    reference: str
    references: list[str]  # the notice and the amendments in force
    grantor: str
    baustein: int
    period: Period
    year: int
    vacancy_rule: VacancyRule
    months_in_period: Decimal
    rates: list[RateLine]
    granted: list[Line]
    months: list[MonthLine]
    positions: list[PositionLine]
    contracts: list[ContractLine]
    totals: list[Line]

    def total(self, label: str) -> Decimal:
        return next(t.value for t in self.totals if t.label == label)

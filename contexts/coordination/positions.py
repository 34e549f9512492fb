"""Positions (Stellen), their staffing and costs, supervision lines and regional areas."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contexts.coordination.funding import BAUSTEIN_OF, PositionType
from contexts.coordination.staff_costs import (
    CONTRIBUTION_KINDS,
    THIRD_PARTY,
    Contribution,
    Staffing,
    check_staff_id,
    months_of,
    spread_year_cost,
    staffed_fte_in,
)
from contexts.coordination.supervision import (
    COORDINATION_POSITIONS_IN,
    Supervision,
    SupervisionFacts,
    check_supervisor,
)
from contexts.shared.errors import DomainError

__all__ = ["COORDINATION_POSITIONS_IN", "Position", "RegionalArea", "Supervision"]


class Position(Aggregate):
    """A funded position (Stelle): type, FTE, employer, funding, work location."""

    class Created(Aggregate.Created):
        title: str
        position_type: str
        fte: str
        employer_kind: str
        employer: str
        funding_kind: str
        funding_id: UUID
        work_tenant: str
        regional_area_id: UUID | None

    class StaffingStarted(Aggregate.Event):
        staff_id: str
        fte: str
        start: str

    class StaffingEnded(Aggregate.Event):
        staff_id: str
        end: str

    class StaffCostRecorded(Aggregate.Event):
        month: str
        amount: str

    class YearStaffCostRecorded(Aggregate.Event):
        """The employer reports the staff cost of a whole year (instead of months)."""

        year: int
        amount: str

    class ContributionRecorded(Aggregate.Event):
        """Money towards the position's cost that is not the grant: own funds (Eigenanteil,
        kommunale Aufstockung) or third-party funds, for a year, with who pays and the source."""

        year: int
        kind: str
        contributor: str
        source: str
        amount: str

    class SupervisionAssigned(Aggregate.Event):
        post_tenant: str
        valid_from: str
        supervisor_position_id: UUID | None  # the supervising coordination position

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Lines stored before they named a position: any coordinator of the post."""
            state["supervisor_position_id"] = None

    class SupervisionEnded(Aggregate.Event):
        valid_to: str

    @event(Created)
    def __init__(
        self,
        title: str,
        position_type: str,
        fte: str,
        employer_kind: str,
        employer: str,
        funding_kind: str,
        funding_id: UUID,
        work_tenant: str,
        regional_area_id: UUID | None,
    ) -> None:
        self.title = title
        self.position_type = PositionType(position_type)
        self.baustein = BAUSTEIN_OF[self.position_type]
        self.fte = Decimal(fte)
        self.employer_kind = employer_kind
        self.employer = employer
        self.funding_kind = funding_kind
        self.funding_id = funding_id
        self.work_tenant = work_tenant
        self.regional_area_id = regional_area_id
        self.staffing: list[Staffing] = []
        self.costs: dict[str, Decimal] = {}
        self.year_costs: dict[int, Decimal] = {}
        self.contributions: list[Contribution] = []
        self.supervision: list[Supervision] = []

    # -- staffing ---------------------------------------------------------------------------
    def staffed_fte_on(self, day: date) -> Decimal:
        return sum((s.fte for s in self.staffing if s.active_on(day)), Decimal(0))

    def start_staffing(self, staff_id: str, fte: Decimal, start: date) -> None:
        check_staff_id(staff_id)
        if fte <= 0:
            raise DomainError("fte-not-positive", "the staffing FTE must be positive", field="fte")
        if any(s.staff_id == staff_id and s.overlaps(start, None) for s in self.staffing):
            raise DomainError(
                "staffing-overlaps",
                f"{staff_id} already fills this position on or after {start}",
                field="staff_id",
            )
        later = [s.start for s in self.staffing if s.start > start] + [start]
        for day in sorted(set(later)):
            staffed = self.staffed_fte_on(day)
            if staffed + fte > self.fte:
                raise DomainError(
                    "staffing-exceeds-position",
                    f"staffing {staffed + fte} FTE on {day} exceeds the position's {self.fte} FTE",
                    field="fte",
                    staffed_fte=str(staffed + fte),
                    position_fte=str(self.fte),
                )
        self._start_staffing(staff_id, str(fte), start.isoformat())

    @event(StaffingStarted)
    def _start_staffing(self, staff_id: str, fte: str, start: str) -> None:
        self.staffing.append(Staffing(staff_id, Decimal(fte), date.fromisoformat(start), None))

    def end_staffing(self, staff_id: str, end: date) -> None:
        open_ = [s for s in self.staffing if s.staff_id == staff_id and s.end is None]
        if not open_:
            raise DomainError(
                "no-open-staffing",
                f"{staff_id} does not currently fill this position",
                field="staff_id",
            )
        if end < open_[0].start:
            raise DomainError(
                "staffing-ends-before-start",
                f"the staffing of {staff_id} started on {open_[0].start}",
                field="end",
            )
        self._end_staffing(staff_id, end.isoformat())

    @event(StaffingEnded)
    def _end_staffing(self, staff_id: str, end: str) -> None:
        self.staffing = [
            Staffing(s.staff_id, s.fte, s.start, date.fromisoformat(end))
            if s.staff_id == staff_id and s.end is None
            else s
            for s in self.staffing
        ]

    def record_cost(self, month: str, amount: Decimal) -> None:
        try:
            date.fromisoformat(f"{month}-01")
        except ValueError:
            raise DomainError(
                "invalid-month", f"{month!r} is not a month (YYYY-MM)", field="month"
            ) from None
        if amount < 0:
            raise DomainError("negative-cost", "staff costs cannot be negative", field="amount")
        if int(month[:4]) in self.year_costs:
            raise DomainError(
                "costs-reported-per-year",
                f"the staff cost of {month[:4]} was reported for the whole year; correct that"
                " figure instead of adding months",
                field="month",
            )
        self._record_cost(month, str(amount.quantize(Decimal("0.01"), ROUND_HALF_UP)))

    @event(StaffCostRecorded)
    def _record_cost(self, month: str, amount: str) -> None:
        self.costs[month] = Decimal(amount)  # a later record for a month corrects the earlier

    def record_year_cost(self, year: int, amount: Decimal) -> None:
        if amount < 0:
            raise DomainError("negative-cost", "staff costs cannot be negative", field="amount")
        if any(m.startswith(f"{year}-") for m in self.costs):
            raise DomainError(
                "costs-reported-per-month",
                f"the staff cost of {year} was reported per month; correct those months"
                " instead of adding a yearly figure",
                field="year",
            )
        self._record_year_cost(year, str(amount.quantize(Decimal("0.01"), ROUND_HALF_UP)))

    @event(YearStaffCostRecorded)
    def _record_year_cost(self, year: int, amount: str) -> None:
        self.year_costs[year] = Decimal(amount)  # a later record for a year corrects it

    def cost_of_year(self, year: int) -> Decimal:
        if year in self.year_costs:
            return self.year_costs[year]
        return sum((a for m, a in self.costs.items() if m.startswith(f"{year}-")), Decimal(0))

    def monthly_costs(self, year: int) -> dict[str, Decimal]:
        """The staff cost per month of ``year``: as reported, or a yearly figure spread by
        ``spread_year_cost``."""
        if year not in self.year_costs:
            return {m: a for m, a in self.costs.items() if m.startswith(f"{year}-")}
        weights = [staffed_fte_in(self.staffing, first, last) for _, first, last in months_of(year)]
        return spread_year_cost(self.year_costs[year], year, weights)

    def record_contribution(
        self, year: int, kind: str, contributor: str, source: str, amount: Decimal
    ) -> None:
        if kind not in CONTRIBUTION_KINDS:
            raise DomainError(
                "unknown-contribution-kind",
                f"kind is one of {', '.join(CONTRIBUTION_KINDS)}, not {kind!r}",
                field="kind",
            )
        if amount < 0:
            raise DomainError(
                "negative-contribution", "a contribution cannot be negative", field="amount"
            )
        if kind == THIRD_PARTY and not source.strip():
            raise DomainError(
                "source-missing",
                "third-party funds name their source (programme, funder)",
                field="source",
            )
        self._record_contribution(
            year, kind, contributor, source, str(amount.quantize(Decimal("0.01"), ROUND_HALF_UP))
        )

    @event(ContributionRecorded)
    def _record_contribution(
        self, year: int, kind: str, contributor: str, source: str, amount: str
    ) -> None:
        """A later record for the same year, kind, contributor and source corrects it."""
        new = Contribution(year, kind, contributor, source, Decimal(amount))
        self.contributions = [c for c in self.contributions if c.key != new.key] + [new]

    def contributed(self, year: int, kind: str) -> Decimal:
        return sum(
            (c.amount for c in self.contributions if c.year == year and c.kind == kind),
            Decimal(0),
        )

    # -- supervision (Fachaufsicht) -----------------------------------------------------------
    def supervisor_on(self, day: date) -> str | None:
        return next((s.post_tenant for s in self.supervision if s.active_on(day)), None)

    def supervision_on(self, day: date) -> Supervision | None:
        """The line in force on ``day``: the post and, where named, its coordination position."""
        return next((s for s in self.supervision if s.active_on(day)), None)

    def assign_supervision(
        self,
        post_tenant: str,
        valid_from: date,
        supervisor_position_id: UUID | None = None,
        facts: SupervisionFacts | None = None,
    ) -> None:
        """A line from the post of ``post_tenant`` (and, if named, one of its coordination
        positions) to this position; ``facts`` are what lies beyond this position's log."""
        facts = facts or SupervisionFacts()
        if post_tenant != self.work_tenant and not (
            facts.post_above_work_tenant and not facts.work_tenant_coordinated
        ):
            own = (
                f"; {self.work_tenant} has a coordination position of its own"
                if facts.post_above_work_tenant
                else ""
            )
            raise DomainError(
                "post-not-responsible",
                f"the coordination post of {post_tenant} is not responsible for {self.work_tenant},"
                f" where this position works{own}",
                field="post_tenant",
            )
        if supervisor_position_id is not None:
            check_supervisor(supervisor_position_id, post_tenant, facts.supervisor)
        current = [s for s in self.supervision if s.valid_to is None or s.valid_to >= valid_from]
        if current:
            raise DomainError(
                "already-supervised",
                f"the position is supervised by {current[0].post_tenant} from"
                f" {current[0].valid_from}; end that line first",
                field="valid_from",
            )
        self._assign_supervision(post_tenant, valid_from.isoformat(), supervisor_position_id)

    @event(SupervisionAssigned)
    def _assign_supervision(
        self, post_tenant: str, valid_from: str, supervisor_position_id: UUID | None
    ) -> None:
        self.supervision.append(
            Supervision(post_tenant, date.fromisoformat(valid_from), None, supervisor_position_id)
        )

    def end_supervision(self, valid_to: date) -> None:
        open_ = [s for s in self.supervision if s.valid_to is None]
        if not open_:
            raise DomainError("not-supervised", "the position has no open supervision line")
        if valid_to < open_[0].valid_from:
            raise DomainError(
                "supervision-ends-before-start",
                f"the supervision line started on {open_[0].valid_from}",
                field="valid_to",
            )
        self._end_supervision(valid_to.isoformat())

    @event(SupervisionEnded)
    def _end_supervision(self, valid_to: str) -> None:
        self.supervision = [
            replace(s, valid_to=date.fromisoformat(valid_to)) if s.valid_to is None else s
            for s in self.supervision
        ]

    # -- index entries (contexts/shared/indexes.py) -----------------------------------------
    def index_entries(self) -> frozenset[tuple[str, str]]:
        """A coordination position counts among the coordination positions working in its
        work tenant (whether that tenant has a post of its own, for supervision lines)."""
        if self.position_type != PositionType.COORDINATION:
            return frozenset()
        return frozenset({(COORDINATION_POSITIONS_IN, self.work_tenant)})


class RegionalArea(Aggregate):
    """A Regionalbereich of a district: a share of the case-management FTE and its towns."""

    class Defined(Aggregate.Created):
        name: str
        towns: list[str]
        case_management_fte: str

    class ShareChanged(Aggregate.Event):
        case_management_fte: str
        reason: str

    @event(Defined)
    def __init__(self, name: str, towns: list[str], case_management_fte: str) -> None:
        self.name = name
        self.towns = towns
        self.case_management_fte = Decimal(case_management_fte)

    @event(ShareChanged)
    def change_share(self, case_management_fte: str, reason: str) -> None:
        self.case_management_fte = Decimal(case_management_fte)

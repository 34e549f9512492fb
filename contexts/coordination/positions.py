"""Positions (Stellen), their staffing and costs, supervision lines and regional areas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contexts.coordination.funding import BAUSTEIN_OF, PositionType
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


@dataclass(frozen=True)
class Supervision:
    post_tenant: str
    valid_from: date
    valid_to: date | None

    def active_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def check_staff_id(staff_id: str) -> None:
    if not staff_id or len(staff_id) > 40 or " " in staff_id.strip():
        raise DomainError(
            "staff-id-not-pseudonymous", f"the staff id must be {STAFF_ID_HINT}", field="staff_id"
        )


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

    class SupervisionAssigned(Aggregate.Event):
        post_tenant: str
        valid_from: str

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
        self._record_cost(month, str(amount.quantize(Decimal("0.01"), ROUND_HALF_UP)))

    @event(StaffCostRecorded)
    def _record_cost(self, month: str, amount: str) -> None:
        self.costs[month] = Decimal(amount)  # a later record for a month corrects the earlier

    # -- supervision (Fachaufsicht) -----------------------------------------------------------
    def supervisor_on(self, day: date) -> str | None:
        return next((s.post_tenant for s in self.supervision if s.active_on(day)), None)

    def assign_supervision(self, post_tenant: str, valid_from: date) -> None:
        if post_tenant != self.work_tenant:
            raise DomainError(
                "post-not-responsible",
                f"the coordination post of {post_tenant} is not responsible for {self.work_tenant},"
                f" where this position works",
                field="post_tenant",
            )
        current = [s for s in self.supervision if s.valid_to is None or s.valid_to >= valid_from]
        if current:
            raise DomainError(
                "already-supervised",
                f"the position is supervised by {current[0].post_tenant} from"
                f" {current[0].valid_from}; end that line first",
                field="valid_from",
            )
        self._assign_supervision(post_tenant, valid_from.isoformat())

    @event(SupervisionAssigned)
    def _assign_supervision(self, post_tenant: str, valid_from: str) -> None:
        self.supervision.append(Supervision(post_tenant, date.fromisoformat(valid_from), None))

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
            Supervision(s.post_tenant, s.valid_from, date.fromisoformat(valid_to))
            if s.valid_to is None
            else s
            for s in self.supervision
        ]


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


def propose_shares(
    total_fte: Decimal, newcomers: dict[str, int], step: Decimal = Decimal("0.1")
) -> dict[str, Decimal]:
    """Split ``total_fte`` over areas in proportion to their newcomer counts.

    Largest-remainder rounding to ``step``, so the shares add up to the total exactly
    (Kreis Steinfurt split 9.0 FTE over five areas by newly immigrated people over 28).
    """
    if total_fte <= 0 or not newcomers or any(n < 0 for n in newcomers.values()):
        raise DomainError("invalid-proposal", "a positive total and non-negative counts are needed")
    people = sum(newcomers.values())
    if people == 0:
        raise DomainError("invalid-proposal", "the newcomer counts add up to zero")
    units = int((total_fte / step).to_integral_value(ROUND_HALF_UP))
    exact = {area: Decimal(units) * n / people for area, n in newcomers.items()}
    floors = {area: int(value) for area, value in exact.items()}
    left = units - sum(floors.values())
    by_remainder = sorted(exact, key=lambda a: (exact[a] - floors[a], newcomers[a]), reverse=True)
    for area in by_remainder[:left]:
        floors[area] += 1
    return {area: (step * floors[area]).quantize(step) for area in newcomers}

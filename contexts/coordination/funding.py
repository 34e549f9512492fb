"""Funding notices (Förderbescheide) and forwarding contracts (Weiterleitungsverträge).

The funding notice is the consistency boundary for what may be forwarded: every forwarding
contract reserves its share on the notice in the same save, so two concurrent contracts on
one notice cannot together exceed the grant (the second gets a version conflict).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contexts.coordination.terms import (
    BAUSTEIN_OF,
    AmountRule,
    Grants,
    NoticeVersion,
    Period,
    PositionType,
    RecipientKind,
    Reservation,
    fte,
    money,
    version_of,
)
from contexts.shared.errors import DomainError

__all__ = [  # the terms are re-exported: callers know them from here
    "BAUSTEIN_OF",
    "AmountRule",
    "ForwardingContract",
    "FundingNotice",
    "Grants",
    "NoticeVersion",
    "Period",
    "PositionType",
    "RecipientKind",
    "Reservation",
    "fte",
    "money",
]


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
        """An Änderungsbescheid; its grants, rates and material costs apply from
        ``effective_from`` (empty in amendments recorded before it existed: from the start)."""

        class_version = 2
        reference: str
        issued_on: str
        effective_from: str
        period_end: str
        grants: dict[str, dict[str, str]]
        material_costs_per_year: str
        reason: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["effective_from"] = ""

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
        self.period = Period(date.fromisoformat(period_start), date.fromisoformat(period_end))
        self.versions: list[NoticeVersion] = [
            version_of(self.period.start, reference, issued_on, grants, material_costs_per_year)
        ]
        self.amendments: list[str] = []
        self.reservations: dict[UUID, Reservation] = {}
        self._take_latest()

    @event(Amended)
    def amend(
        self,
        reference: str,
        issued_on: str,
        effective_from: str,
        period_end: str,
        grants: dict[str, dict[str, str]],
        material_costs_per_year: str,
        reason: str,
    ) -> None:
        start = date.fromisoformat(effective_from) if effective_from else self.period.start
        self.period = Period(self.period.start, date.fromisoformat(period_end))
        self.versions = [v for v in self.versions if v.effective_from < start] + [
            version_of(start, reference, issued_on, grants, material_costs_per_year)
        ]
        self.amendments.append(reason)
        self._take_latest()

    # -- the version in force -------------------------------------------------------------
    def _take_latest(self) -> None:
        """Keep the latest version's terms as plain attributes (what views and rows show)."""
        latest = self.versions[-1]
        self.reference = latest.reference
        self.issued_on = latest.issued_on
        self.grants: Grants = latest.grants
        self.material_costs_per_year = latest.material_costs_per_year

    @property
    def current(self) -> NoticeVersion:
        return self.versions[-1]

    @property
    def references(self) -> list[str]:
        """The references of the notice and its amendments in force, oldest first."""
        return [v.reference for v in self.versions]

    def version_on(self, day: date) -> NoticeVersion:
        """The version valid on ``day`` (the first before the notice's start)."""
        found = self.versions[0]
        for version in self.versions:
            if version.effective_from <= day:
                found = version
        return found

    def segments(self, first: date, last: date) -> list[tuple[NoticeVersion, date, date]]:
        """The days ``first``..``last`` split by the versions valid on them."""
        cuts = [v.effective_from for v in self.versions[1:] if first < v.effective_from <= last]
        bounds = [first, *cuts]
        ends = [d - timedelta(days=1) for d in cuts] + [last]
        return [(self.version_on(s), s, e) for s, e in zip(bounds, ends, strict=True)]

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
        return self.current.granted_fte

    @property
    def granted_money_per_year(self) -> Decimal:
        return self.current.granted_money_per_year

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
        """The days in ``period`` on which forwarded totals can rise or grants fall: contract
        starts and the days amendments take effect."""
        starts = {r.period.start for r in self.reservations.values()}
        starts |= {v.effective_from for v in self.versions}
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
            version = self.version_on(day)
            forwarded_fte, forwarded_money = self.forwarded_in(day, excluding=excluding)
            self._check_fte(forwarded_fte + fte_share, version.granted_fte, day, "")
            if position_type is not None and position_type in version.grants:
                typed, _ = self.forwarded_in(day, excluding=excluding, position_type=position_type)
                granted = version.grants[position_type][0]
                self._check_fte(typed + fte_share, granted, day, f"{position_type} ")
            if forwarded_money + amount_per_year > version.granted_money_per_year:
                raise DomainError(
                    "forwarded-money-exceed-grant",
                    f"forwarded {forwarded_money + amount_per_year} EUR a year exceed granted"
                    f" {version.granted_money_per_year} EUR a year for Baustein {self.baustein}"
                    f" in {day.year} (from {day.isoformat()})",
                    field="amount_per_year",
                    forwarded_per_year=str(forwarded_money + amount_per_year),
                    granted_per_year=str(version.granted_money_per_year),
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

"""Command and query methods of the coordination context, one tenant at a time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.persistence import Recording

from contexts.coordination.domain import OfficeType, Organisation, OrganisationKind, check_name
from contexts.coordination.funding import (
    BAUSTEIN_OF,
    AmountRule,
    ForwardingContract,
    FundingNotice,
    Period,
    PositionType,
    RecipientKind,
    fte,
    money,
)
from contexts.coordination.grants import check_grants, grants_payload
from contexts.coordination.staffing import StaffingCommands
from contexts.shared.errors import DomainError


def organisation_id(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise DomainError(
            "not-an-organisation-id", f"{value!r} is not an organisation id", field=field
        ) from None


class CoordinationApplication(StaffingCommands):
    context = "coordination"

    def register_organisation(
        self, name: str, kind: OrganisationKind, office_type: OfficeType | None = None
    ) -> list[Recording[UUID]]:
        return self.save(Organisation(name=check_name(name), kind=kind, office_type=office_type))

    def rename_organisation(
        self, organisation_id: UUID, name: str, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        org = self.load_expecting(Organisation, organisation_id, "organisation", expected_version)
        org.rename(check_name(name))
        return self.save(org)

    def close_organisation(
        self, organisation_id: UUID, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        org = self.load_expecting(Organisation, organisation_id, "organisation", expected_version)
        org.close()
        return self.save(org)

    def get_organisation(self, organisation_id: UUID) -> Organisation:
        return self.load(Organisation, organisation_id, "organisation")

    # -- funding notices ------------------------------------------------------------------
    def issue_notice(
        self,
        *,
        grantor: str,
        reference: str,
        baustein: int,
        period_start: date,
        period_end: date,
        grants: dict[PositionType, Decimal],
        material_costs_per_year: Decimal = Decimal(0),
        issued_on: date,
        rates: dict[PositionType, Decimal],
    ) -> list[Recording[UUID]]:
        check_grants(baustein, grants)
        Period(period_start, period_end)
        notice = FundingNotice(
            grantor=grantor,
            reference=reference,
            baustein=baustein,
            period_start=period_start.isoformat(),
            period_end=period_end.isoformat(),
            grants=grants_payload(grants, rates),
            material_costs_per_year=str(money(material_costs_per_year)),
            issued_on=issued_on.isoformat(),
        )
        return self.save(notice)

    def amend_notice(
        self,
        notice_id: UUID,
        *,
        reference: str,
        issued_on: date,
        period_end: date,
        grants: dict[PositionType, Decimal],
        material_costs_per_year: Decimal,
        reason: str,
        rates: dict[PositionType, Decimal],
        effective_from: date | None = None,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """An Änderungsbescheid: a new event whose grants and rates apply from
        ``effective_from`` (default: the notice's start); what was forwarded must still fit."""
        notice = self.load_expecting(FundingNotice, notice_id, "funding notice", expected_version)
        check_grants(notice.baustein, grants)
        new_period = Period(notice.period.start, period_end)
        effective = effective_from or notice.period.start
        if not new_period.active_on(effective):
            raise DomainError(
                "effective-outside-notice-period",
                f"the amendment takes effect on {effective}, outside the notice period"
                f" {new_period}",
                field="effective_from",
            )
        payload = grants_payload(grants, rates)
        granted_fte = sum((Decimal(v["fte"]) for v in payload.values()), Decimal(0))
        granted_money = sum(
            (Decimal(v["fte"]) * Decimal(v["rate"]) for v in payload.values()), Decimal(0)
        )
        for r in notice.reservations.values():
            if not new_period.contains(r.period):
                raise DomainError(
                    "amendment-cuts-contract",
                    f"the new period {new_period} no longer covers contract {r.contract_id}"
                    f" ({r.period}); amend or terminate the contract first",
                    field="period_end",
                )
        for day in notice.change_days(Period(effective, new_period.end)):
            forwarded_fte, forwarded_money = notice.forwarded_in(day)
            if forwarded_fte > granted_fte or forwarded_money > granted_money:
                raise DomainError(
                    "amendment-below-forwarded",
                    f"already forwarded {forwarded_fte} FTE / {forwarded_money} EUR a year"
                    f" exceed the amended grant of {granted_fte} FTE / {money(granted_money)}"
                    f" EUR a year from {day.isoformat()}",
                    field="grants",
                )
        notice.amend(
            reference=reference,
            issued_on=issued_on.isoformat(),
            effective_from=effective.isoformat(),
            period_end=period_end.isoformat(),
            grants=payload,
            material_costs_per_year=str(money(material_costs_per_year)),
            reason=reason,
        )
        return self.save(notice)

    def get_notice(self, notice_id: UUID) -> FundingNotice:
        return self.load(FundingNotice, notice_id, "funding notice")

    # -- forwarding contracts -------------------------------------------------------------
    def conclude_contract(
        self,
        *,
        notice_id: UUID,
        recipient_kind: RecipientKind,
        recipient: str,
        position_type: PositionType,
        fte_share: Decimal,
        amount_rule: AmountRule,
        amount_per_year: Decimal,
        start: date,
        end: date,
        cooperation_agreement: str = "",
        recipient_check: Callable[[RecipientKind, str], None] | None = None,
    ) -> list[Recording[UUID]]:
        notice = self.get_notice(notice_id)
        if BAUSTEIN_OF[PositionType(position_type)] != notice.baustein:
            raise DomainError(
                "position-type-not-in-baustein",
                f"{position_type} positions are not funded by a Baustein {notice.baustein} notice",
                field="position_type",
            )
        if recipient_kind == RecipientKind.PROVIDER:
            org = self.load(Organisation, organisation_id(recipient, "recipient"), "organisation")
            if org.kind != OrganisationKind.WELFARE_PROVIDER or not org.active:
                raise DomainError(
                    "recipient-not-a-provider",
                    f"{org.name} is not an active welfare provider",
                    field="recipient",
                )
        elif recipient_check is not None:
            recipient_check(recipient_kind, recipient)
        share, amount, period = fte(fte_share), money(amount_per_year), Period(start, end, "end")
        if share <= 0:
            raise DomainError("fte-not-positive", "the FTE share must be positive", field="fte")
        notice.check_forwarding(share, amount, period, position_type=PositionType(position_type))
        contract = ForwardingContract(
            notice_id=notice.id,
            recipient_kind=RecipientKind(recipient_kind).value,
            recipient=recipient,
            position_type=PositionType(position_type).value,
            fte=str(share),
            amount_rule=AmountRule(amount_rule).value,
            amount_per_year=str(amount),
            start=start.isoformat(),
            end=end.isoformat(),
            cooperation_agreement=cooperation_agreement,
        )
        notice.reserve(
            contract.id, contract.position_type.value, str(share), str(amount),
            start.isoformat(), end.isoformat(),
        )  # fmt: skip
        return self.save(notice, contract)

    def amend_contract(
        self,
        contract_id: UUID,
        *,
        fte_share: Decimal,
        amount_per_year: Decimal,
        end: date,
        reason: str,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        contract = self.load_expecting(
            ForwardingContract, contract_id, "forwarding contract", expected_version
        )
        if contract.terminated:
            raise DomainError("contract-terminated", "a terminated contract cannot be amended")
        notice = self.get_notice(contract.notice_id)
        share, amount = fte(fte_share), money(amount_per_year)
        period = Period(contract.period.start, end, "end")
        notice.check_forwarding(
            share, amount, period, position_type=contract.position_type, excluding=contract.id
        )
        contract.amend(str(share), str(amount), end.isoformat(), reason)
        notice.release(contract.id)
        notice.reserve(
            contract.id, contract.position_type.value, str(share), str(amount),
            period.start.isoformat(), end.isoformat(),
        )  # fmt: skip
        return self.save(notice, contract)

    def terminate_contract(
        self, contract_id: UUID, *, end: date, reason: str, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        contract = self.load_expecting(
            ForwardingContract, contract_id, "forwarding contract", expected_version
        )
        if contract.terminated:
            raise DomainError("contract-terminated", "the contract is already terminated")
        if end < contract.period.start or end > contract.period.end:
            raise DomainError(
                "termination-outside-contract",
                f"the end {end} must lie within the contract period {contract.period}",
                field="end",
            )
        notice = self.get_notice(contract.notice_id)
        contract.terminate(end.isoformat(), reason)
        notice.release(contract.id)
        notice.reserve(
            contract.id, contract.position_type.value, str(contract.fte),
            str(contract.amount_per_year), contract.period.start.isoformat(), end.isoformat(),
        )  # fmt: skip
        return self.save(notice, contract)

    def get_contract(self, contract_id: UUID) -> ForwardingContract:
        return self.load(ForwardingContract, contract_id, "forwarding contract")

"""Funding notices and forwarding contracts: every invariant refuses and appends nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import OrganisationKind
from contexts.coordination.funding import (
    AmountRule,
    ForwardingContract,
    PositionType,
    RecipientKind,
)
from contexts.shared.errors import DomainError
from runtime.eventstore.base import EventLogStore

CM = PositionType.CASE_MANAGEMENT


@pytest.fixture
def steinfurt(store: EventLogStore) -> CoordinationApplication:
    return CoordinationApplication("kreis-steinfurt", store.recorder)


def notice_b2(app: CoordinationApplication, fte: str = "9.0") -> UUID:
    (rec,) = app.issue_notice(
        grantor="Bezirksregierung Arnsberg",
        reference="KIM-B2-2021-05566",
        baustein=2,
        period_start=date(2021, 1, 1),
        period_end=date(2022, 12, 31),
        grants={CM: Decimal(fte)},
        rates={CM: Decimal("55000")},
        issued_on=date(2021, 3, 15),
    )
    return rec.domain_event.originator_id


def provider(app: CoordinationApplication, name: str = "Lernen fördern") -> str:
    (rec,) = app.register_organisation(name, OrganisationKind.WELFARE_PROVIDER)
    return str(rec.domain_event.originator_id)


def forward(
    app: CoordinationApplication,
    notice: UUID,
    recipient: str,
    fte: str,
    amount: str,
    start: date = date(2021, 9, 1),
    end: date = date(2022, 12, 31),
) -> UUID:
    recordings = app.conclude_contract(
        notice_id=notice,
        recipient_kind=RecipientKind.PROVIDER,
        recipient=recipient,
        position_type=CM,
        fte_share=Decimal(fte),
        amount_rule=AmountRule.FLAT,
        amount_per_year=Decimal(amount),
        start=start,
        end=end,
    )
    return recordings[-1].domain_event.originator_id


def test_a_notice_grants_fte_at_the_flat_rate_of_its_year(
    steinfurt: CoordinationApplication,
) -> None:
    notice = steinfurt.get_notice(notice_b2(steinfurt))
    assert notice.granted_fte == Decimal("9.00")
    assert notice.granted_money_per_year == Decimal("495000.00")  # 9.0 x 55,000


def test_forwarding_within_the_grant_reserves_its_share_on_the_notice(
    steinfurt: CoordinationApplication,
) -> None:
    notice_id = notice_b2(steinfurt)
    lf = provider(steinfurt)
    contract_id = forward(steinfurt, notice_id, lf, "1.9", "104500")
    notice = steinfurt.get_notice(notice_id)
    assert notice.forwarded_in(date(2021, 9, 1)) == (Decimal("1.90"), Decimal("104500.00"))
    assert notice.forwarded_in(date(2021, 8, 1)) == (Decimal(0), Decimal(0))
    assert steinfurt.get_contract(contract_id).fte == Decimal("1.90")


def test_forwarding_more_fte_than_granted_is_refused_with_the_figures(
    steinfurt: CoordinationApplication, store: EventLogStore
) -> None:
    notice_id = notice_b2(steinfurt)
    lf = provider(steinfurt)
    forward(steinfurt, notice_id, lf, "8.0", "440000")
    before = store.head("kreis-steinfurt", "coordination")
    with pytest.raises(DomainError) as refused:
        forward(steinfurt, notice_id, lf, "1.5", "1000")
    assert refused.value.rule == "forwarded-fte-exceed-grant"
    assert "forwarded 9.50 FTE exceed granted 9.00 FTE for Baustein 2 in 2021" in str(refused.value)
    assert store.head("kreis-steinfurt", "coordination") == before


def test_forwarding_more_money_than_granted_is_refused(
    steinfurt: CoordinationApplication, store: EventLogStore
) -> None:
    notice_id = notice_b2(steinfurt, fte="1.0")
    lf = provider(steinfurt)
    before = store.head("kreis-steinfurt", "coordination")
    with pytest.raises(DomainError) as refused:
        forward(steinfurt, notice_id, lf, "1.0", "60000")
    assert refused.value.rule == "forwarded-money-exceed-grant"
    assert refused.value.facts["granted_per_year"] == "55000.00"
    assert store.head("kreis-steinfurt", "coordination") == before


def test_a_contract_outside_the_notice_period_is_refused(
    steinfurt: CoordinationApplication, store: EventLogStore
) -> None:
    notice_id = notice_b2(steinfurt)
    lf = provider(steinfurt)
    before = store.head("kreis-steinfurt", "coordination")
    with pytest.raises(DomainError) as refused:
        forward(steinfurt, notice_id, lf, "1.0", "55000", end=date(2023, 6, 30))
    assert refused.value.rule == "contract-outside-notice-period"
    assert store.head("kreis-steinfurt", "coordination") == before


def test_contracts_that_do_not_overlap_in_time_may_each_use_the_whole_grant(
    steinfurt: CoordinationApplication,
) -> None:
    notice_id = notice_b2(steinfurt)
    lf = provider(steinfurt)
    forward(steinfurt, notice_id, lf, "9.0", "495000", date(2021, 1, 1), date(2021, 12, 31))
    forward(steinfurt, notice_id, lf, "9.0", "495000", date(2022, 1, 1), date(2022, 12, 31))
    assert steinfurt.get_notice(notice_id).forwarded_in(date(2022, 6, 1))[0] == Decimal("9.00")


def test_a_terminated_contract_frees_its_share_from_the_end_date(
    steinfurt: CoordinationApplication,
) -> None:
    notice_id = notice_b2(steinfurt)
    lf = provider(steinfurt)
    contract_id = forward(steinfurt, notice_id, lf, "9.0", "495000")
    steinfurt.terminate_contract(contract_id, end=date(2021, 12, 31), reason="Träger gibt auf")
    forward(steinfurt, notice_id, lf, "9.0", "495000", date(2022, 1, 1), date(2022, 12, 31))
    assert steinfurt.get_contract(contract_id).terminated


def test_an_amendment_is_a_new_event_and_may_not_fall_below_what_was_forwarded(
    steinfurt: CoordinationApplication, store: EventLogStore
) -> None:
    notice_id = notice_b2(steinfurt)
    forward(steinfurt, notice_id, provider(steinfurt), "5.0", "275000")
    before = store.head("kreis-steinfurt", "coordination")
    with pytest.raises(DomainError) as refused:
        steinfurt.amend_notice(
            notice_id,
            reference="KIM-B2-2021-05566-Ä1",
            issued_on=date(2021, 10, 1),
            period_end=date(2022, 12, 31),
            grants={CM: Decimal("4.0")},
            rates={CM: Decimal("55000")},
            material_costs_per_year=Decimal(0),
            reason="Kürzung",
        )
    assert refused.value.rule == "amendment-below-forwarded"
    assert store.head("kreis-steinfurt", "coordination") == before
    steinfurt.amend_notice(
        notice_id,
        reference="KIM-B2-2021-05566-Ä1",
        issued_on=date(2021, 10, 1),
        period_end=date(2022, 12, 31),
        grants={CM: Decimal("10.0")},
        rates={CM: Decimal("55000")},
        material_costs_per_year=Decimal(0),
        reason="Aufstockung",
    )
    notice = steinfurt.get_notice(notice_id)
    assert notice.granted_fte == Decimal("10.00")
    assert notice.version == 3  # issued, forwarding reserved, amended: nothing edited in place


def test_a_position_type_of_another_baustein_is_refused(
    steinfurt: CoordinationApplication,
) -> None:
    with pytest.raises(DomainError) as refused:
        steinfurt.issue_notice(
            grantor="Bezirksregierung Arnsberg",
            reference="x",
            baustein=2,
            period_start=date(2021, 1, 1),
            period_end=date(2021, 12, 31),
            grants={PositionType.COORDINATION: Decimal("1.0")},
            rates={PositionType.COORDINATION: Decimal("55000")},
            issued_on=date(2021, 1, 1),
        )
    assert refused.value.rule == "position-type-not-in-baustein"


def test_two_concurrent_contracts_on_one_notice_cannot_both_be_saved(
    store: EventLogStore,
) -> None:
    first = CoordinationApplication("kreis-steinfurt", store.recorder)
    notice_id = notice_b2(first)
    lf = provider(first)
    second = CoordinationApplication("kreis-steinfurt", store.recorder)
    # Both writers read the notice at the same version and both checks pass ...
    stale = second.get_notice(notice_id)
    stale.check_forwarding(Decimal("6.00"), Decimal("330000"), stale.period)
    forward(first, notice_id, lf, "6.0", "330000")
    contract = ForwardingContract(
        notice_id=notice_id,
        recipient_kind="provider",
        recipient=lf,
        position_type="case_management",
        fte="6.00",
        amount_rule="flat",
        amount_per_year="330000.00",
        start="2021-09-01",
        end="2022-12-31",
        cooperation_agreement="",
    )
    stale.reserve(contract.id, "case_management", "6.00", "330000.00", "2021-09-01", "2022-12-31")
    before = store.head("kreis-steinfurt", "coordination")
    # ... but only the first save wins; together they would exceed the 9.0 FTE granted.
    with pytest.raises(IntegrityError):
        second.save(stale, contract)
    assert store.head("kreis-steinfurt", "coordination") == before
    assert first.get_notice(notice_id).forwarded_in(date(2021, 9, 1))[0] == Decimal("6.00")


def test_a_provider_id_that_is_not_an_id_is_a_rule_violation_not_a_crash(
    steinfurt: CoordinationApplication,
) -> None:
    notice_id = notice_b2(steinfurt)
    with pytest.raises(DomainError) as refused:
        forward(steinfurt, notice_id, "lernen-foerdern", "1.0", "55000")
    assert refused.value.rule == "not-an-organisation-id"
    assert refused.value.facts["field"] == "recipient"


def test_a_share_freed_in_mid_month_can_be_forwarded_from_the_next_day(
    steinfurt: CoordinationApplication,
) -> None:
    notice_id = notice_b2(steinfurt)
    lf = provider(steinfurt)
    contract_id = forward(steinfurt, notice_id, lf, "9.0", "495000")
    steinfurt.terminate_contract(contract_id, end=date(2021, 10, 15), reason="Trägerwechsel")
    forward(steinfurt, notice_id, lf, "9.0", "495000", date(2021, 10, 16), date(2022, 12, 31))
    notice = steinfurt.get_notice(notice_id)
    assert notice.forwarded_in(date(2021, 10, 15))[0] == Decimal("9.00")
    assert notice.forwarded_in(date(2021, 10, 16))[0] == Decimal("9.00")


def test_each_position_type_stays_within_its_own_grant(
    store: EventLogStore,
) -> None:
    ks = CoordinationApplication("kreis-steinfurt", store.recorder)
    (rec,) = ks.issue_notice(
        grantor="Bezirksregierung Arnsberg",
        reference="B1",
        baustein=1,
        period_start=date(2021, 1, 1),
        period_end=date(2022, 12, 31),
        grants={PositionType.COORDINATION: Decimal("3.5"), PositionType.ASSISTANCE: Decimal("0.5")},
        rates={
            PositionType.COORDINATION: Decimal("55000"),
            PositionType.ASSISTANCE: Decimal("45000"),
        },
        issued_on=date(2021, 1, 1),
    )
    with pytest.raises(DomainError) as refused:
        ks.conclude_contract(
            notice_id=rec.domain_event.originator_id,
            recipient_kind=RecipientKind.TENANT,
            recipient="rheine",
            position_type=PositionType.COORDINATION,
            fte_share=Decimal("4.0"),
            amount_rule=AmountRule.FLAT,
            amount_per_year=Decimal("100000"),
            start=date(2021, 5, 1),
            end=date(2022, 12, 31),
        )
    assert refused.value.rule == "forwarded-fte-exceed-grant"
    assert "forwarded 4.00 coordination FTE exceed granted 3.50 coordination FTE" in str(
        refused.value
    )


def test_a_contract_ending_after_the_notice_names_the_end_field(
    steinfurt: CoordinationApplication,
) -> None:
    notice_id = notice_b2(steinfurt)
    lf = provider(steinfurt)
    with pytest.raises(DomainError) as refused:
        forward(steinfurt, notice_id, lf, "1.0", "55000", end=date(2023, 6, 30))
    assert refused.value.facts["field"] == "end"
    with pytest.raises(DomainError) as backwards:
        forward(steinfurt, notice_id, lf, "1.0", "55000", date(2021, 9, 1), date(2021, 8, 1))
    assert backwards.value.rule == "period-ends-before-start"
    assert backwards.value.facts["field"] == "end"

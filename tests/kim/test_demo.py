"""The demo scenario: its figures, and that loading it again changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.funding import (
    AmountRule,
    FundingNotice,
    Period,
    PositionType,
    RecipientKind,
)
from kim.cli import main
from kim.demo import load_demo
from runtime.eventstore.base import EventLogStore
from runtime.platform import Platform
from runtime.settings import Settings, get_settings
from services.tenancy.demo import DEMO_TENANTS

COORD = PositionType.COORDINATION
ASSIST = PositionType.ASSISTANCE
CM = PositionType.CASE_MANAGEMENT
ABH = PositionType.IMMIGRATION_OFFICE


def notices(platform: Platform, tenant: str) -> dict[int, FundingNotice]:
    """The tenant's funding notices by Baustein (the demo issues one per Baustein)."""
    app = platform.app(CoordinationApplication, tenant)
    issued = platform.store.read_log(
        tenant, "coordination", topics=[get_topic(FundingNotice.Issued)]
    )
    found = [app.get_notice(UUID(str(r.originator_id))) for r in issued]
    by_baustein = {n.baustein: n for n in found}
    assert len(by_baustein) == len(found), "one notice per Baustein"
    return by_baustein


def test_loading_the_demo_again_changes_nothing(platform: Platform) -> None:
    before = platform.store.heads()
    assert before[("kreis-steinfurt", "coordination")] > 0

    assert load_demo(platform) == []
    assert platform.store.heads() == before


def test_the_demo_registers_the_tenant_hierarchy(platform: Platform) -> None:
    directory = platform.directory(refresh=True)
    assert {t.key for t in DEMO_TENANTS} <= set(directory.tenants)
    assert directory.get("rheine") is not None
    assert directory.tenants["rheine"].parent == "kreis-steinfurt"
    assert directory.tenants["kreis-steinfurt"].parent == "nrw"
    assert directory.is_ancestor("kreis-steinfurt", "rheine")
    assert not directory.is_ancestor("kreis-steinfurt", "aachen")


def test_kreis_steinfurt_holds_notices_for_all_three_bausteine(platform: Platform) -> None:
    ks = notices(platform, "kreis-steinfurt")
    assert sorted(ks) == [1, 2, 3]
    b1, b2, b3 = ks[1], ks[2], ks[3]
    assert b1.grants == {
        COORD: (Decimal("3.50"), Decimal("55000.00")),
        ASSIST: (Decimal("0.50"), Decimal("45000.00")),
    }
    assert b1.granted_fte == Decimal("4.00")
    assert b1.granted_money_per_year == Decimal("215000.00")  # 3.5 x 55,000 + 0.5 x 45,000
    assert b2.granted_fte == Decimal("9.00")
    assert b2.granted_money_per_year == Decimal("495000.00")
    assert b3.grants == {ABH: (Decimal("2.50"), Decimal("55000.00"))}
    assert b3.granted_fte == Decimal("2.50")
    for n in (b1, b2, b3):
        assert n.grantor == "Bezirksregierung Arnsberg"
        assert n.period == Period(date(2021, 1, 1), date(2022, 12, 31))
        assert n.amendments == []


def test_rheine_holds_its_own_baustein_3_notice(platform: Platform) -> None:
    rheine = notices(platform, "rheine")
    assert sorted(rheine) == [3]
    b3 = rheine[3]
    assert b3.reference == "KIM-B3-2020-05566076"
    assert b3.granted_fte == Decimal("1.50")
    assert b3.granted_money_per_year == Decimal("82500.00")
    assert b3.period.start.isoformat() == "2020-07-01"
    assert b3.reservations == {}


def test_aachen_holds_coordination_with_material_costs_and_case_management(
    platform: Platform,
) -> None:
    aachen = notices(platform, "aachen")
    assert sorted(aachen) == [1, 2]
    b1 = aachen[1]
    assert b1.grants[COORD][0] == Decimal("2.50")
    assert b1.grants[ASSIST][0] == Decimal("0.50")
    assert b1.material_costs_per_year == Decimal("83000.00")
    assert b1.granted_money_per_year == Decimal("160000.00")  # 2.5 x 55,000 + 0.5 x 45,000
    assert aachen[2].granted_fte == Decimal("5.00")
    assert aachen[2].granted_money_per_year == Decimal("275000.00")
    assert notices(platform, "staedteregion-aachen") == {}


def test_kreis_steinfurt_forwards_one_coordination_post_to_rheine(platform: Platform) -> None:
    app = platform.app(CoordinationApplication, "kreis-steinfurt")
    b1 = notices(platform, "kreis-steinfurt")[1]
    (reservation,) = b1.reservations.values()
    contract = app.get_contract(reservation.contract_id)
    assert contract.notice_id == b1.id
    assert contract.recipient_kind == RecipientKind.TENANT
    assert contract.recipient == "rheine"
    assert contract.position_type == COORD
    assert contract.fte == Decimal("1.00")
    assert contract.amount_rule == AmountRule.FLAT
    assert contract.amount_per_year == Decimal("50000.00")
    assert contract.period.start.isoformat() == "2021-05-01"
    assert contract.period.end.isoformat() == "2022-12-31"
    assert not contract.terminated
    assert (reservation.fte, reservation.amount_per_year) == (Decimal("1.00"), Decimal("50000.00"))


def test_kreis_steinfurt_forwards_case_management_to_lernen_foerdern(platform: Platform) -> None:
    app = platform.app(CoordinationApplication, "kreis-steinfurt")
    b2 = notices(platform, "kreis-steinfurt")[2]
    (reservation,) = b2.reservations.values()
    contract = app.get_contract(reservation.contract_id)
    assert contract.recipient_kind == RecipientKind.PROVIDER
    provider = app.get_organisation(UUID(contract.recipient))
    assert provider.name == "Lernen fördern e.V."
    assert contract.position_type == CM
    assert contract.fte == Decimal("1.90")
    assert contract.amount_per_year == Decimal("104500.00")
    assert contract.period.start.isoformat() == "2021-09-01"
    assert b2.forwarded_in(contract.period.start) == (Decimal("1.90"), Decimal("104500.00"))


def test_kim_demo_loads_into_an_empty_store_and_a_second_run_appends_nothing(
    settings: Settings,
    store: EventLogStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert store.heads() == {}
    monkeypatch.setenv("KIM_EVENT_STORE", settings.event_store)
    monkeypatch.setenv("KIM_PG_SCHEMA", settings.pg_schema)
    monkeypatch.setenv("KIM_BUS", "memory")
    get_settings.cache_clear()
    try:
        assert main(["demo"]) == 0
        first = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
        loaded = store.heads()
        assert main(["demo"]) == 0
        second = " ".join(capsys.readouterr().err.split())
        assert store.heads() == loaded
    finally:
        get_settings.cache_clear()

    assert "Kreis Steinfurt (kreis-steinfurt)" in first
    assert "Lernen fördern" in first
    assert "nichts geändert" in second
    for tenant in ("kreis-steinfurt", "rheine", "aachen"):
        assert loaded[(tenant, "coordination")] > 0


def test_the_demo_stays_loaded_after_an_amendment_with_a_new_reference(
    platform: Platform,
) -> None:
    ks = platform.app(CoordinationApplication, "kreis-steinfurt")
    issued = platform.store.read_log(
        "kreis-steinfurt", "coordination", topics=[get_topic(FundingNotice.Issued)]
    )
    b2 = next(r.originator_id for r in issued if ks.get_notice(r.originator_id).baustein == 2)
    ks.amend_notice(
        b2,
        reference="Änderungsbescheid 51.02-KIM-2021/2",
        issued_on=date(2021, 11, 1),
        period_end=date(2022, 12, 31),
        grants={PositionType.CASE_MANAGEMENT: Decimal("9.0")},
        rates={PositionType.CASE_MANAGEMENT: Decimal("55000")},
        material_costs_per_year=Decimal(0),
        reason="neues Aktenzeichen",
    )
    before = platform.store.heads()
    assert load_demo(platform) == []
    assert platform.store.heads() == before

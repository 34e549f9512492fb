"""Positions, staffing, supervision lines and regional areas."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import OrganisationKind
from contexts.coordination.funding import AmountRule, FundingNotice, PositionType, RecipientKind
from contexts.coordination.shares import propose_shares
from contexts.shared.errors import DomainError
from runtime.eventstore.base import EventLogStore
from runtime.platform import Platform
from tests.case_support import lf_position_record, rheine_coordination_position

CM = PositionType.CASE_MANAGEMENT
Auth = Callable[..., dict[str, str]]


@pytest.fixture
def ks(store: EventLogStore) -> CoordinationApplication:
    return CoordinationApplication("kreis-steinfurt", store.recorder)


def position(app: CoordinationApplication, fte: str = "1.9") -> UUID:
    (notice,) = app.issue_notice(
        grantor="Bezirksregierung Arnsberg",
        reference="B2",
        baustein=2,
        period_start=date(2021, 1, 1),
        period_end=date(2022, 12, 31),
        grants={CM: Decimal("9.0")},
        rates={CM: Decimal("55000")},
        issued_on=date(2021, 3, 1),
    )
    (org,) = app.register_organisation("Lernen fördern e.V.", OrganisationKind.WELFARE_PROVIDER)
    *_, contract = app.conclude_contract(
        notice_id=notice.domain_event.originator_id,
        recipient_kind=RecipientKind.PROVIDER,
        recipient=str(org.domain_event.originator_id),
        position_type=CM,
        fte_share=Decimal(fte),
        amount_rule=AmountRule.FLAT,
        amount_per_year=Decimal("104500"),
        start=date(2021, 9, 1),
        end=date(2022, 12, 31),
    )
    (rec,) = app.create_position(
        title="CM Rheine",
        position_type=CM,
        fte_share=Decimal(fte),
        employer_kind="provider",
        employer=str(org.domain_event.originator_id),
        funding_kind="contract",
        funding_id=contract.domain_event.originator_id,
        work_tenant="rheine",
    )
    return rec.domain_event.originator_id


def test_staffing_beyond_the_positions_fte_is_refused_and_nothing_appended(
    ks: CoordinationApplication, store: EventLogStore
) -> None:
    pid = position(ks)
    ks.start_staffing(pid, staff_id="LF-CM-01", fte_share=Decimal("1.0"), start=date(2021, 9, 1))
    before = store.head("kreis-steinfurt", "coordination")
    with pytest.raises(DomainError) as refused:
        ks.start_staffing(
            pid, staff_id="LF-CM-02", fte_share=Decimal("1.0"), start=date(2021, 10, 1)
        )
    assert refused.value.rule == "staffing-exceeds-position"
    assert refused.value.facts["staffed_fte"] == "2.00"
    assert store.head("kreis-steinfurt", "coordination") == before


def test_a_leaving_member_frees_the_fte_for_a_successor(ks: CoordinationApplication) -> None:
    pid = position(ks, fte="1.0")
    ks.start_staffing(pid, staff_id="LF-CM-01", fte_share=Decimal("1.0"), start=date(2021, 9, 1))
    ks.end_staffing(pid, staff_id="LF-CM-01", end=date(2021, 12, 31))
    ks.start_staffing(pid, staff_id="LF-CM-03", fte_share=Decimal("1.0"), start=date(2022, 1, 1))
    p = ks.get_position(pid)
    assert p.staffed_fte_on(date(2021, 11, 1)) == Decimal("1.00")
    assert p.staffed_fte_on(date(2022, 2, 1)) == Decimal("1.00")
    assert [s.staff_id for s in p.staffing] == ["LF-CM-01", "LF-CM-03"]


def test_a_staff_id_that_looks_like_a_name_is_refused(ks: CoordinationApplication) -> None:
    pid = position(ks)
    with pytest.raises(DomainError) as refused:
        ks.start_staffing(
            pid, staff_id="Anna Muster", fte_share=Decimal("1"), start=date(2021, 9, 1)
        )
    assert refused.value.rule == "staff-id-not-pseudonymous"


def test_only_the_post_of_the_work_location_may_supervise(
    ks: CoordinationApplication, store: EventLogStore
) -> None:
    pid = position(ks)
    before = store.head("kreis-steinfurt", "coordination")
    with pytest.raises(DomainError) as refused:
        ks.assign_supervision(pid, post_tenant="kreis-steinfurt", valid_from=date(2021, 9, 1))
    assert refused.value.rule == "post-not-responsible"
    assert store.head("kreis-steinfurt", "coordination") == before
    ks.assign_supervision(pid, post_tenant="rheine", valid_from=date(2021, 9, 1))
    assert ks.get_position(pid).supervisor_on(date(2022, 1, 1)) == "rheine"


def test_a_position_has_at_most_one_supervising_post_at_a_time(
    ks: CoordinationApplication,
) -> None:
    pid = position(ks)
    ks.assign_supervision(pid, post_tenant="rheine", valid_from=date(2021, 9, 1))
    with pytest.raises(DomainError) as refused:
        ks.assign_supervision(pid, post_tenant="rheine", valid_from=date(2022, 1, 1))
    assert refused.value.rule == "already-supervised"
    ks.end_supervision(pid, valid_to=date(2021, 12, 31))
    ks.assign_supervision(pid, post_tenant="rheine", valid_from=date(2022, 1, 1))
    p = ks.get_position(pid)
    assert p.supervisor_on(date(2021, 10, 1)) == "rheine"
    assert len(p.supervision) == 2


def test_shares_are_proposed_from_newcomer_counts_and_add_up_to_the_total() -> None:
    counts = {
        "RB Steinfurt": 1187,
        "RB Ibbenbüren": 1187,
        "RB Lengerich": 1484,
        "RB Greven/Greven": 1410,
        "RB Rheine": 1410,
    }  # 6,678 newly immigrated people over 28 (Kreis Steinfurt, 28.02.2021)
    shares = propose_shares(Decimal("9.0"), counts)
    assert shares == {
        "RB Steinfurt": Decimal("1.6"),
        "RB Ibbenbüren": Decimal("1.6"),
        "RB Lengerich": Decimal("2.0"),
        "RB Greven/Greven": Decimal("1.9"),
        "RB Rheine": Decimal("1.9"),
    }
    assert sum(shares.values()) == Decimal("9.0")


def test_the_demo_position_in_rheine_is_supervised_by_rheines_post_over_http(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    ks_app = platform.app(CoordinationApplication, "kreis-steinfurt")
    created = lf_position_record(platform)
    response = client.get(
        f"/coordination/tenants/kreis-steinfurt/positions/{created.originator_id}",
        headers=auth("kreis-steinfurt", "district_coordinator"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["work_tenant"] == "rheine"
    assert body["fte"] == "1.90"
    assert body["supervision"][0]["post_tenant"] == "rheine"
    rheine_coordination = str(rheine_coordination_position(platform))  # the line runs from it
    assert body["supervision"][0]["supervisor_position_id"] == rheine_coordination
    listed = client.get(
        "/coordination/tenants/kreis-steinfurt/positions",
        headers=auth("kreis-steinfurt", "district_coordinator"),
    )
    assert listed.status_code == 200, listed.text
    by_title = {p["title"]: p for p in listed.json()}
    assert set(by_title) == {
        "Case Management Lernen fördern e.V., RB Rheine",
        "Koordination KI Kreis Steinfurt",
        "Assistenz KI Kreis Steinfurt",
        "Koordinierungsstelle KIM Stadt Rheine",
    }
    assert by_title["Case Management Lernen fördern e.V., RB Rheine"]["id"] == str(
        created.originator_id
    )
    assert ks_app.get_position(created.originator_id).staffed_fte_on(date(2021, 11, 1)) == Decimal(
        "1.90"
    )
    refused = client.post(
        f"/coordination/tenants/kreis-steinfurt/positions/{created.originator_id}/staffing",
        json={"staff_id": "LF-CM-09", "fte": "0.5", "start": "2021-11-01"},
        headers=auth("kreis-steinfurt", "district_coordinator"),
    )
    assert refused.status_code == 422
    assert refused.json()["rule"] == "staffing-exceeds-position"


def test_a_position_working_outside_the_tenant_is_refused_over_http(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    issued = platform.store.read_log(
        "aachen", "coordination", topics=[get_topic(FundingNotice.Issued)]
    )
    before = platform.store.head("aachen", "coordination")
    response = client.post(
        "/coordination/tenants/aachen/positions",
        json={
            "title": "Koordination",
            "position_type": "coordination",
            "fte": "1.0",
            "employer_kind": "tenant",
            "employer": "aachen",
            "funding_kind": "notice",
            "funding_id": str(issued[0].originator_id),
            "work_tenant": "rheine",
        },
        headers=auth("aachen", "coordinator"),
    )
    assert response.status_code == 422
    assert response.json()["rule"] == "work-location-outside-tenant"
    assert platform.store.head("aachen", "coordination") == before

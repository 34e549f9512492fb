"""REST API of amendments (Änderungsbescheide): new figures and rates from a day on, never
below what is forwarded; refusals append nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.funding_support import (
    CONTRACTS,
    KS,
    NOTICES,
    amendment,
    b2_id,
    error_fields,
    forwarding,
    head,
    notice,
)
from tests.support import Auth, assert_problem


@pytest.fixture
def ks(auth: Auth) -> dict[str, str]:
    """Headers of Kreis Steinfurt's district coordinator."""
    return auth(KS, "district_coordinator")


def test_an_amendment_records_the_new_figures_and_its_reason(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    assert notice(client, ks, b2)["version"] == 2  # issued, then Lernen fördern's share reserved
    before = head(platform)
    response = client.post(
        f"{NOTICES}/{b2}/amend",
        json=amendment(material_costs_per_year="5000", expected_version=2),
        headers=ks,
    )
    assert response.status_code == 200, response.text
    assert response.json()["events"] == [
        {"aggregate_id": b2, "version": 3, "type": "FundingNoticeAmended", "position": before + 1}
    ]
    shown = notice(client, ks, b2)
    assert shown["version"] == 3
    assert shown["reference"] == "KIM-B2-2021-05566-Ä1"
    assert shown["issued_on"] == "2021-11-15"
    assert shown["period_start"] == "2021-01-01"
    assert shown["granted_fte"] == "10.00"
    assert shown["granted_money_per_year"] == "550000.00"
    assert shown["material_costs_per_year"] == "5000.00"
    assert shown["amendments"] == ["Änderungsbescheid: 1,0 VZÄ Case Management zusätzlich"]
    assert [r["fte"] for r in shown["forwarding"]] == ["1.90"]

    # the amended grant is what later contracts are checked against: 1.9 + 8.1 = 10.0
    response = client.post(
        CONTRACTS, json=forwarding(b2, fte="8.1", amount_per_year="445500"), headers=ks
    )
    assert response.status_code == 201, response.text


def test_an_amendment_with_a_stale_expected_version_is_a_409_problem_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    first = client.post(f"{NOTICES}/{b2}/amend", json=amendment(expected_version=2), headers=ks)
    assert first.status_code == 200, first.text
    before = head(platform)

    response = client.post(
        f"{NOTICES}/{b2}/amend",
        json=amendment(grants={"case_management": "11.0"}, expected_version=2),
        headers=ks,
    )
    body = assert_problem(response, 409, "stale-version")
    assert body["facts"] == {"expected_version": 2, "actual_version": 3}
    assert head(platform) == before
    assert notice(client, ks, b2)["granted_fte"] == "10.00"


def test_an_amendment_below_what_is_forwarded_is_refused_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    before = head(platform)
    response = client.post(
        f"{NOTICES}/{b2}/amend", json=amendment(grants={"case_management": "1.5"}), headers=ks
    )
    body = assert_problem(response, 422, "amendment-below-forwarded")
    assert "1.90 FTE" in body["detail"]
    assert "1.50 FTE" in body["detail"]
    assert error_fields(body) == {"grants"}
    assert head(platform) == before
    assert notice(client, ks, b2)["granted_fte"] == "9.00"


def test_an_amendment_whose_money_falls_below_what_is_forwarded_is_refused(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    before = head(platform)
    # 9.0 FTE at 10,000 EUR are 90,000 EUR a year, less than the 104,500 forwarded
    body = amendment(grants={"case_management": "9.0"}, rates={"case_management": "10000"})
    response = client.post(f"{NOTICES}/{b2}/amend", json=body, headers=ks)
    assert_problem(response, 422, "amendment-below-forwarded")
    assert head(platform) == before


def test_an_amendment_cutting_off_a_contract_is_refused_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    before = head(platform)
    response = client.post(
        f"{NOTICES}/{b2}/amend", json=amendment(period_end="2022-06-30"), headers=ks
    )
    body = assert_problem(response, 422, "amendment-cuts-contract")
    assert error_fields(body) == {"period_end"}
    assert head(platform) == before


def test_an_amendment_states_the_day_it_takes_effect_within_the_notice_period(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    before = head(platform)
    body = amendment()
    del body["effective_from"]
    missing = client.post(f"{NOTICES}/{b2}/amend", json=body, headers=ks)
    assert missing.status_code == 422
    assert "effective_from" in {e["field"] for e in missing.json()["errors"]}
    outside = client.post(
        f"{NOTICES}/{b2}/amend", json=amendment(effective_from="2023-01-01"), headers=ks
    )
    assert_problem(outside, 422, "effective-outside-notice-period")
    assert head(platform) == before
    later = client.post(
        f"{NOTICES}/{b2}/amend",
        json=amendment(effective_from="2022-01-01", rates={"case_management": "58000"}),
        headers=ks,
    )
    assert later.status_code == 200, later.text
    versions = notice(client, ks, b2)["versions"]
    assert [(v["effective_from"], v["grants"]["case_management"]) for v in versions] == [
        ("2021-01-01", {"fte": "9.00", "rate": "55000.00"}),
        ("2022-01-01", {"fte": "10.00", "rate": "58000.00"}),
    ]

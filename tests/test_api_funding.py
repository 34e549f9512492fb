"""REST API of funding notices and forwarding contracts, on the demo of Kreis Steinfurt.

Demo facts the tests build on: Kreis Steinfurt holds notices for Baustein 1 (3.5 coordination
+ 0.5 assistance FTE), 2 (9.0 case management) and 3 (2.5 immigration office), all from
2021-01-01 to 2022-12-31; it forwards 1.0 coordination FTE (50,000 EUR a year) to Rheine from
2021-05-01 and 1.9 case-management FTE (104,500 EUR a year) to "Lernen fördern e.V." from
2021-09-01. Every refused command appends nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services.runtime.platform import Platform

PROBLEM = "application/problem+json"
TITLES = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Content",
}
KS = "kreis-steinfurt"
BASE = f"/coordination/tenants/{KS}"
NOTICES = f"{BASE}/notices"
CONTRACTS = f"{BASE}/contracts"
ORGS = f"{BASE}/organisations"
Auth = Callable[..., dict[str, str]]
Json = dict[str, Any]

NEW_B2_NOTICE: Json = {
    "grantor": "Bezirksregierung Arnsberg",
    "reference": "KIM-B2-2022-05566-N",
    "baustein": 2,
    "period_start": "2022-01-01",
    "period_end": "2022-12-31",
    "grants": {"case_management": "2.0"},
    "issued_on": "2021-12-10",
}


def assert_problem(response: httpx.Response, status: int, rule: str) -> Json:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: Json = response.json()
    assert body["type"] == f"urn:kim:problem:{rule}"
    assert body["rule"] == rule
    assert body["status"] == status
    assert body["title"] == TITLES[status]
    assert body["instance"] == response.request.url.path
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def error_fields(body: Json) -> set[str]:
    return {e["field"] for e in body["errors"]}


def head(platform: Platform, tenant: str = KS) -> int:
    return platform.store.head(tenant, "coordination")


@pytest.fixture
def ks(auth: Auth) -> dict[str, str]:
    """Headers of Kreis Steinfurt's district coordinator."""
    return auth(KS, "district_coordinator")


def notices(client: TestClient, headers: dict[str, str], tenant: str = KS) -> dict[int, Json]:
    """The tenant's notices by Baustein."""
    response = client.get(f"/coordination/tenants/{tenant}/notices", headers=headers)
    assert response.status_code == 200, response.text
    return {n["baustein"]: n for n in response.json()}


def notice(client: TestClient, headers: dict[str, str], notice_id: str) -> Json:
    response = client.get(f"{NOTICES}/{notice_id}", headers=headers)
    assert response.status_code == 200, response.text
    shown: Json = response.json()
    return shown


def contract(client: TestClient, headers: dict[str, str], contract_id: str) -> Json:
    response = client.get(f"{CONTRACTS}/{contract_id}", headers=headers)
    assert response.status_code == 200, response.text
    shown: Json = response.json()
    return shown


def b2_id(client: TestClient, headers: dict[str, str]) -> str:
    return str(notices(client, headers)[2]["id"])


def provider_contract_id(client: TestClient, headers: dict[str, str]) -> str:
    """The demo contract forwarding 1.9 case-management FTE to Lernen fördern e.V."""
    (reservation,) = notices(client, headers)[2]["forwarding"]
    return str(reservation["contract_id"])


def forwarding(notice_id: str, **changes: Any) -> Json:
    """A forwarding contract body: B2 case management to the member town Rheine."""
    body: Json = {
        "notice_id": notice_id,
        "recipient_kind": "tenant",
        "recipient": "rheine",
        "position_type": "case_management",
        "fte": "1.0",
        "amount_rule": "flat",
        "amount_per_year": "55000",
        "start": "2021-09-01",
        "end": "2022-12-31",
        "cooperation_agreement": "Kooperationsvereinbarung Case Management Rheine",
    }
    body.update(changes)
    return body


def register_organisation(client: TestClient, headers: dict[str, str], **body: Any) -> str:
    response = client.post(ORGS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["events"][0]["aggregate_id"])


# -- reading notices ---------------------------------------------------------------------------


def test_the_district_lists_its_three_demo_notices_with_what_is_forwarded(
    client: TestClient, ks: dict[str, str]
) -> None:
    response = client.get(NOTICES, headers=ks)
    assert response.status_code == 200, response.text
    listed = response.json()
    assert sorted(n["baustein"] for n in listed) == [1, 2, 3]
    by_baustein = {n["baustein"]: n for n in listed}

    b2 = by_baustein[2]
    assert b2["reference"] == "KIM-B2-2021-05566"
    assert b2["grantor"] == "Bezirksregierung Arnsberg"
    assert (b2["period_start"], b2["period_end"]) == ("2021-01-01", "2022-12-31")
    assert b2["grants"] == {"case_management": {"fte": "9.00", "rate": "55000.00"}}
    assert b2["granted_fte"] == "9.00"
    assert b2["granted_money_per_year"] == "495000.00"
    (reservation,) = b2["forwarding"]
    assert reservation["position_type"] == "case_management"
    assert reservation["fte"] == "1.90"
    assert reservation["amount_per_year"] == "104500.00"
    assert (reservation["start"], reservation["end"]) == ("2021-09-01", "2022-12-31")
    assert b2["amendments"] == []

    assert by_baustein[1]["granted_fte"] == "4.00"
    assert [r["fte"] for r in by_baustein[1]["forwarding"]] == ["1.00"]
    assert by_baustein[3]["granted_fte"] == "2.50"
    assert by_baustein[3]["forwarding"] == []


def test_the_demo_provider_contract_names_lernen_foerdern_and_its_cooperation_agreement(
    client: TestClient, ks: dict[str, str]
) -> None:
    shown = contract(client, ks, provider_contract_id(client, ks))
    assert shown["recipient_kind"] == "provider"
    assert shown["position_type"] == "case_management"
    assert (shown["fte"], shown["amount_per_year"]) == ("1.90", "104500.00")
    assert shown["amount_rule"] == "flat"
    assert shown["terminated"] is False
    assert "Rheine" in shown["cooperation_agreement"]
    provider = client.get(f"{ORGS}/{shown['recipient']}", headers=ks).json()
    assert provider["name"] == "Lernen fördern e.V."
    assert provider["kind"] == "welfare_provider"


def test_an_unknown_notice_is_a_404_problem(client: TestClient, ks: dict[str, str]) -> None:
    missing = str(uuid.uuid4())
    body = assert_problem(client.get(f"{NOTICES}/{missing}", headers=ks), 404, "not-found")
    assert missing in body["detail"]


# -- issuing notices ---------------------------------------------------------------------------


def test_issuing_a_notice_records_it_at_the_flat_rate_and_lists_it(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    before = head(platform)
    response = client.post(NOTICES, json=NEW_B2_NOTICE, headers=ks)
    assert response.status_code == 201, response.text
    (issued,) = response.json()["events"]
    assert issued["type"] == "FundingNoticeIssued"
    assert issued["version"] == 1
    assert issued["position"] == before + 1
    assert head(platform) == before + 1

    shown = notice(client, ks, issued["aggregate_id"])
    assert shown == {
        "id": issued["aggregate_id"],
        "version": 1,
        "grantor": "Bezirksregierung Arnsberg",
        "reference": "KIM-B2-2022-05566-N",
        "baustein": 2,
        "period_start": "2022-01-01",
        "period_end": "2022-12-31",
        "issued_on": "2021-12-10",
        "grants": {"case_management": {"fte": "2.00", "rate": "55000.00"}},
        "granted_fte": "2.00",
        "granted_money_per_year": "110000.00",
        "material_costs_per_year": "0.00",
        "forwarding": [],
        "amendments": [],
    }
    listed = client.get(NOTICES, headers=ks).json()
    assert [n["id"] for n in listed].count(issued["aggregate_id"]) == 1
    assert len(listed) == 4


def test_a_notice_keeps_the_rates_and_material_costs_it_was_issued_with(
    client: TestClient, ks: dict[str, str]
) -> None:
    body = {
        **NEW_B2_NOTICE,
        "baustein": 1,
        "grants": {"coordination": "1.5", "assistance": "0.5"},
        "rates": {"coordination": "60000"},
        "material_costs_per_year": "12000.50",
    }
    response = client.post(NOTICES, json=body, headers=ks)
    assert response.status_code == 201, response.text
    shown = notice(client, ks, response.json()["events"][0]["aggregate_id"])
    assert shown["grants"] == {
        "coordination": {"fte": "1.50", "rate": "60000.00"},
        "assistance": {"fte": "0.50", "rate": "45000.00"},
    }
    assert shown["granted_fte"] == "2.00"
    assert shown["granted_money_per_year"] == "112500.00"  # 1.5 x 60,000 + 0.5 x 45,000
    assert shown["material_costs_per_year"] == "12000.50"


@pytest.mark.parametrize(
    ("changes", "rule", "fields"),
    [
        (
            {"grants": {"coordination": "1.0"}},
            "position-type-not-in-baustein",
            {"grants.coordination"},
        ),
        ({"period_end": "2021-12-31"}, "period-ends-before-start", {"period_end"}),
        ({"period_start": "2019-01-01"}, "no-flat-rate", {"period_start"}),
    ],
    ids=["position-type-of-another-baustein", "period-ends-before-start", "year-without-rate"],
)
def test_a_notice_breaking_a_rule_is_refused_naming_the_field_and_appends_nothing(
    client: TestClient,
    platform: Platform,
    ks: dict[str, str],
    changes: Json,
    rule: str,
    fields: set[str],
) -> None:
    before = platform.store.heads()
    response = client.post(NOTICES, json={**NEW_B2_NOTICE, **changes}, headers=ks)
    body = assert_problem(response, 422, rule)
    assert error_fields(body) == fields
    assert platform.store.heads() == before


# -- concluding contracts ----------------------------------------------------------------------


def test_forwarding_more_fte_than_granted_is_refused_with_the_figures_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    before = head(platform)
    # 1.9 FTE already go to Lernen fördern from 2021-09: 1.9 + 7.6 = 9.5 > 9.0
    response = client.post(
        CONTRACTS, json=forwarding(b2, fte="7.6", amount_per_year="100000"), headers=ks
    )
    body = assert_problem(response, 422, "forwarded-fte-exceed-grant")
    assert "forwarded 9.50 FTE exceed granted 9.00 FTE for Baustein 2 in 2021" in body["detail"]
    assert body["facts"] == {
        "forwarded_fte": "9.50",
        "granted_fte": "9.00",
        "baustein": 2,
        "month": "2021-09",
        "day": "2021-09-01",
    }
    assert error_fields(body) == {"fte"}
    assert head(platform) == before
    assert len(notice(client, ks, b2)["forwarding"]) == 1


def test_forwarding_exactly_the_rest_of_the_grant_is_accepted_and_nothing_beyond(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    before = head(platform)
    # 9.0 - 1.9 = 7.1 FTE and 495,000 - 104,500 = 390,500 EUR a year are still free
    response = client.post(
        CONTRACTS, json=forwarding(b2, fte="7.1", amount_per_year="390500"), headers=ks
    )
    assert response.status_code == 201, response.text
    events = response.json()["events"]
    assert [e["type"] for e in events] == [
        "FundingNoticeForwardingReserved",
        "ForwardingContractConcluded",
    ]
    assert head(platform) == before + 2
    contract_id = events[1]["aggregate_id"]
    shown = notice(client, ks, b2)
    assert sorted(r["fte"] for r in shown["forwarding"]) == ["1.90", "7.10"]
    assert contract(client, ks, contract_id)["recipient"] == "rheine"

    response = client.post(
        CONTRACTS, json=forwarding(b2, fte="0.01", amount_per_year="0"), headers=ks
    )
    body = assert_problem(response, 422, "forwarded-fte-exceed-grant")
    assert body["facts"]["forwarded_fte"] == "9.01"
    assert head(platform) == before + 2


def test_forwarding_more_money_than_granted_is_refused_with_the_figures_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    before = head(platform)
    # fits alone from January, but with Lernen fördern's 104,500 from 2021-09 it is 504,500
    response = client.post(
        CONTRACTS,
        json=forwarding(b2, fte="1.0", amount_per_year="400000", start="2021-01-01"),
        headers=ks,
    )
    body = assert_problem(response, 422, "forwarded-money-exceed-grant")
    assert (
        "forwarded 504500.00 EUR a year exceed granted 495000.00 EUR a year for Baustein 2"
        " in 2021 (from 2021-09-01)" in body["detail"]
    )
    assert body["facts"] == {
        "forwarded_per_year": "504500.00",
        "granted_per_year": "495000.00",
        "baustein": 2,
        "month": "2021-09",
        "day": "2021-09-01",
    }
    assert error_fields(body) == {"amount_per_year"}
    assert head(platform) == before


@pytest.mark.parametrize(
    ("start", "end"),
    [("2020-12-01", "2022-12-31"), ("2021-09-01", "2023-01-31"), ("2020-01-01", "2023-12-31")],
    ids=["starts-before", "ends-after", "both"],
)
def test_a_contract_period_outside_the_notice_period_is_refused_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str], start: str, end: str
) -> None:
    b2 = b2_id(client, ks)
    before = head(platform)
    response = client.post(CONTRACTS, json=forwarding(b2, start=start, end=end), headers=ks)
    body = assert_problem(response, 422, "contract-outside-notice-period")
    assert body["facts"] == {
        "notice_period": "2021-01-01 to 2022-12-31",
        "contract_period": f"{start} to {end}",
    }
    assert head(platform) == before


def test_a_contract_ending_before_it_starts_is_refused_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    before = head(platform)
    response = client.post(
        CONTRACTS,
        json=forwarding(b2_id(client, ks), start="2021-10-01", end="2021-09-30"),
        headers=ks,
    )
    assert_problem(response, 422, "period-ends-before-start")
    assert head(platform) == before


def test_a_position_type_the_notice_does_not_fund_is_refused_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    before = head(platform)
    response = client.post(
        CONTRACTS, json=forwarding(b2_id(client, ks), position_type="coordination"), headers=ks
    )
    body = assert_problem(response, 422, "position-type-not-in-baustein")
    assert error_fields(body) == {"position_type"}
    assert head(platform) == before


@pytest.mark.parametrize("recipient", ["aachen", "staedteregion-aachen", KS, "atlantis"])
def test_forwarding_to_a_tenant_that_is_no_member_town_is_refused_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str], recipient: str
) -> None:
    before = platform.store.heads()
    response = client.post(
        CONTRACTS, json=forwarding(b2_id(client, ks), recipient=recipient), headers=ks
    )
    body = assert_problem(response, 422, "recipient-not-a-member-town")
    assert recipient in body["detail"]
    assert error_fields(body) == {"recipient"}
    assert platform.store.heads() == before


def test_forwarding_to_an_unknown_provider_is_a_404_problem_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    missing = str(uuid.uuid4())
    before = head(platform)
    response = client.post(
        CONTRACTS,
        json=forwarding(b2_id(client, ks), recipient_kind="provider", recipient=missing),
        headers=ks,
    )
    body = assert_problem(response, 404, "not-found")
    assert missing in body["detail"]
    assert head(platform) == before


def test_forwarding_to_an_organisation_that_is_no_active_provider_is_refused(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    post = register_organisation(client, ks, name="KI Kreis Steinfurt", kind="coordination_post")
    closed = register_organisation(client, ks, name="Caritas", kind="welfare_provider")
    assert client.post(f"{ORGS}/{closed}/close", json={}, headers=ks).status_code == 200
    b2 = b2_id(client, ks)
    before = head(platform)
    for organisation in (post, closed):
        response = client.post(
            CONTRACTS,
            json=forwarding(b2, recipient_kind="provider", recipient=organisation),
            headers=ks,
        )
        body = assert_problem(response, 422, "recipient-not-a-provider")
        assert error_fields(body) == {"recipient"}
    assert head(platform) == before


def test_forwarding_to_an_active_provider_is_recorded_on_contract_and_notice(
    client: TestClient, ks: dict[str, str]
) -> None:
    caritas = register_organisation(client, ks, name="Caritas", kind="welfare_provider")
    b2 = b2_id(client, ks)
    response = client.post(
        CONTRACTS,
        json=forwarding(
            b2,
            recipient_kind="provider",
            recipient=caritas,
            fte="2.0",
            amount_rule="actual_cost_capped",
            amount_per_year="110000",
        ),
        headers=ks,
    )
    assert response.status_code == 201, response.text
    contract_id = response.json()["events"][1]["aggregate_id"]
    shown = contract(client, ks, contract_id)
    assert shown["notice_id"] == b2
    assert (shown["recipient_kind"], shown["recipient"]) == ("provider", caritas)
    assert (shown["fte"], shown["amount_per_year"]) == ("2.00", "110000.00")
    assert shown["amount_rule"] == "actual_cost_capped"
    reserved = {r["contract_id"]: r for r in notice(client, ks, b2)["forwarding"]}
    assert reserved[contract_id]["fte"] == "2.00"
    assert reserved[contract_id]["amount_per_year"] == "110000.00"


def test_a_contract_on_an_unknown_notice_is_a_404_problem_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    before = head(platform)
    response = client.post(CONTRACTS, json=forwarding(str(uuid.uuid4())), headers=ks)
    assert_problem(response, 404, "not-found")
    assert head(platform) == before


# -- amending notices --------------------------------------------------------------------------


def amendment(**changes: Any) -> Json:
    body: Json = {
        "reference": "KIM-B2-2021-05566-Ä1",
        "issued_on": "2021-11-15",
        "period_end": "2022-12-31",
        "grants": {"case_management": "10.0"},
        "reason": "Änderungsbescheid: 1,0 VZÄ Case Management zusätzlich",
    }
    body.update(changes)
    return body


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


# -- amending and terminating contracts --------------------------------------------------------


def test_amending_a_contract_is_checked_against_the_grant_without_its_own_share(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    contract_id = provider_contract_id(client, ks)
    url = f"{CONTRACTS}/{contract_id}/amend"
    change = {"end": "2022-12-31", "reason": "Aufstockung auf den ganzen Bescheid"}
    before = head(platform)

    response = client.post(url, json={**change, "fte": "9.01", "amount_per_year": "0"}, headers=ks)
    body = assert_problem(response, 422, "forwarded-fte-exceed-grant")
    assert body["facts"]["forwarded_fte"] == "9.01"
    assert head(platform) == before

    response = client.post(
        url,
        json={**change, "fte": "9.0", "amount_per_year": "495000", "expected_version": 1},
        headers=ks,
    )
    assert response.status_code == 200, response.text
    shown = contract(client, ks, contract_id)
    assert (shown["fte"], shown["amount_per_year"], shown["version"]) == ("9.00", "495000.00", 2)
    (reservation,) = notice(client, ks, b2_id(client, ks))["forwarding"]
    assert (reservation["fte"], reservation["amount_per_year"]) == ("9.00", "495000.00")


def test_terminating_a_contract_frees_its_share_from_the_day_after(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    contract_id = provider_contract_id(client, ks)
    whole_grant = forwarding(b2, fte="9.0", amount_per_year="495000", start="2022-01-01")
    refused = client.post(CONTRACTS, json=whole_grant, headers=ks)
    assert_problem(refused, 422, "forwarded-fte-exceed-grant")
    before = head(platform)

    response = client.post(
        f"{CONTRACTS}/{contract_id}/terminate",
        json={"end": "2021-12-31", "reason": "Kündigung zum Jahresende", "expected_version": 1},
        headers=ks,
    )
    assert response.status_code == 200, response.text
    assert [e["type"] for e in response.json()["events"]] == [
        "FundingNoticeForwardingReleased",
        "FundingNoticeForwardingReserved",
        "ForwardingContractTerminated",
    ]
    assert head(platform) == before + 3
    shown = contract(client, ks, contract_id)
    assert shown["terminated"] is True
    assert (shown["start"], shown["end"]) == ("2021-09-01", "2021-12-31")
    (reservation,) = notice(client, ks, b2)["forwarding"]
    assert (reservation["start"], reservation["end"]) == ("2021-09-01", "2021-12-31")

    accepted = client.post(CONTRACTS, json=whole_grant, headers=ks)
    assert accepted.status_code == 201, accepted.text
    # while the terminated contract ran, its share stays taken
    overlapping = forwarding(
        b2, fte="7.2", amount_per_year="0", start="2021-12-01", end="2021-12-31"
    )
    body = assert_problem(
        client.post(CONTRACTS, json=overlapping, headers=ks), 422, "forwarded-fte-exceed-grant"
    )
    assert body["facts"]["month"] == "2021-12"


def test_a_terminated_contract_cannot_be_terminated_or_amended_again(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    contract_id = provider_contract_id(client, ks)
    end = {"end": "2021-12-31", "reason": "Kündigung"}
    assert client.post(f"{CONTRACTS}/{contract_id}/terminate", json=end, headers=ks).is_success
    before = head(platform)

    response = client.post(f"{CONTRACTS}/{contract_id}/terminate", json=end, headers=ks)
    assert_problem(response, 422, "contract-terminated")
    response = client.post(
        f"{CONTRACTS}/{contract_id}/amend",
        json={**end, "fte": "1.0", "amount_per_year": "55000"},
        headers=ks,
    )
    assert_problem(response, 422, "contract-terminated")
    assert head(platform) == before


@pytest.mark.parametrize("end", ["2021-08-31", "2023-01-31"], ids=["before-start", "after-end"])
def test_a_termination_outside_the_contract_period_is_refused_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str], end: str
) -> None:
    contract_id = provider_contract_id(client, ks)
    before = head(platform)
    response = client.post(
        f"{CONTRACTS}/{contract_id}/terminate", json={"end": end, "reason": "x"}, headers=ks
    )
    body = assert_problem(response, 422, "termination-outside-contract")
    assert error_fields(body) == {"end"}
    assert head(platform) == before
    assert contract(client, ks, contract_id)["terminated"] is False


def test_terminating_with_a_stale_expected_version_is_a_409_problem(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    contract_id = provider_contract_id(client, ks)
    before = head(platform)
    response = client.post(
        f"{CONTRACTS}/{contract_id}/terminate",
        json={"end": "2021-12-31", "reason": "Kündigung", "expected_version": 2},
        headers=ks,
    )
    body = assert_problem(response, 409, "stale-version")
    assert body["facts"] == {"expected_version": 2, "actual_version": 1}
    assert head(platform) == before


# -- access ------------------------------------------------------------------------------------


def test_a_member_towns_coordinator_may_not_issue_notices_for_the_district(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    before = platform.store.heads()
    response = client.post(NOTICES, json=NEW_B2_NOTICE, headers=auth("rheine", "coordinator"))
    assert_problem(response, 403, "tenant-not-allowed")
    assert platform.store.heads() == before


def test_the_district_coordinator_reads_a_member_towns_notices(
    client: TestClient, ks: dict[str, str]
) -> None:
    response = client.get("/coordination/tenants/rheine/notices", headers=ks)
    assert response.status_code == 200, response.text
    (b3,) = response.json()
    assert b3["reference"] == "KIM-B3-2020-05566076"
    assert b3["granted_fte"] == "1.50"


def test_the_district_coordinator_may_not_write_a_member_towns_notices_or_contracts(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    rheine_b3 = notices(client, ks, "rheine")[3]["id"]
    before = platform.store.heads()
    rheine = "/coordination/tenants/rheine"
    response = client.post(f"{rheine}/notices", json=NEW_B2_NOTICE, headers=ks)
    assert_problem(response, 403, "tenant-not-allowed")
    response = client.post(f"{rheine}/notices/{rheine_b3}/amend", json=amendment(), headers=ks)
    assert_problem(response, 403, "tenant-not-allowed")
    response = client.post(f"{rheine}/contracts", json=forwarding(rheine_b3), headers=ks)
    assert_problem(response, 403, "tenant-not-allowed")
    assert platform.store.heads() == before


def test_a_case_manager_reads_but_may_not_issue_notices(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth(KS, "case_manager")
    assert client.get(NOTICES, headers=headers).status_code == 200
    before = platform.store.heads()
    body = assert_problem(
        client.post(NOTICES, json=NEW_B2_NOTICE, headers=headers), 403, "role-not-allowed"
    )
    assert "district_coordinator" in body["roles"]
    assert platform.store.heads() == before


def test_a_member_town_may_not_read_its_districts_notices(client: TestClient, auth: Auth) -> None:
    response = client.get(NOTICES, headers=auth("rheine", "coordinator"))
    assert_problem(response, 403, "tenant-not-allowed")


def test_another_districts_coordinator_may_not_read_the_notices(
    client: TestClient, auth: Auth
) -> None:
    response = client.get(NOTICES, headers=auth("aachen", "district_coordinator"))
    assert_problem(response, 403, "tenant-not-allowed")


def test_notices_need_a_token(client: TestClient, platform: Platform) -> None:
    assert_problem(client.get(NOTICES), 401, "unauthenticated")
    before = platform.store.heads()
    assert_problem(client.post(NOTICES, json=NEW_B2_NOTICE), 401, "unauthenticated")
    assert platform.store.heads() == before


# -- idempotency -------------------------------------------------------------------------------


def test_a_retried_contract_with_the_same_idempotency_key_is_concluded_once(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    headers = {**ks, "Idempotency-Key": "weiterleitung-rheine-2021-09"}
    body = forwarding(b2)
    before = head(platform)

    first = client.post(CONTRACTS, json=body, headers=headers)
    second = client.post(CONTRACTS, json=body, headers=headers)

    assert first.status_code == second.status_code == 201, first.text
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert head(platform) == before + 2
    assert sorted(r["fte"] for r in notice(client, ks, b2)["forwarding"]) == ["1.00", "1.90"]

    reused = client.post(CONTRACTS, json=forwarding(b2, fte="2.0"), headers=headers)
    assert_problem(reused, 422, "idempotency-key-reused")
    assert head(platform) == before + 2


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"grants": {"case_management": "-1.0"}}, {"grants.case_management"}),
        ({"grants": {"case_management": "0"}}, {"grants.case_management"}),
        ({"grants": {"janitor": "1.0"}}, {"grants.janitor.[key]"}),
        ({"grants": {}}, {"grants"}),
        ({"baustein": 4}, {"baustein"}),
        ({"material_costs_per_year": "-5"}, {"material_costs_per_year"}),
        ({"period_start": "01.01.2022"}, {"period_start"}),
        ({"reference": "  "}, {"reference"}),
        ({"colour": "blue"}, {"colour"}),
    ],
    ids=[
        "negative-fte",
        "zero-fte",
        "unknown-position-type",
        "no-grants",
        "baustein-4",
        "negative-material-costs",
        "german-date",
        "blank-reference",
        "unknown-field",
    ],
)
def test_an_invalid_notice_is_a_422_problem_naming_the_fields_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str], changes: Json, fields: set[str]
) -> None:
    before = platform.store.heads()
    response = client.post(NOTICES, json={**NEW_B2_NOTICE, **changes}, headers=ks)
    body = assert_problem(response, 422, "validation-failed")
    assert error_fields(body) == fields
    assert platform.store.heads() == before


def test_a_notice_ending_before_it_starts_is_refused_naming_period_end(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    before = platform.store.heads()
    body = {**NEW_B2_NOTICE, "period_start": "2022-01-01", "period_end": "2021-12-31"}
    problem = assert_problem(
        client.post(NOTICES, json=body, headers=ks), 422, "period-ends-before-start"
    )
    assert error_fields(problem) == {"period_end"}
    assert platform.store.heads() == before


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"fte": "-1.0"}, {"fte"}),
        ({"fte": "1.234"}, {"fte"}),
        ({"amount_per_year": "-1"}, {"amount_per_year"}),
        ({"position_type": "janitor"}, {"position_type"}),
        ({"recipient_kind": "bank"}, {"recipient_kind"}),
        ({"amount_rule": "whatever"}, {"amount_rule"}),
        ({"notice_id": "B2"}, {"notice_id"}),
        ({"end": None}, {"end"}),
    ],
    ids=[
        "negative-fte",
        "fte-beyond-cents",
        "negative-amount",
        "unknown-position-type",
        "unknown-recipient-kind",
        "unknown-amount-rule",
        "malformed-notice-id",
        "missing-end",
    ],
)
def test_an_invalid_contract_is_a_422_problem_naming_the_fields_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str], changes: Json, fields: set[str]
) -> None:
    body = {**forwarding(b2_id(client, ks)), **changes}
    body = {k: v for k, v in body.items() if v is not None}
    before = platform.store.heads()
    problem = assert_problem(
        client.post(CONTRACTS, json=body, headers=ks), 422, "validation-failed"
    )
    assert error_fields(problem) == fields
    assert platform.store.heads() == before


def test_an_amendment_without_a_reason_is_a_422_problem_and_appends_nothing(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    b2 = b2_id(client, ks)
    before = platform.store.heads()
    body = {k: v for k, v in amendment().items() if k != "reason"}
    problem = assert_problem(
        client.post(f"{NOTICES}/{b2}/amend", json=body, headers=ks), 422, "validation-failed"
    )
    assert error_fields(problem) == {"reason"}
    assert platform.store.heads() == before

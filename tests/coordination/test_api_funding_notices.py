"""REST API of funding notices (Förderbescheide) and their amendments; refusals append nothing."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.funding_support import (
    CONTRACTS,
    KS,
    NEW_B2_NOTICE,
    NOTICES,
    ORGS,
    Json,
    amendment,
    b2_id,
    contract,
    error_fields,
    forwarding,
    head,
    notice,
    provider_contract_id,
)
from tests.support import Auth, assert_problem


@pytest.fixture
def ks(auth: Auth) -> dict[str, str]:
    """Headers of Kreis Steinfurt's district coordinator."""
    return auth(KS, "district_coordinator")


def test_an_unknown_notice_is_a_404_problem(client: TestClient, ks: dict[str, str]) -> None:
    missing = str(uuid.uuid4())
    body = assert_problem(client.get(f"{NOTICES}/{missing}", headers=ks), 404, "not-found")
    assert missing in body["detail"]


def test_issuing_a_notice_records_it_at_its_own_rate_and_lists_it(
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
        "versions": [
            {
                "effective_from": "2022-01-01",
                "reference": "KIM-B2-2022-05566-N",
                "issued_on": "2021-12-10",
                "grants": {"case_management": {"fte": "2.00", "rate": "55000.00"}},
                "material_costs_per_year": "0.00",
            }
        ],
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
        "rates": {"coordination": "60000", "assistance": "45000"},
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
        ({"rates": {"case_management": "0"}}, "rate-not-positive", {"rates.case_management"}),
        (
            {"rates": {"case_management": "55000", "assistance": "45000"}},
            "rate-without-grant",
            {"rates.assistance"},
        ),
    ],
    ids=[
        "position-type-of-another-baustein",
        "period-ends-before-start",
        "rate-not-positive",
        "rate-without-grant",
    ],
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

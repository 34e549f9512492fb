"""REST API of forwarding contracts (Weiterleitungsverträge) and access to funding data."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.funding_support import (
    CONTRACTS,
    KS,
    ORGS,
    Json,
    b2_id,
    contract,
    error_fields,
    forwarding,
    head,
    notice,
    provider_contract_id,
    register_organisation,
)
from tests.support import Auth, assert_problem


@pytest.fixture
def ks(auth: Auth) -> dict[str, str]:
    """Headers of Kreis Steinfurt's district coordinator."""
    return auth(KS, "district_coordinator")


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

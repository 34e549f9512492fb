"""Changing registered tenants: renames and which region holds whose offices."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.support import assert_problem
from tests.tenancy_support import TENANTS, listed, registry_head


def test_a_platform_admin_renames_a_tenant(
    client: TestClient, platform: Platform, admin: dict[str, str]
) -> None:
    before = registry_head(platform)
    response = client.post(
        f"{TENANTS}/rheine/rename", json={"name": "Stadt Rheine an der Ems"}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert [e["type"] for e in response.json()["events"]] == ["TenantRenamed"]
    assert registry_head(platform) == before + 1
    shown = listed(client, admin)["rheine"]
    assert shown["name"] == "Stadt Rheine an der Ems"
    assert shown["parent"] == "kreis-steinfurt"


def test_renaming_with_a_stale_version_is_a_409_problem_and_appends_nothing(
    client: TestClient, platform: Platform, admin: dict[str, str]
) -> None:
    before = platform.store.heads()
    response = client.post(
        f"{TENANTS}/rheine/rename", json={"name": "Rheine", "expected_version": 7}, headers=admin
    )
    problem = assert_problem(response, 409, "stale-version")
    assert problem["facts"] == {"expected_version": 7, "actual_version": 1}
    assert platform.store.heads() == before

    response = client.post(
        f"{TENANTS}/rheine/rename", json={"name": "Rheine", "expected_version": 1}, headers=admin
    )
    assert response.status_code == 200, response.text


def test_renaming_an_unknown_tenant_is_a_404_problem_and_appends_nothing(
    client: TestClient, platform: Platform, admin: dict[str, str]
) -> None:
    before = platform.store.heads()
    response = client.post(f"{TENANTS}/atlantis/rename", json={"name": "Atlantis"}, headers=admin)
    assert_problem(response, 404, "unknown-tenant")
    assert platform.store.heads() == before


def test_a_district_can_be_recorded_as_holding_offices_of_its_member_town(
    client: TestClient, platform: Platform, admin: dict[str, str]
) -> None:
    before = registry_head(platform)
    response = client.post(
        f"{TENANTS}/rheine/offices",
        json={"holder": "kreis-steinfurt", "offices": ["youth_office", "job_centre"]},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert [e["type"] for e in response.json()["events"]] == ["TenantOfficesAssigned"]
    assert registry_head(platform) == before + 1
    shown = listed(client, admin)["rheine"]
    assert shown["offices_held_by"] == {
        "youth_office": "kreis-steinfurt",
        "job_centre": "kreis-steinfurt",
    }


@pytest.mark.parametrize(
    ("tenant", "body", "rule", "field"),
    [
        pytest.param(
            "rheine",
            {"holder": "kreis-atlantis", "offices": ["job_centre"]},
            "unknown-holder",
            "holder",
            id="unknown-holder",
        ),
        pytest.param(
            "rheine",
            {"holder": "aachen", "offices": ["job_centre"]},
            "holder-kind-not-allowed",
            "holder",
            id="city-as-holder",
        ),
        pytest.param(
            "kreis-steinfurt",
            {"holder": "staedteregion-aachen", "offices": ["job_centre"]},
            "held-kind-not-allowed",
            "key",
            id="district-offices-held",
        ),
    ],
)
def test_an_impossible_office_holding_is_refused(
    client: TestClient,
    platform: Platform,
    admin: dict[str, str],
    tenant: str,
    body: dict[str, Any],
    rule: str,
    field: str,
) -> None:
    before = platform.store.heads()
    response = client.post(f"{TENANTS}/{tenant}/offices", json=body, headers=admin)
    problem = assert_problem(response, 422, rule)
    assert [e["field"] for e in problem["errors"]] == [field]
    assert platform.store.heads() == before


@pytest.mark.parametrize(
    "offices",
    [pytest.param([], id="none"), pytest.param(["tax_office"], id="unknown-office")],
)
def test_an_invalid_office_list_is_a_422_problem(
    client: TestClient, platform: Platform, admin: dict[str, str], offices: list[str]
) -> None:
    before = platform.store.heads()
    response = client.post(
        f"{TENANTS}/rheine/offices",
        json={"holder": "kreis-steinfurt", "offices": offices},
        headers=admin,
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert all(e["field"].startswith("offices") for e in problem["errors"])
    assert platform.store.heads() == before


def test_a_renamed_tenant_reads_with_its_new_name_at_once(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/tenancy/tenants/rheine/rename", json={"name": "Stadt Rheine (Ems)"}, headers=admin
    )
    assert response.status_code == 200, response.text
    got = client.get("/tenancy/tenants/rheine", headers=admin)
    assert got.json()["name"] == "Stadt Rheine (Ems)"


def test_an_empty_parent_is_a_422_problem_and_appends_nothing(
    client: TestClient, admin: dict[str, str], platform: Platform
) -> None:
    before = registry_head(platform)
    response = client.post(
        "/tenancy/tenants",
        json={"key": "bayern", "name": "Bayern", "kind": "state_programme", "parent": ""},
        headers=admin,
    )
    body = assert_problem(response, 422, "validation-failed")
    assert {e["field"] for e in body["errors"]} == {"parent"}
    assert registry_head(platform) == before

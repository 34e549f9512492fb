"""The tenant registry over HTTP: registering, renaming, office holdings, reading."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.support import Auth, assert_problem
from tests.tenancy_support import DEMO_KEYS, EMSDETTEN, TENANTS, registry_head


def test_a_platform_admin_registers_a_member_town_under_a_district(
    client: TestClient, platform: Platform, admin: dict[str, str]
) -> None:
    before = registry_head(platform)

    response = client.post(TENANTS, json=EMSDETTEN, headers=admin)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["tenant"] == "_platform"
    assert body["context"] == "tenancy"
    assert body["position"] == before + 1
    assert response.headers["KIM-Position"] == str(before + 1)
    assert [e["type"] for e in body["events"]] == ["TenantRegistered"]
    assert registry_head(platform) == before + 1

    shown = client.get(f"{TENANTS}/greven", headers=admin)
    assert shown.status_code == 200
    assert shown.json() == {
        "key": "greven",
        "name": "Stadt Greven",
        "kind": "member_town",
        "parent": "kreis-steinfurt",
        "ags": "05566012",
        "offices_held_by": {},
        "children": [],
    }
    district = client.get(f"{TENANTS}/kreis-steinfurt", headers=admin).json()
    assert district["children"] == ["emsdetten", "greven", "rheine"]


def test_a_newly_registered_tenant_can_be_worked_in_at_once(
    client: TestClient, platform: Platform, admin: dict[str, str], auth: Auth
) -> None:
    assert client.post(TENANTS, json=EMSDETTEN, headers=admin).status_code == 201

    url = "/coordination/tenants/greven/organisations"
    created = client.post(
        url,
        json={"name": "Caritas Greven", "kind": "welfare_provider"},
        headers=auth("greven", "coordinator"),
    )
    assert created.status_code == 201, created.text
    assert platform.store.head("greven", "coordination") == 1
    org = created.json()["events"][0]["aggregate_id"]
    # The district reads down into its new member town.
    read = client.get(f"{url}/{org}", headers=auth("kreis-steinfurt", "district_coordinator"))
    assert read.status_code == 200, read.text


def test_registering_a_key_twice_is_a_409_problem_and_appends_nothing(
    client: TestClient, platform: Platform, admin: dict[str, str]
) -> None:
    before = platform.store.heads()
    body = {**EMSDETTEN, "key": "rheine", "ags": "05566076"}
    response = client.post(TENANTS, json=body, headers=admin)
    problem = assert_problem(response, 409, "tenant-exists")
    assert problem["facts"] == {"key": "rheine"}
    assert platform.store.heads() == before
    assert client.get(f"{TENANTS}/rheine", headers=admin).json()["name"] == "Stadt Rheine"


def test_a_member_town_under_a_district_free_city_is_refused(
    client: TestClient, platform: Platform, admin: dict[str, str]
) -> None:
    before = platform.store.heads()
    body = {**EMSDETTEN, "parent": "aachen", "ags": "05334002"}
    problem = assert_problem(
        client.post(TENANTS, json=body, headers=admin), 422, "parent-kind-not-allowed"
    )
    assert [e["field"] for e in problem["errors"]] == ["parent"]
    assert platform.store.heads() == before
    assert_problem(client.get(f"{TENANTS}/greven", headers=admin), 404, "unknown-tenant")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            {"key": "nrw-2", "name": "Zweites Land", "kind": "state_programme", "parent": "nrw"},
            id="state-programme-with-parent",
        ),
        pytest.param(
            {"key": "kreis-borken", "name": "Kreis Borken", "kind": "district"},
            id="district-without-parent",
        ),
        pytest.param(
            {"key": "ochtrup", "name": "Ochtrup", "kind": "member_town", "parent": "rheine"},
            id="member-town-under-member-town",
        ),
        pytest.param(
            {
                "key": "muenster",
                "name": "Münster",
                "kind": "district_free_city",
                "parent": "kreis-steinfurt",
            },
            id="city-under-district",
        ),
    ],
)
def test_a_tenant_in_the_wrong_place_of_the_hierarchy_is_refused(
    client: TestClient, platform: Platform, admin: dict[str, str], body: dict[str, str]
) -> None:
    before = platform.store.heads()
    problem = assert_problem(
        client.post(TENANTS, json=body, headers=admin), 422, "parent-kind-not-allowed"
    )
    assert [e["field"] for e in problem["errors"]] == ["parent"]
    assert platform.store.heads() == before


def test_an_unknown_parent_is_refused(
    client: TestClient, platform: Platform, admin: dict[str, str]
) -> None:
    before = platform.store.heads()
    body = {**EMSDETTEN, "parent": "kreis-atlantis"}
    problem = assert_problem(client.post(TENANTS, json=body, headers=admin), 422, "unknown-parent")
    assert [e["field"] for e in problem["errors"]] == ["parent"]
    assert "kreis-atlantis" in problem["detail"]
    assert platform.store.heads() == before


def test_an_ags_outside_the_parents_ags_is_refused(
    client: TestClient, platform: Platform, admin: dict[str, str]
) -> None:
    before = platform.store.heads()
    body = {**EMSDETTEN, "ags": "05334012"}
    problem = assert_problem(
        client.post(TENANTS, json=body, headers=admin), 422, "ags-outside-parent"
    )
    assert [e["field"] for e in problem["errors"]] == ["ags"]
    assert platform.store.heads() == before


def test_an_ags_of_an_impossible_length_is_refused(
    client: TestClient, platform: Platform, admin: dict[str, str]
) -> None:
    before = platform.store.heads()
    body = {**EMSDETTEN, "ags": "0556601"}
    problem = assert_problem(client.post(TENANTS, json=body, headers=admin), 422, "invalid-ags")
    assert [e["field"] for e in problem["errors"]] == ["ags"]
    assert platform.store.heads() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"key": "Greven"}, "key", id="upper-case-key"),
        pytest.param({"key": "e"}, "key", id="one-letter-key"),
        pytest.param({"kind": "village"}, "kind", id="unknown-kind"),
        pytest.param({"ags": "DE-05"}, "ags", id="non-digit-ags"),
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"founded": 1250}, "founded", id="unknown-field"),
    ],
)
def test_an_invalid_registration_is_a_422_problem_naming_the_field(
    client: TestClient,
    platform: Platform,
    admin: dict[str, str],
    change: dict[str, Any],
    field: str,
) -> None:
    before = platform.store.heads()
    response = client.post(TENANTS, json={**EMSDETTEN, **change}, headers=admin)
    problem = assert_problem(response, 422, "validation-failed")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert platform.store.heads() == before


def test_the_registry_lists_the_demo_tenants(client: TestClient, auth: Auth) -> None:
    response = client.get(TENANTS, headers=auth("rheine", "case_manager"))
    assert response.status_code == 200
    tenants = {t["key"]: t for t in response.json()}
    assert set(tenants) == DEMO_KEYS
    assert tenants["nrw"]["parent"] is None
    assert tenants["nrw"]["kind"] == "state_programme"
    assert tenants["nrw"]["children"] == ["aachen", "kreis-steinfurt", "staedteregion-aachen"]
    assert tenants["kreis-steinfurt"]["kind"] == "district"
    assert tenants["kreis-steinfurt"]["children"] == ["emsdetten", "rheine"]
    assert tenants["rheine"]["parent"] == "kreis-steinfurt"
    assert tenants["rheine"]["kind"] == "member_town"
    assert tenants["rheine"]["ags"] == "05566076"
    assert tenants["staedteregion-aachen"]["kind"] == "region"
    assert tenants["aachen"]["kind"] == "district_free_city"


def test_aachens_offices_are_held_by_the_staedteregion(client: TestClient, auth: Auth) -> None:
    response = client.get(f"{TENANTS}/aachen", headers=auth("aachen", "coordinator"))
    assert response.status_code == 200
    aachen = response.json()
    assert aachen["name"] == "Stadt Aachen"
    assert aachen["parent"] == "nrw"
    assert aachen["offices_held_by"] == {
        "immigration_office": "staedteregion-aachen",
        "job_centre": "staedteregion-aachen",
        "health_office": "staedteregion-aachen",
    }


def test_an_unknown_tenant_is_a_404_problem(client: TestClient, auth: Auth) -> None:
    response = client.get(f"{TENANTS}/atlantis", headers=auth("rheine", "coordinator"))
    problem = assert_problem(response, 404, "unknown-tenant")
    assert problem["tenant"] == "atlantis"


def test_a_malformed_tenant_key_in_the_path_is_a_422_problem(
    client: TestClient, auth: Auth
) -> None:
    response = client.get(f"{TENANTS}/Not_A_Key", headers=auth("rheine", "coordinator"))
    problem = assert_problem(response, 422, "validation-failed")
    assert [e["field"] for e in problem["errors"]] == ["key"]

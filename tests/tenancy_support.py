"""Helpers of the tenant-registry API tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from runtime.platform import Platform

TENANTS = "/tenancy/tenants"
DEMO_KEYS = {"nrw", "kreis-steinfurt", "rheine", "emsdetten", "staedteregion-aachen", "aachen"}
EMSDETTEN = {
    "key": "greven",
    "name": "Stadt Greven",
    "kind": "member_town",
    "parent": "kreis-steinfurt",
    "ags": "05566012",
}


def registry_head(platform: Platform) -> int:
    return platform.store.head("_platform", "tenancy")


def listed(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The registry as GET /tenancy/tenants lists it."""
    response = client.get(TENANTS, headers=headers)
    assert response.status_code == 200
    return {t["key"]: t for t in response.json()}

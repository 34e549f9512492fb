"""Helpers of the funding API tests, on the demo of Kreis Steinfurt.

Demo facts the tests build on: Kreis Steinfurt holds notices for Baustein 1 (3.5 coordination
+ 0.5 assistance FTE), 2 (9.0 case management) and 3 (2.5 immigration office), all from
2021-01-01 to 2022-12-31; it forwards 1.0 coordination FTE (50,000 EUR a year) to Rheine from
2021-05-01 and 1.9 case-management FTE (104,500 EUR a year) to "Lernen fördern e.V." from
2021-09-01. Every refused command appends nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from runtime.platform import Platform

KS = "kreis-steinfurt"
BASE = f"/coordination/tenants/{KS}"
NOTICES = f"{BASE}/notices"
CONTRACTS = f"{BASE}/contracts"
ORGS = f"{BASE}/organisations"
Json = dict[str, Any]

NEW_B2_NOTICE: Json = {
    "grantor": "Bezirksregierung Arnsberg",
    "reference": "KIM-B2-2022-05566-N",
    "baustein": 2,
    "period_start": "2022-01-01",
    "period_end": "2022-12-31",
    "grants": {"case_management": "2.0"},
    "rates": {"case_management": "55000"},
    "issued_on": "2021-12-10",
}


def error_fields(body: Json) -> set[str]:
    return {e["field"] for e in body["errors"]}


def head(platform: Platform, tenant: str = KS) -> int:
    return platform.store.head(tenant, "coordination")


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


def amendment(**changes: Any) -> Json:
    body: Json = {
        "reference": "KIM-B2-2021-05566-Ä1",
        "issued_on": "2021-11-15",
        "period_end": "2022-12-31",
        "effective_from": "2021-01-01",
        "grants": {"case_management": "10.0"},
        "rates": {"case_management": "55000"},
        "reason": "Änderungsbescheid: 1,0 VZÄ Case Management zusätzlich",
    }
    body.update(changes)
    return body

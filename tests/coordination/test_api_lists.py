"""Coordination's REST lists: pages of the read model, each entry as the write model has it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.case_support import ok
from tests.support import Auth

KS = "/coordination/tenants/kreis-steinfurt"


def test_positions_and_notices_come_a_page_at_a_time(client: TestClient, auth: Auth) -> None:
    ks = auth("kreis-steinfurt", "district_coordinator")
    for path in ("positions", "notices"):
        everything = ok(client.get(f"{KS}/{path}?limit=200", headers=ks))
        assert len(everything) >= 2, path
        seen: list[str] = []
        url: str | None = f"{KS}/{path}?limit=1"
        while url is not None:
            response = client.get(url, headers=ks)
            page = ok(response)
            assert len(page) <= 1
            seen += [entry["id"] for entry in page]
            link = response.headers.get("link")
            url = link[1 : link.index(">")] if link else None
        assert seen == sorted(e["id"] for e in everything)  # each once, in id order


def test_a_new_notice_is_listed_right_after_its_command(client: TestClient, auth: Auth) -> None:
    rheine = auth("rheine", "coordinator")
    notices = "/coordination/tenants/rheine/notices"
    before = {n["id"] for n in ok(client.get(notices, headers=rheine))}
    body = {
        "grantor": "Bezirksregierung Arnsberg",
        "reference": "KIM-B1-2023-05566076",
        "baustein": 1,
        "period_start": "2023-01-01",
        "period_end": "2023-12-31",
        "issued_on": "2022-12-01",
        "grants": {"coordination": "1.0"},
        "rates": {"coordination": "58000"},
    }
    created = client.post(notices, json=body, headers=rheine)
    assert created.status_code == 201, created.text
    after = {n["id"] for n in ok(client.get(notices, headers=rheine))}
    assert after - before == {created.json()["events"][0]["aggregate_id"]}

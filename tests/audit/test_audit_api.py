"""Auditors: read-only statements within the mandate, every query recorded; the audit export
reproduces every figure of the Verwendungsnachweis in a fresh store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contexts.audit.application import AuditApplication
from contexts.coordination.application import CoordinationApplication
from kim.cli import main
from runtime.eventstore.sqlite import SqliteEventLogStore
from runtime.platform import Platform
from runtime.settings import Settings, get_settings
from services.audit.report import build
from tests.support import Auth, assert_problem

STATEMENT = "/audit/tenants/{tenant}/statements/{notice}"
B1 = "KIM-B1-2021-05566"


def test_an_auditor_reads_the_statement_and_the_query_is_recorded(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    url = STATEMENT.format(tenant="kreis-steinfurt", notice=B1)
    headers = auth("kreis-steinfurt", "auditor")
    response = client.get(url, params={"year": 2021}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    totals = {t["label"]: t["value"] for t in body["totals"]}
    assert (totals["granted"], totals["used"], totals["unused"]) == (
        "215000.00",
        "180533.33",
        "34466.67",
    )
    assert all(t["events"] for t in body["totals"] if t["label"] in ("granted", "forwarded"))
    csv = client.get(url, params={"year": 2021, "format": "csv"}, headers=headers)
    assert csv.headers["content-type"].startswith("text/csv")
    assert "Summe;Nicht verwendet;34.466,67;" in csv.text
    pdf = client.get(url, params={"year": 2021, "format": "pdf"}, headers=headers)
    assert (pdf.headers["content-type"], pdf.content[:4]) == ("application/pdf", b"%PDF")
    # The tenant's coordination post sees who looked at what, when.
    trail = client.get(
        "/audit/tenants/kreis-steinfurt/queries",
        headers=auth("kreis-steinfurt", "district_coordinator"),
    )
    assert trail.status_code == 200, trail.text
    seen = [(q["auditor"], q["view"], q["parameters"]["format"]) for q in trail.json()]
    assert seen == [
        ("kreis-steinfurt/dev-auditor", "statement", "json"),
        ("kreis-steinfurt/dev-auditor", "statement", "csv"),
        ("kreis-steinfurt/dev-auditor", "statement", "pdf"),
    ]
    assert platform.store.head("kreis-steinfurt", "audit") == 3
    # A page at a time: the next page after the second query holds the third.
    first = client.get(
        "/audit/tenants/kreis-steinfurt/queries?limit=2",
        headers=auth("kreis-steinfurt", "district_coordinator"),
    )
    assert [q["parameters"]["format"] for q in first.json()] == ["json", "csv"]
    link = first.headers["link"]
    rest = client.get(
        link[1 : link.index(">")], headers=auth("kreis-steinfurt", "district_coordinator")
    )
    assert [q["parameters"]["format"] for q in rest.json()] == ["pdf"]
    assert "link" not in rest.headers


def test_the_mandate_decides_which_tenants_an_auditor_reaches(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    # The Bezirksregierung's auditor with a mandate for Rheine only.
    headers = auth("nrw", "auditor", mandate=["rheine"])
    before = platform.store.heads()
    refused = client.get(
        STATEMENT.format(tenant="kreis-steinfurt", notice=B1),
        params={"year": 2021},
        headers=headers,
    )
    assert_problem(refused, 403, "outside-mandate")
    assert platform.store.heads() == before  # a refused query records nothing
    allowed = client.get(
        STATEMENT.format(tenant="rheine", notice="KIM-B3-2020-05566076"),
        params={"year": 2021},
        headers=headers,
    )
    assert allowed.status_code == 200, allowed.text
    assert {t["label"]: t["value"] for t in allowed.json()["totals"]}["granted"] == "82500.00"
    # Without a mandate a town's auditor does not reach its district.
    assert_problem(
        client.get(
            STATEMENT.format(tenant="kreis-steinfurt", notice=B1),
            params={"year": 2021},
            headers=auth("rheine", "auditor"),
        ),
        403,
        "outside-mandate",
    )
    # Other roles do not read statements; an unknown notice is named.
    assert_problem(
        client.get(
            STATEMENT.format(tenant="kreis-steinfurt", notice=B1),
            params={"year": 2021},
            headers=auth("kreis-steinfurt", "district_coordinator"),
        ),
        403,
        "role-not-allowed",
    )
    missing = client.get(
        STATEMENT.format(tenant="kreis-steinfurt", notice="KIM-B9"),
        params={"year": 2021},
        headers=auth("kreis-steinfurt", "auditor"),
    )
    assert_problem(missing, 422, "unknown-notice")


def test_graphql_queries_of_auditors_are_recorded_too(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("kreis-steinfurt", "auditor")
    response = client.post(
        "/graphql",
        json={"query": '{ caseFigures(tenant: "rheine") { openCases } }'},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()
    ((_, query),) = platform.app(AuditApplication, "rheine").queries()
    assert (query.auditor, query.view) == ("kreis-steinfurt/dev-auditor", "graphql")
    assert query.parameters == {
        "fields": [
            {
                "field": "caseFigures",
                "tenant": "rheine",
                "includeMembers": False,
                "atPosition": None,
            }
        ]
    }


def test_chain_verification_for_an_auditor(client: TestClient, auth: Auth) -> None:
    response = client.get(
        "/audit/tenants/kreis-steinfurt/verification", headers=auth("kreis-steinfurt", "auditor")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intact"] is True
    assert body["events"] > 40


def test_the_audit_export_reproduces_the_statement_in_a_fresh_store(
    platform: Platform, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original, _ = build(
        platform.store, platform.app(CoordinationApplication, "kreis-steinfurt"), B1, 2021
    )
    out = tmp_path / "ks.jsonl"
    monkeypatch.setenv("KIM_EVENT_STORE", settings.event_store)
    monkeypatch.setenv("KIM_PG_SCHEMA", settings.pg_schema)
    get_settings.cache_clear()
    try:
        assert main(["audit", "export", "--tenant", "kreis-steinfurt", "--out", str(out)]) == 0
        manifest = json.loads((tmp_path / "ks.jsonl.manifest.json").read_text())
        assert manifest["logs"]["coordination"]["head_hash"]
        fresh = tmp_path / "fresh"
        monkeypatch.setenv("KIM_EVENT_STORE", f"sqlite:///{fresh}")
        get_settings.cache_clear()
        assert main(["import", str(out)]) == 0
        report = tmp_path / "b1.csv"
        args = ["audit", "report", "--tenant", "kreis-steinfurt", "--notice", B1]
        assert main([*args, "--year", "2021", "--out", str(report)]) == 0
        assert "Summe;Verwendet insgesamt;180.533,33;" in report.read_text(encoding="utf-8")
    finally:
        get_settings.cache_clear()
    target = SqliteEventLogStore(fresh)
    try:
        again, _ = build(
            target, CoordinationApplication("kreis-steinfurt", target.recorder), B1, 2021
        )
    finally:
        target.close()
    assert again == original  # every figure and every event id behind it
    # A tampered export no longer matches its manifest.
    lines = out.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[3])
    record["actor"] = "mallory"
    lines[3] = json.dumps(record, ensure_ascii=False, sort_keys=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("KIM_EVENT_STORE", f"sqlite:///{tmp_path / 'second'}")
    get_settings.cache_clear()
    try:
        assert main(["import", str(out)]) == 1
    finally:
        get_settings.cache_clear()

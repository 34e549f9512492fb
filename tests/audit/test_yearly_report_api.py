"""The yearly report over REST and the CLI: the same report as of a past day reproduces to
the byte after later events (Markdown and PDF), who may read it (403 otherwise, nothing
recorded), ``kim report yearly`` with its progress on stderr.

The scenario's events are recorded today, so "a past day" is today seen from tomorrow (as
in the statement's tests): the yearly report's ``current_day`` is moved on by a day, and
the later events are stamped the next day (SQLite's clock; PostgreSQL stamps its own).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.gaps import LifeDimension
from kim.cli import main
from runtime.platform import Platform
from runtime.settings import Settings, get_settings
from tests.access_rules import ROLES, TENANTS, covers
from tests.audit.pdf_text import text
from tests.audit.yearly_scenario import TOWN, YEAR, write_year
from tests.steering.support import RHEINE_POST
from tests.support import Auth

URL = "/audit/tenants/{tenant}/yearly-report/{year}"
EMBEDDED = pytest.mark.parametrize("stack", ["embedded"], indirect=True)


def get(client: TestClient, headers: dict[str, str], tenant: str = TOWN, **params: object) -> bytes:
    response = client.get(URL.format(tenant=tenant, year=YEAR), params=params, headers=headers)
    assert response.status_code == 200, response.text
    return bytes(response.content)


@EMBEDDED
def test_the_report_as_of_a_past_day_gives_the_same_bytes_after_later_events(
    client: TestClient, platform: Platform, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_year(platform)
    today = datetime.now(UTC).date()
    monkeypatch.setattr("services.audit.head.current_day", lambda: today + timedelta(days=1))
    coordinator = auth(TOWN, "coordinator")
    stand = {"as_of": today.isoformat()}
    before = {f: get(client, coordinator, format=f, **stand) for f in ("md", "pdf")}
    later = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    monkeypatch.setattr(
        "runtime.eventstore.sqlite.utcnow", lambda: later.isoformat(timespec="microseconds")
    )
    # The next day: a gap of the report's year is recorded, the town renamed.
    platform.app(CoordinationApplication, TOWN).record_gap(
        life_dimension=LifeDimension("health"), description="Keine Dolmetscher",
        reported_on=date(YEAR, 11, 3),
    )  # fmt: skip
    platform.tenancy.rename_tenant(TOWN, "Stadt Rheine (Integrationsrat)")
    after = {f: get(client, coordinator, format=f, **stand) for f in ("md", "pdf")}
    assert after == before
    md = before["md"].decode("utf-8")
    assert "VORLÄUFIG" not in md
    assert f"{today:%d.%m.%Y}, Ende des Tages (UTC)" in md
    assert "Gesundheit" not in md.split("## 5.")[0].split("## 4.")[1]
    assert f"/CreationDate (D:{today:%Y%m%d}235959Z" in before["pdf"].decode("latin-1")
    # As of now the later events are there, and the report is provisional.
    now = get(client, coordinator, format="md").decode("utf-8")
    assert "| Gesundheit | 1 |" in now
    assert "Stadt Rheine (Integrationsrat)" in now
    assert "VORLÄUFIG" in now


@EMBEDDED
def test_who_may_read_the_report(
    client: TestClient, platform: Platform, auth: Auth, token: Callable[..., str]
) -> None:
    def audit_head() -> int:
        return platform.store.head(TOWN, "audit")

    body = client.get(URL.format(tenant=TOWN, year=YEAR), headers=auth(TOWN, "coordinator"))
    assert body.status_code == 200, body.text
    report = body.json()
    assert [s["title"][:2] for s in report["sections"]] == ["1.", "2.", "3.", "4.", "5.", "6."]
    assert (report["tenant"], report["year"], report["provisional"]) == (TOWN, YEAR, True)
    assert report["recorded_as"] is None
    # The district above reads its town's report; steering members read their own.
    get(client, auth("kreis-steinfurt", "district_coordinator"))
    md = client.get(
        URL.format(tenant=TOWN, year=YEAR), params={"format": "md"},
        headers=auth(TOWN, "steering_member"),
    )  # fmt: skip
    assert md.status_code == 200
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.headers["content-disposition"].endswith('-vorlaeufig.md"')
    # An auditor within the mandate: recorded in the audit trail.
    before = audit_head()
    pdf = client.get(
        URL.format(tenant=TOWN, year=YEAR), params={"format": "pdf"},
        headers=auth("nrw", "auditor", mandate=[TOWN]),
    )  # fmt: skip
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert "Anlage: Ereignisse" in text(pdf.content)
    assert audit_head() == before + 1
    # A member of the town who sits in the district's steering group reads the district's
    # report too, as it reads the group's papers; the town's other members do not.
    seated = {"Authorization": "Bearer " + token(TOWN, "steering_member", subject=RHEINE_POST)}
    district = client.get(URL.format(tenant="kreis-steinfurt", year=YEAR), headers=seated)
    assert district.status_code == 200, district.text
    assert district.json()["tenant"] == "kreis-steinfurt"
    refused = [
        ("kreis-steinfurt", auth(TOWN, "steering_member"), "tenant-not-allowed"),
        (TOWN, auth(TOWN, "case_manager"), "role-not-allowed"),
        (TOWN, auth(TOWN, "immigration_officer"), "role-not-allowed"),
        (TOWN, auth("aachen", "coordinator"), "tenant-not-allowed"),
        ("kreis-steinfurt", auth(TOWN, "coordinator"), "tenant-not-allowed"),
        (TOWN, auth("aachen", "auditor"), "outside-mandate"),
        (TOWN, auth("nrw", "auditor", mandate=["aachen"]), "outside-mandate"),
    ]
    heads = dict(platform.store.heads())
    for tenant, headers, rule in refused:
        response = client.get(URL.format(tenant=tenant, year=YEAR), headers=headers)
        assert response.status_code == 403, (tenant, headers, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["rule"] == rule
    assert platform.store.heads() == heads  # nothing recorded on refusal
    for params in ({"format": "xls"}, {"as_of": "2021-13-01"}, {"as_of": "0"}):
        bad = client.get(URL.format(tenant=TOWN, year=YEAR), params=params,
                         headers=auth(TOWN, "coordinator"))  # fmt: skip
        assert bad.status_code == 422, params
    assert client.get(URL.format(tenant=TOWN, year=1999),
                      headers=auth(TOWN, "coordinator")).status_code == 422  # fmt: skip


@EMBEDDED
def test_kim_report_yearly(
    platform: Platform,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_year(platform)
    monkeypatch.setenv("KIM_EVENT_STORE", settings.event_store)

    def run(*args: str) -> tuple[int, str, str]:
        get_settings.cache_clear()
        code = main(["report", "yearly", *args])
        captured = capsys.readouterr()
        return code, captured.out, " ".join(captured.err.split())

    out = tmp_path / "jahresbericht.pdf"
    code, _, err = run("--tenant", TOWN, "--year", str(YEAR), "--format", "pdf", "--out", str(out))
    assert code == 0, err
    assert "Protokolle lesen" in err  # the replay's progress bar
    assert "Jahresbericht 2021 für Stadt Rheine" in err
    assert "5. Lenkungsgruppe: Sitzungen und Beschlüsse" in text(out.read_bytes())
    code, md, err = run("--tenant", TOWN, "--year", str(YEAR))
    assert code == 0
    assert md.startswith("# Jahresbericht Kommunales Integrationsmanagement 2021")
    failing: list[tuple[list[str], str]] = [
        (["--tenant", "nowhere", "--year", "2021"], "gibt es nicht"),
        (["--tenant", TOWN, "--year", "2021", "--format", "pdf"], "--out"),
        (["--tenant", TOWN, "--year", "2021", "--as-of", "31.12.2021"], "--as-of"),
        (["--tenant", TOWN, "--year", "1900"], "--year"),
    ]
    for args, says in failing:
        code, _, err = run(*args)
        assert (code, says in err) == (2, True), (args, err)


@EMBEDDED
def test_the_access_matrix_of_the_report(client: TestClient, auth: Auth) -> None:
    """Every role with a token of every demo tenant, on Rheine's report: the coordination
    and steering roles of Rheine and the tenants above it, auditors of those (no mandate:
    their own tenant and those below); no one else."""
    readers = {"coordinator", "district_coordinator", "steering_member", "auditor"}
    for role in ROLES:
        for tenant in TENANTS:
            response = client.get(URL.format(tenant=TOWN, year=YEAR), headers=auth(tenant, role))
            allowed = role in readers and covers(tenant, TOWN)
            assert response.status_code == (200 if allowed else 403), (role, tenant)

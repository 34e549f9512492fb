"""Statements an auditor can reproduce exactly (issue point 7).

As of a day that has ended, the same statement gives the same bytes as CSV and as PDF, also
after later events; as of a day that has not ended it is marked provisional; an audit
export of one tenant imported without its member towns says that their figures are missing.

The demo's events are recorded today, so "a day that has ended" is today seen from
tomorrow: ``report.current_day`` is moved on by a day.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.gaps import LifeDimension
from kim.cli import main
from runtime.platform import Platform
from runtime.settings import Settings, get_settings
from services.audit import report
from tests.audit.pdf_text import pages, text
from tests.support import Auth

STATEMENT = "/audit/tenants/{tenant}/statements/{notice}"
B1 = "KIM-B1-2021-05566"
URL = STATEMENT.format(tenant="kreis-steinfurt", notice=B1)


def utc_today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture
def ended_day(monkeypatch: pytest.MonkeyPatch) -> date:
    """Make today (when the demo was recorded) a day that has ended."""
    today = utc_today()
    monkeypatch.setattr(report, "current_day", lambda: today + timedelta(days=1))
    return today


def fetch(client: TestClient, auth: Auth, **params: object) -> bytes:
    response = client.get(
        URL, params={"year": 2021, **params}, headers=auth("kreis-steinfurt", "auditor")
    )
    assert response.status_code == 200, response.text
    return bytes(response.content)


def test_the_same_statement_as_of_an_ended_day_gives_the_same_bytes(
    client: TestClient, platform: Platform, auth: Auth, ended_day: date
) -> None:
    day = ended_day.isoformat()
    csv_first = fetch(client, auth, as_of=day, format="csv")
    pdf_first = fetch(client, auth, as_of=day, format="pdf")
    time.sleep(1.1)  # a creation time of the request's own would show now
    assert fetch(client, auth, as_of=day, format="csv") == csv_first
    assert fetch(client, auth, as_of=day, format="pdf") == pdf_first
    # Every request is in the audit trail, but none of that is in the statement.
    assert platform.store.head("kreis-steinfurt", "audit") == 4
    csv = csv_first.decode("utf-8")
    assert "VORLÄUFIG" not in csv
    assert f"Kopf;Stichtag;{ended_day:%d.%m.%Y}, Ende des Tages (UTC);" in csv
    assert "VORLÄUFIG" not in text(pdf_first)
    assert f"/CreationDate (D:{ended_day:%Y%m%d}235959Z" in pdf_first.decode("latin-1")
    body = client.get(
        URL, params={"year": 2021, "as_of": day}, headers=auth("kreis-steinfurt", "auditor")
    ).json()
    assert (body["provisional"], body["as_of"], body["missing_tenants"]) == (False, day, [])
    assert body["grantee"] == "Kreis Steinfurt"


def test_later_events_do_not_change_a_statement_as_of_an_ended_day(
    client: TestClient,
    platform: Platform,
    auth: Auth,
    ended_day: date,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stand: dict[str, object]
    if settings.event_store.startswith("sqlite"):
        stand = {"as_of": ended_day.isoformat()}
        # The next day: a gap of 2021 is recorded, the district renamed.
        later = datetime.combine(ended_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        monkeypatch.setattr(
            "runtime.eventstore.sqlite.utcnow", lambda: later.isoformat(timespec="microseconds")
        )
    else:
        # PostgreSQL stamps recorded_at itself, so later events cannot be dated the next day;
        # a statement as of a log position the log has reached must hold as well.
        stand = {"position": platform.store.head("kreis-steinfurt", "coordination")}
    before = {f: fetch(client, auth, format=f, **stand) for f in ("csv", "pdf")}
    ks = platform.app(CoordinationApplication, "kreis-steinfurt")
    ks.record_gap(
        life_dimension=LifeDimension("education"), description="Keine Kita-Plätze",
        reported_on=date(2021, 11, 3),
    )  # fmt: skip
    platform.tenancy.rename_tenant("kreis-steinfurt", "Kreis Steinfurt (Kommunales IZ)")
    after = {f: fetch(client, auth, format=f, **stand) for f in ("csv", "pdf")}
    assert after == before
    # As of now the later events are there, and the statement is provisional.
    now = fetch(client, auth, format="csv").decode("utf-8")
    assert "Sachbericht;Versorgungslücke: Bildung;1;" in now
    assert "Kopf;Zuwendungsempfänger;Kreis Steinfurt (Kommunales IZ);" in now
    assert "Kopf;Status;VORLÄUFIG – Stichtag noch nicht abgeschlossen;" in now


def test_a_statement_as_of_a_day_that_has_not_ended_is_marked_provisional(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    headers = auth("kreis-steinfurt", "auditor")
    mark = "Kopf;Status;VORLÄUFIG – Stichtag noch nicht abgeschlossen;"
    for params in ({}, {"as_of": utc_today().isoformat()}):
        csv = fetch(client, auth, format="csv", **params).decode("utf-8")
        assert csv.splitlines()[2] == mark, params  # in the head, right after the title
        body = client.get(URL, params={"year": 2021, **params}, headers=headers).json()
        assert body["provisional"] is True
        pdf = fetch(client, auth, format="pdf", **params)
        assert all("VORLÄUFIG – Stichtag noch nicht abgeschlossen" in p for p in pages(pdf))
        response = client.get(URL, params={"year": 2021, "format": "pdf", **params},
                              headers=headers)  # fmt: skip
        assert "vorlaeufig" in response.headers["content-disposition"]
    # A log position the log has reached is final; one it has not reached yet is not.
    head = platform.store.head("kreis-steinfurt", "coordination")
    final = client.get(URL, params={"year": 2021, "position": head}, headers=headers).json()
    assert (final["provisional"], final["as_of_position"]) == (False, head)
    ahead = client.get(URL, params={"year": 2021, "position": head + 5}, headers=headers).json()
    assert ahead["provisional"] is True
    first = fetch(client, auth, format="pdf", position=head)
    time.sleep(1.1)
    assert fetch(client, auth, format="pdf", position=head) == first


def test_an_imported_export_without_its_member_towns_names_them_as_missing(
    platform: Platform,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def run(*args: str) -> tuple[int, str]:
        get_settings.cache_clear()
        code = main(list(args))
        return code, " ".join(capsys.readouterr().err.split())

    monkeypatch.setenv("KIM_EVENT_STORE", settings.event_store)
    monkeypatch.setenv("KIM_PG_SCHEMA", settings.pg_schema)
    ks_export, rheine_export = tmp_path / "ks.jsonl", tmp_path / "rheine.jsonl"
    try:
        code, err = run("audit", "export", "--tenant", "kreis-steinfurt", "--out", str(ks_export))
        assert code == 0
        assert "nicht enthalten sind die Mitgliedsstädte rheine" in err
        assert run("audit", "export", "--tenant", "rheine", "--out", str(rheine_export))[0] == 0
        monkeypatch.setenv("KIM_EVENT_STORE", f"sqlite:///{tmp_path / 'fresh'}")
        assert run("import", str(ks_export))[0] == 0
        statement = ["audit", "statement", "--tenant", "kreis-steinfurt", "--notice", B1]
        statement += ["--year", "2021", "--as-of", utc_today().isoformat()]
        out = tmp_path / "b1.csv"
        code, err = run(*statement, "--out", str(out))
        assert code == 0
        assert "Warnung: Fehlende Mandanten: rheine – deren Zahlen fehlen" in err
        csv = out.read_text(encoding="utf-8")
        assert "Kopf;Fehlende Mandanten;rheine – deren Zahlen fehlen;" in csv
        assert "Sachbericht;Mandanten;kreis-steinfurt;" in csv
        # No registry in the store: the key stands for the name, unless the manifest has it.
        assert "Kopf;Zuwendungsempfänger;kreis-steinfurt;" in csv
        manifest = str(ks_export) + ".manifest.json"
        code, err = run(*statement, "--out", str(out), "--manifest", manifest)
        assert code == 0
        assert "Fehlende Mandanten: rheine" in err
        assert "Kopf;Zuwendungsempfänger;Kreis Steinfurt;" in out.read_text(encoding="utf-8")
        pdf_out = tmp_path / "b1.pdf"
        assert run(*statement, "--format", "pdf", "--out", str(pdf_out))[0] == 0
        first_page = pages(pdf_out.read_bytes())[0]
        assert "Fehlende Mandanten: rheine – deren Zahlen fehlen. Der" in first_page
        # With Rheine's export imported too, nothing is missing and Rheine is counted.
        assert run("import", str(rheine_export))[0] == 0
        code, err = run(*statement, "--out", str(out))
        assert code == 0
        assert "Fehlende Mandanten" not in err
        csv = out.read_text(encoding="utf-8")
        assert "Fehlende Mandanten" not in csv
        assert "Sachbericht;Mandanten;kreis-steinfurt, rheine;" in csv
    finally:
        get_settings.cache_clear()

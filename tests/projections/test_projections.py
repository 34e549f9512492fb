"""Projections: live rows equal a rebuild, exactly-once effect, resume, read-your-writes."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway import readside
from kim.contexts import PROJECTIONS
from projections import catalogue
from projections.case_management import case_contribution
from projections.projection import SUMMARY_KIND, AggregateProjection
from runtime.platform import Platform
from runtime.settings import Settings
from tests.case_support import CM, demo_position, ok, open_case, register_person
from tests.support import Auth

RHEINE = CM.format(tenant="rheine")


def build_projections(platform: Platform) -> dict[str, AggregateProjection]:
    """As ``kim replay`` builds them: every registered read model."""
    return catalogue.build_projections(platform, PROJECTIONS.values())


def graphql(client: TestClient, text: str, headers: dict[str, str]) -> Any:
    response = client.post("/graphql", json={"query": text}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def caught_up(platform: Platform, timeout: float = 20.0) -> None:
    """Wait until every live projection has applied its context's logs up to the heads."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        heads = platform.store.heads()
        if all(
            p.position(t) >= h
            for p in platform.projections.values()
            for (t, c), h in heads.items()
            if c == p.context
        ):
            return
        time.sleep(0.02)
    raise AssertionError("projections did not catch up")


def some_cases(client: TestClient, platform: Platform, auth: Auth) -> tuple[str, int]:
    """Two cases in Rheine, one assessed with a referral consent; returns a case and a position."""
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    first = open_case(client, cm, register_person(client, cm, name="Eins"))
    open_case(client, cm, register_person(client, cm, name="Zwei"))
    body = ok(
        client.post(
            f"{RHEINE}/cases/{first}/assessment",
            json={"needs": {"language": "high", "health": "low"}, "on": "2022-05-10"},
            headers=cm,
        )
    )
    return str(first), int(body["position"])


def test_live_rows_equal_a_rebuild_from_the_log(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    some_cases(client, platform, auth)
    caught_up(platform)
    live = {name: list(platform.read.all_rows(name)) for name in PROJECTIONS}
    checksums = {name: platform.read.checksum(name) for name in PROJECTIONS}
    assert {r.kind for r in live["case_management"]} >= {"Case", "Person", "KnownPosition"}
    assert {r.kind for r in live["coordination"]} >= {"FundingNotice", "Position"}
    # The incrementally kept summary equals the sum over the case rows.
    for tenant in ("rheine", "emsdetten"):
        expected: Counter[str] = Counter()
        for row in platform.read.rows("case_management", [tenant], "Case"):
            expected.update(case_contribution("Case", row.doc))
        expected = +expected  # without zero counts, as stored
        summary = platform.read.rows("case_management", [tenant], SUMMARY_KIND)
        assert [r.doc for r in summary] == ([dict(expected)] if expected else [])
    # No read-model row holds a sealed text (personal data).
    assert all("kimv1:" not in str(r.doc) for rows in live.values() for r in rows)

    fresh = build_projections(platform)  # as `kim replay` does
    tenants = sorted({t for t, _ in platform.store.heads()})
    for name in PROJECTIONS:
        applied = fresh[name].rebuild(tenants)
        heads = platform.store.heads()
        assert applied == sum(h for (t, c), h in heads.items() if c == fresh[name].context)
        assert platform.read.checksum(name) == checksums[name]
        assert list(platform.read.all_rows(name)) == live[name]


def test_a_rebuild_in_worker_processes_equals_the_live_rows(
    client: TestClient, platform: Platform, settings: Settings, auth: Auth
) -> None:
    from projections.replay import ReplayJob, rebuild_parallel

    some_cases(client, platform, auth)
    caught_up(platform)
    heads = platform.store.heads()
    for name in PROJECTIONS:
        live = list(platform.read.all_rows(name))
        checksum = platform.read.checksum(name)
        context = build_projections(platform)[name].context
        tenants = sorted({t for t, c in heads if c == context})
        assert len(tenants) >= (2 if name == "coordination" else 1)
        advanced: list[int] = []
        job = ReplayJob(settings, PROJECTIONS[name])
        applied = rebuild_parallel(job, tenants, 2, advanced.append)
        assert applied == sum(h for (t, c), h in heads.items() if c == context)
        assert sum(advanced) == applied  # the workers reported every event as progress
        assert platform.read.checksum(name) == checksum
        assert list(platform.read.all_rows(name)) == live


def test_a_redelivered_event_changes_nothing_and_a_restarted_projection_resumes(
    platform: Platform,
) -> None:
    from contexts.case_management.application import CaseManagementApplication
    from contexts.case_management.domain import ReferralSource
    from contexts.case_management.people import ConsentPurpose

    projection = build_projections(platform)["case_management"]
    app = platform.app(CaseManagementApplication, "rheine", vault=platform.vault)
    (registered,) = app.register_person({"name": "Drei"}, date(2022, 1, 1))
    person = registered.domain_event.originator_id
    app.give_consent(
        person, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient="rheine",
        given_on=date(2022, 2, 1),
    )  # fmt: skip
    projection.rebuild(["rheine"])
    before = platform.read.checksum("case_management")
    records = platform.store.read_log("rheine", "case_management")
    assert projection.apply_batch(records) == 0  # redelivered: skipped, rows unchanged
    assert platform.read.checksum("case_management") == before

    # A restart: a new projection with an empty cache resumes from its stored positions.
    app.open_case(person, referral_source=ReferralSource.SCHOOL, opened_on=date(2022, 2, 2))
    restarted = build_projections(platform)["case_management"]
    assert isinstance(restarted, AggregateProjection)
    assert restarted is not projection
    assert restarted.position("rheine") == records[-1].position
    new = platform.store.read_log("rheine", "case_management", after=records[-1].position)
    assert restarted.apply_batch(new) == len(new) == 2  # CaseOpened, PersonCaseLinked
    live = platform.read.checksum("case_management")
    (person_row,) = [
        r for r in platform.read.rows("case_management", ["rheine"], "Person")
        if r.key == str(person)
    ]  # fmt: skip
    assert person_row.doc["version"] == 3
    assert len(person_row.doc["cases"]) == 1
    restarted.rebuild(["rheine"])
    assert platform.read.checksum("case_management") == live


def test_a_query_waits_for_the_position_a_command_returned(
    client: TestClient, platform: Platform, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    caught_up(platform)
    _, position = some_cases(client, platform, auth)
    query = f"""{{ caseFigures(tenant: "rheine", atPosition: {position}) {{
        openCases byLifeDimension {{ key count }} }} }}"""
    body = graphql(client, query, auth("rheine", "coordinator"))
    assert "errors" not in body, body
    figures = body["data"]["caseFigures"]
    assert figures["openCases"] == 2
    assert figures["byLifeDimension"] == [
        {"key": "health", "count": 1},
        {"key": "language", "count": 1},
    ]
    monkeypatch.setattr(readside, "WAIT_LIMIT_SECONDS", 0.2)
    beyond = query.replace(f"atPosition: {position}", f"atPosition: {position + 1000}")
    body = graphql(client, beyond, auth("rheine", "coordinator"))
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_CAUGHT_UP"
    assert "not yet at" in body["errors"][0]["message"]


def test_funding_figures_of_kreis_steinfurt_in_october_2021(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    caught_up(platform)
    body = graphql(
        client,
        """{ funding(tenant: "kreis-steinfurt", month: "2021-10") {
            reference baustein grantedFte forwardedFte filledFte forwardedMoneyPerYear } }""",
        auth("kreis-steinfurt", "district_coordinator"),
    )
    assert "errors" not in body, body
    by_baustein = {f["baustein"]: f for f in body["data"]["funding"]}
    # B1: 3.5 coordination + 0.5 assistance; 1.0 FTE forwarded to Rheine since 2021-05-01.
    assert (by_baustein[1]["grantedFte"], by_baustein[1]["forwardedFte"]) == ("4.00", "1.00")
    assert by_baustein[1]["forwardedMoneyPerYear"] == "50000.00"
    # B2: 9.0 case management; 1.9 forwarded to "Lernen fördern", staffed 1.0 + 0.9.
    assert (by_baustein[2]["grantedFte"], by_baustein[2]["forwardedFte"]) == ("9.00", "1.90")
    assert by_baustein[2]["filledFte"] == "1.90"
    bad = graphql(
        client,
        '{ funding(tenant: "kreis-steinfurt", month: "Oktober") { reference } }',
        auth("kreis-steinfurt", "district_coordinator"),
    )
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_districts_regional_areas_count_the_open_cases_of_their_positions(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    caught_up(platform)
    _, position = some_cases(client, platform, auth)  # two open cases on the LF position
    text = f"""{{ regionalAreas(tenant: "kreis-steinfurt") {{
        name towns caseManagementFte positions positionFte filledFte openCases casesPerFte }}
        caseFigures(tenant: "rheine", atPosition: {position}) {{ openCases }} }}"""
    body = graphql(client, text, auth("kreis-steinfurt", "district_coordinator"))
    assert "errors" not in body, body
    areas = {a["name"]: a for a in body["data"]["regionalAreas"]}
    assert len(areas) == 5
    assert sum(Decimal(a["caseManagementFte"]) for a in areas.values()) == Decimal("9.0")
    (with_position,) = [a for a in areas.values() if a["positions"]]
    assert "Rheine" in with_position["towns"]
    assert with_position["positionFte"] == "1.90"
    assert with_position["filledFte"] == "1.90"
    assert with_position["openCases"] == 2
    assert with_position["casesPerFte"] == "1.1"
    assert all(a["openCases"] == 0 for a in areas.values() if not a["positions"])
    # A member town does not read its district's areas.
    refused = graphql(
        client,
        '{ regionalAreas(tenant: "kreis-steinfurt") { name } }',
        auth("rheine", "coordinator"),
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_too_many_aliases_are_refused(client: TestClient, auth: Auth) -> None:
    text = (
        "{ "
        + " ".join(f'f{i}: caseFigures(tenant: "rheine") {{ openCases }}' for i in range(16))
        + " }"
    )
    body = graphql(client, text, auth("rheine", "coordinator"))
    assert body.get("data") is None
    assert any("aliases" in e["message"] for e in body["errors"]), body


def test_read_models_as_of_a_point_in_time(platform: Platform, tmp_path: Path) -> None:
    """Replayed up to a recorded time, the rows show what was known then."""
    from runtime.readstore_sqlite import SqliteReadStore

    records = platform.store.read_log("kreis-steinfurt", "coordination")
    cut = records[9]  # the first ten events of the district's coordination log
    later = [r for r in records if r.recorded_at > cut.recorded_at]
    assert later, "the demo has events after the cut"
    platform.use_read_store(SqliteReadStore(tmp_path / "as-of.db"))
    projection = build_projections(platform)["coordination"]
    until = datetime.fromisoformat(cut.recorded_at)
    projection.rebuild(["kreis-steinfurt"], until=until)
    known = {r.position for r in records if datetime.fromisoformat(r.recorded_at) <= until}
    assert projection.position("kreis-steinfurt") == max(known)
    rows = platform.read.rows("coordination", ["kreis-steinfurt"])
    ids = {str(r.originator_id) for r in records if r.position in known}
    assert {r.key for r in rows} == ids
    projection.rebuild(["kreis-steinfurt"], upto=3)
    assert projection.position("kreis-steinfurt") == 3


def test_kim_replay_as_of_writes_into_a_separate_file(
    platform: Platform, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kim.cli import main
    from runtime.readstore_sqlite import SqliteReadStore
    from runtime.settings import get_settings

    monkeypatch.setenv("KIM_EVENT_STORE", settings.event_store)
    monkeypatch.setenv("KIM_PG_SCHEMA", settings.pg_schema)
    get_settings.cache_clear()
    try:
        assert main(["replay", "--as-of", "2020-12-31"]) == 2  # needs --into
        into = tmp_path / "then.db"
        args = ["replay", "--tenant", "kreis-steinfurt", "--position", "5", "--into", str(into)]
        assert main(args) == 0
        assert main(["replay", "--as-of", "2020-12-31", "--into", str(tmp_path / "e.db")]) == 0
    finally:
        get_settings.cache_clear()
    then = SqliteReadStore(into)
    try:
        assert then.positions("coordination") == {("kreis-steinfurt", "coordination"): 5}
    finally:
        then.close()
    empty = SqliteReadStore(tmp_path / "e.db")
    try:
        assert list(empty.all_rows("coordination")) == []  # nothing was recorded by then
    finally:
        empty.close()


def test_read_model_rows_are_isolated_below_the_gateway(platform: Platform) -> None:
    """On PostgreSQL a read session sees only the tenants it names, whatever it asks."""
    from runtime.readstore_postgres import PostgresReadStore

    build_projections(platform)["coordination"].rebuild(["kreis-steinfurt", "rheine", "aachen"])
    read = platform.read
    assert {r.tenant for r in read.rows("coordination", ["rheine", "aachen"])} == {
        "rheine",
        "aachen",
    }
    if isinstance(read, PostgresReadStore):  # the embedded store is one file of one process
        with read.pool.connection() as conn, conn.transaction():
            conn.execute("SET LOCAL ROLE kim_tenant")
            conn.execute("SELECT set_config('kim.tenants', 'rheine', true)")
            seen = conn.execute(
                f"SELECT DISTINCT tenant FROM {read.schema}.rm_rows".encode()
            ).fetchall()
        assert seen == [("rheine",)]

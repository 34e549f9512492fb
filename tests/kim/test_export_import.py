"""Export a tenant's history as JSON lines and import it into an empty store: identical."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import Organisation, OrganisationKind
from kim.cli import main
from runtime import audit
from runtime import context as request_context
from runtime.eventstore import LogNotEmpty
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.jsonl import export_tenant, import_jsonl
from runtime.eventstore.sqlite import SqliteEventLogStore
from runtime.settings import Settings, get_settings


def fill(store: EventLogStore) -> list[Organisation]:
    app = CoordinationApplication("rheine", store.recorder)
    orgs = []
    with request_context.bound(actor="rheine/anna", correlation_id="c-1"):
        for name in ["Lernen fördern", "Caritas Rheine", "Diakonie"]:
            org = Organisation(name=name, kind=OrganisationKind.WELFARE_PROVIDER, office_type=None)
            app.save(org)
            orgs.append(org)
        orgs[0].rename("Lernen fördern e.V.")
        orgs[1].close()
        app.save(orgs[0], orgs[1])
    other = CoordinationApplication("aachen", store.recorder)
    other.save(Organisation(name="Caritas Aachen", kind="welfare_provider", office_type=None))
    return orgs


def test_export_then_import_into_an_empty_store_reproduces_the_log_exactly(
    store: EventLogStore, tmp_path: Path
) -> None:
    orgs = fill(store)
    out = io.StringIO()
    assert export_tenant(store, "rheine", out) == 5
    target = SqliteEventLogStore(tmp_path / "imported")
    try:
        assert import_jsonl(target, out.getvalue().splitlines()) == 5
        assert target.read_log("rheine", "coordination") == store.read_log("rheine", "coordination")
        assert target.heads() == {("rheine", "coordination"): 5}
        again = CoordinationApplication("rheine", target.recorder)
        assert again.get_organisation(orgs[0].id).name == "Lernen fördern e.V."
        assert again.get_organisation(orgs[1].id).active is False
        # The imported log goes on from where the export ended, its hash chain too.
        assert audit.verify(target).intact
        again.rename_organisation(orgs[2].id, "Diakonie Rheine")
        assert target.head("rheine", "coordination") == 6
        assert audit.verify(target).intact
    finally:
        target.close()


def test_export_holds_only_the_named_tenant(store: EventLogStore) -> None:
    fill(store)
    out = io.StringIO()
    export_tenant(store, "rheine", out)
    assert '"aachen"' not in out.getvalue()


def test_import_into_a_log_that_holds_events_is_refused_and_changes_nothing(
    store: EventLogStore,
) -> None:
    fill(store)
    out = io.StringIO()
    export_tenant(store, "rheine", out)
    before = store.read_log("rheine", "coordination")
    with pytest.raises(LogNotEmpty):
        import_jsonl(store, out.getvalue().splitlines())
    assert store.read_log("rheine", "coordination") == before


def test_a_line_that_is_not_a_record_is_refused_with_its_line_number(
    store: EventLogStore, tmp_path: Path
) -> None:
    fill(store)
    out = io.StringIO()
    export_tenant(store, "rheine", out)
    lines = [out.getvalue().splitlines()[0], '{"tenant": "rheine"}']
    target = SqliteEventLogStore(tmp_path / "target")
    try:
        with pytest.raises(ValueError, match="line 2"):
            import_jsonl(target, lines)
        assert target.heads() == {}
    finally:
        target.close()


def test_the_cli_round_trip_through_a_file(
    settings: Settings, store: EventLogStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store)
    export_file = tmp_path / "rheine.jsonl"
    monkeypatch.setenv("KIM_EVENT_STORE", settings.event_store)
    monkeypatch.setenv("KIM_PG_SCHEMA", settings.pg_schema)
    get_settings.cache_clear()
    try:
        assert main(["export", "--tenant", "rheine", "--out", str(export_file)]) == 0
        assert len(export_file.read_text(encoding="utf-8").splitlines()) == 5
        monkeypatch.setenv("KIM_EVENT_STORE", f"sqlite:///{tmp_path / 'fresh'}")
        get_settings.cache_clear()
        assert main(["import", str(export_file)]) == 0
        assert main(["import", str(export_file)]) == 1  # not empty any more
    finally:
        get_settings.cache_clear()
    fresh = SqliteEventLogStore(tmp_path / "fresh")
    try:
        assert fresh.read_log("rheine", "coordination") == store.read_log("rheine", "coordination")
    finally:
        fresh.close()


def test_kim_reindex_rebuilds_the_index_entries_from_the_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date
    from decimal import Decimal
    from uuid import uuid4

    from contexts.case_management.application import CaseManagementApplication
    from contexts.case_management.domain import OPEN_CASES_OF_POSITION
    from runtime.vault import StoreVault
    from tests.case_management.test_case_caseload import opened_cases

    store = SqliteEventLogStore(tmp_path / "store")
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    position = uuid4()
    app.note_position(position, Decimal("1"), "rheine")
    for case_id in opened_cases(app, 2):
        app.assign_case(case_id, position_id=position, on=date(2021, 3, 2))
    store.replace_index("rheine", "case_management", [])  # as a store from before the index
    monkeypatch.setenv("KIM_EVENT_STORE", f"sqlite:///{tmp_path / 'store'}")
    get_settings.cache_clear()
    try:
        assert main(["reindex"]) == 0
    finally:
        get_settings.cache_clear()
    key = str(position)
    assert store.index_count("rheine", "case_management", OPEN_CASES_OF_POSITION, key) == 2
    store.close()

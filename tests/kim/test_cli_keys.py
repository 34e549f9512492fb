"""``kim keys init|status|rotate`` and ``kim erase [--now]`` (German output, ADR 0006)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from contexts.case_management.application import CaseManagementApplication
from kim.cli import main
from runtime.platform import Platform
from runtime.settings import Settings, get_settings
from services.immigration_office.demo import PEOPLE as OFFICE_DEMO_PEOPLE


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KIM_EVENT_STORE", settings.event_store)
    monkeypatch.setenv("KIM_PG_SCHEMA", settings.pg_schema)
    monkeypatch.setenv("KIM_KEY_FILE", str(settings.key_file))
    monkeypatch.setenv("KIM_BUS", "memory")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def said(capsys: pytest.CaptureFixture[str]) -> str:
    return " ".join(capsys.readouterr().err.split())  # rich wraps long lines


def test_kim_keys_init_makes_a_key_file_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "secrets" / "kek.json"
    assert main(["keys", "init", "--file", str(path)]) == 0
    assert "angelegt" in said(capsys)
    first = path.read_bytes()
    assert main(["keys", "init", "--file", str(path)]) == 1
    assert "nie überschrieben" in said(capsys)
    assert path.read_bytes() == first


def test_kim_erase_now_makes_the_erasure_final_and_status_shows_it(
    platform: Platform, settings: Settings, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    app = platform.app(CaseManagementApplication, "rheine", vault=platform.vault)
    people = []
    for name in ("Erika M.", "Jonas P.", "Ana L."):
        (rec,) = app.register_person({"name": name}, date(2022, 4, 1))
        people.append(rec.domain_event.originator_id)

    assert main(["erase", "--tenant", "rheine", "--person", str(people[0])]) == 0
    assert "spätestens in 24 h" in said(capsys)
    assert main(["keys", "status"]) == 0
    status = said(capsys)
    assert "Aktuelle Schlüsselepoche: 1" in status
    assert "Ausstehende Löschungen: 1" in status

    assert main(["erase", "--tenant", "rheine", "--person", str(people[1]), "--now"]) == 0
    done = said(capsys)
    kept = 1 + len(OFFICE_DEMO_PEOPLE)  # Ana L. and the immigration office demo's people
    assert f"Schlüsselepoche 2: {kept} Personenschlüssel neu verschlüsselt" in done
    assert "2 Löschung(en) endgültig" in done
    assert main(["keys", "status"]) == 0
    assert "Ausstehende Löschungen: keine" in said(capsys)
    assert json.loads(Path(str(settings.key_file)).read_text())["current"] == 2

    assert main(["keys", "rotate"]) == 0
    assert f"Schlüsselepoche 3: {kept} Personenschlüssel" in said(capsys)
    assert app.personal_data(people[2]) == {"name": "Ana L.", "arrival_on": "2022-04-01"}
    assert app.personal_data(people[0]) is None
    assert main(["erase", "--tenant", "rheine", "--person", str(people[0])]) == 0  # again
    assert platform.store.key_state().pending == 0  # no key left to erase: nothing pending
    assert main(["erase", "--tenant", "rheine", "--person", "not-a-uuid"]) == 2
    assert main(["erase", "--tenant", "nowhere", "--person", str(people[0])]) == 2
    assert "Unbekannter Mandant" in said(capsys)


def test_kim_serve_refuses_postgresql_without_a_key_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIM_EVENT_STORE", "postgresql://127.0.0.1:5432/test")
    monkeypatch.delenv("KIM_KEY_FILE", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["serve"]) == 2
    finally:
        get_settings.cache_clear()
    assert "KIM startet nicht: KIM_KEY_FILE ist nicht gesetzt" in said(capsys)

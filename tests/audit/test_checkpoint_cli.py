"""``kim audit checkpoint`` and ``kim audit verify --against`` as an auditor runs them: the
key made once and never overwritten, the export, intact (0), not yet covered (3, never
"Unverändert"), broken (1) and a wrong call (2), in German."""

from __future__ import annotations

from pathlib import Path

import pytest

from kim.cli import main
from runtime.eventstore.base import EventLogStore
from runtime.settings import Settings, get_settings
from tests.audit.test_audit_chain import CONTEXT, TENANT, five_events
from tests.audit.test_signed_checkpoints import five_events_more, raw


def test_kim_audit_checkpoint_export_and_verify_against(
    store: EventLogStore,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    five_events(store)
    monkeypatch.setenv("KIM_EVENT_STORE", settings.event_store)
    monkeypatch.setenv("KIM_PG_SCHEMA", settings.pg_schema)
    monkeypatch.setenv("KIM_SIGNING_KEY_FILE", str(tmp_path / "keys" / "signing.json"))
    get_settings.cache_clear()
    kept = tmp_path / "auditor" / "checkpoints.jsonl"
    kept.parent.mkdir()
    try:
        assert main(["audit", "checkpoint", "--export", str(kept)]) == 2  # no key yet
        assert main(["audit", "checkpoint", "--init-key"]) == 0
        assert main(["audit", "checkpoint", "--init-key"]) == 2  # never overwritten
        assert main(["audit", "checkpoint", "--export", str(kept)]) == 0
        lines = kept.read_text(encoding="utf-8").splitlines()
        assert '"kind":"kim-checkpoints"' in lines[0]
        assert len(lines) == 2
        assert main(["audit", "verify", "--against", str(kept)]) == 0
        five_events_more(store)
        capsys.readouterr()
        assert main(["audit", "verify", "--against", str(kept)]) == 3  # not yet covered
        said = " ".join(capsys.readouterr().err.split())
        assert "Unverändert" not in said  # a tail after the signed head never reads intact
        assert "nicht alle sind durch signierte Prüfpunkte abgedeckt" in said, said
        assert f"Noch nicht abgedeckt: {TENANT}/{CONTEXT}, Positionen 6 bis 6" in said, said
        assert main(["audit", "verify"]) == 0
        with raw(store) as run:
            run("UPDATE {s}events SET actor = ? WHERE tenant = ? AND position = 2", ("x", TENANT))
        assert main(["audit", "verify", "--against", str(kept)]) == 1
        said = " ".join(capsys.readouterr().err.split())
        assert "erste fehlerhafte Position 2: Inhalt oder Reihenfolge passen nicht zur" in said
        assert main(["audit", "verify", "--against", str(tmp_path / "missing")]) == 2
    finally:
        get_settings.cache_clear()

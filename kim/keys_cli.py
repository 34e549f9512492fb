"""``kim keys``: the key file and the key epochs of crypto-shredding (ADR 0006), in German."""

from __future__ import annotations

import argparse
from datetime import UTC, timedelta
from typing import Any

from runtime.console import console
from runtime.eventstore.base import EventLogStore
from runtime.key_console import run_rotation
from runtime.keyring import KeyEncryptionKeys
from runtime.settings import Settings


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from runtime.key_epochs import key_file_of

    if args.action == "init":
        from runtime.keyring import create_key_file

        path = args.file or key_file_of(settings)[0]
        if path is None:
            console.print("[red]Wohin? Bitte --file angeben oder KIM_KEY_FILE setzen.")
            return 2
        try:
            created = create_key_file(path)
        except FileExistsError:
            console.print(
                f"[red]Schlüsseldatei {path} besteht bereits; sie wird nie überschrieben."
            )
            return 1
        console.print(
            f"[green]✓[/green] Schlüsseldatei {created} angelegt (Epoche 1, Modus 0600)."
            f" KIM_KEY_FILE={created} setzen; die Datei als Geheimnis einbinden, nie in die"
            " Datensicherung der Datenbank, und nach jeder Rotation nur die neueste Fassung"
            " aufbewahren."
        )
        return 0
    from runtime.eventstore import open_store
    from runtime.key_epochs import open_keys

    store = open_store(settings.event_store, pg_schema=settings.pg_schema)
    try:
        keys = open_keys(settings, store)
        if args.action == "rotate":
            return run_rotation(store, keys)
        return _status(store, keys, settings)
    finally:
        store.close()


def _status(store: EventLogStore, keys: KeyEncryptionKeys, settings: Settings) -> int:
    from runtime.keyring import KeyFileProblem

    state = store.key_state()
    try:
        epochs = keys.epochs()
    except KeyFileProblem as e:
        console.print(f"[red]{e}")
        return 2
    path = getattr(keys, "path", None)
    console.print(f"Schlüsseldatei: {path or 'nur im Speicher'} (ID {keys.kek_id})")
    console.print(f"Aktuelle Schlüsselepoche: {epochs[-1]}")
    if len(epochs) > 1:
        older = ", ".join(map(str, epochs[:-1]))
        console.print(
            f"[yellow]Rotation unterbrochen: Epoche(n) {older} noch vorhanden;"
            " `kim keys rotate` beendet sie."
        )
    console.print(
        f"Personenschlüssel: {state.keys} (unter älteren Epochen: {state.below_floor},"
        f" unverschlüsselt aus der Zeit vor den Epochen: {state.legacy})"
    )
    if state.kek_id is not None and state.kek_id != keys.kek_id:
        console.print(
            f"[red]Der Speicher gehört zu einer anderen Schlüsseldatei (ID {state.kek_id})."
        )
        return 1
    if state.oldest_pending is None:
        console.print("Ausstehende Löschungen: keine")
        return 0
    oldest = state.oldest_pending.astimezone(UTC)
    due = oldest + timedelta(hours=settings.erasure_rotation_hours)
    console.print(
        f"Ausstehende Löschungen: {state.pending}, die älteste vom"
        f" {oldest:%d.%m.%Y %H:%M} UTC; endgültig spätestens am"
        f" {due:%d.%m.%Y %H:%M} UTC (Frist {settings.erasure_rotation_hours:g} h,"
        " KIM_ERASURE_ROTATION_HOURS) oder sofort mit `kim keys rotate`."
    )
    return 0


def add_commands(sub: Any) -> None:
    keys = sub.add_parser(
        "keys", help="Schlüsseldatei und Schlüsselepochen (endgültiges Löschen, Crypto-Shredding)"
    )
    actions = keys.add_subparsers(dest="action", required=True)
    init = actions.add_parser("init", help="Schlüsseldatei anlegen (überschreibt keine)")
    init.add_argument(
        "--file", default=None,
        help="Pfad (Standard: KIM_KEY_FILE bzw. ./kim-keys/ neben dem eingebetteten Speicher)",
    )  # fmt: skip
    actions.add_parser(
        "rotate", help="sofort eine neue Schlüsselepoche: ausstehende Löschungen werden endgültig"
    )
    actions.add_parser("status", help="Epoche, ausstehende Löschungen und ihre Frist")
    keys.set_defaults(func=cmd_keys)

"""``kim erase``: erase one person of a tenant (crypto-shredding), messages in German."""

from __future__ import annotations

import argparse
import getpass
from datetime import date
from typing import Any
from uuid import UUID

from runtime.console import console
from runtime.settings import Settings


def cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    from contexts.case_management.application import CaseManagementApplication
    from contexts.shared.errors import DomainError, NotFound
    from runtime import context as request_context
    from runtime.keyring import KeyFileProblem
    from runtime.platform import Platform

    try:
        person_id = UUID(args.person)
        on = date.fromisoformat(args.on) if args.on else date.today()
    except ValueError:
        console.print("[red]--person erwartet die UUID der Person, --on ein Datum (JJJJ-MM-TT).")
        return 2
    platform = Platform(settings)
    try:
        if args.tenant not in platform.directory(refresh=True).tenants:
            console.print(f"[red]Unbekannter Mandant {args.tenant!r}.")
            return 2
        app = platform.app(CaseManagementApplication, args.tenant, vault=platform.vault)
        try:
            with request_context.bound(actor=f"kim-cli:{getpass.getuser()}", tenant=args.tenant):
                app.erase_person(person_id, on)
        except NotFound:
            console.print(f"[red]Keine Person {person_id} bei {args.tenant}.")
            return 1
        except DomainError as e:
            console.print(f"[red]Löschung abgelehnt: {e}")
            return 1
        except KeyFileProblem as e:
            console.print(f"[red]{e}")
            return 2
        console.print(f"[green]✓[/green] Person {person_id} bei {args.tenant} gelöscht ({on}).")
        if args.now:
            from runtime.key_console import run_rotation

            return run_rotation(platform.store, platform.keys, only_if_pending=True)
        hours = settings.erasure_rotation_hours
        console.print(
            f"Endgültig (auch in alten Datenbankseiten, WAL und Sicherungen) mit der nächsten"
            f" Schlüsselepoche: spätestens in {hours:g} h durch `kim serve`, sofort mit"
            " `kim keys rotate` (oder hier mit --now)."
        )
        return 0
    finally:
        platform.close()


def add_erase_parser(sub: Any) -> None:
    erase = sub.add_parser(
        "erase", help="eine Person eines Mandanten löschen (Crypto-Shredding, Löschkonzept)"
    )
    erase.add_argument("--tenant", required=True)
    erase.add_argument("--person", required=True, help="UUID der Person")
    erase.add_argument("--on", default=None, help="Tag der Löschung (JJJJ-MM-TT, Standard: heute)")
    erase.add_argument(
        "--now", action="store_true",
        help="sofort endgültig: neue Schlüsselepoche statt des Sammellaufs binnen der Frist",
    )  # fmt: skip
    erase.set_defaults(func=cmd_erase)

"""``kim audit``: hash-chain verification, checkpoints, audit export, Verwendungsnachweis."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import Any

from runtime.console import console
from runtime.console import progress_bar as _progress
from runtime.settings import Settings


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """``kim audit verify`` (exit 1 on a break) and ``kim audit checkpoint``."""
    from runtime import audit
    from runtime.eventstore import open_store

    store = open_store(settings.event_store, pg_schema=settings.pg_schema)
    tenants = [args.tenant] if args.tenant else None
    try:
        if args.action == "export":
            return _audit_export(args, store)
        if args.action == "report":
            return _audit_report(args, store)
        if args.action == "checkpoint":
            count = audit.checkpoint(store, tenants)
            console.print(f"{count} Prüfpunkte gesetzt (Position und Hash je Protokoll).")
            return 0
        total = sum(h for (t, _), h in store.heads().items() if tenants is None or t in tenants)
        with _progress() as progress:
            task = progress.add_task("Hash-Kette prüfen", total=total)
            result = audit.verify(store, tenants, partial(progress.advance, task))
    finally:
        store.close()
    if result.intact:
        console.print(
            f"Unverändert: {result.events} Ereignisse in {result.logs} Protokollen,"
            " die Hash-Ketten sind lückenlos."
        )
        return 0
    for f in result.findings:
        console.print(
            f"[red]Manipulation oder Lücke: {f.tenant}/{f.context}, erste fehlerhafte"
            f" Position {f.position}: {f.reason}"
        )
    return 1


def _audit_export(args: argparse.Namespace, store: Any) -> int:
    """The tenant's full history as JSON lines plus a manifest of hashes beside it."""
    import io
    import json

    from runtime import audit
    from runtime.eventstore.jsonl import export_tenant, tenant_logs

    if not args.tenant or not args.out:
        console.print("[red]kim audit export braucht --tenant und --out.")
        return 2
    logs = tenant_logs(store, args.tenant)
    buffer = io.StringIO()
    with _progress() as progress:
        task = progress.add_task(f"Prüfexport {args.tenant}", total=sum(logs.values()))
        count = export_tenant(store, args.tenant, buffer, progress=partial(progress.advance, task))
    text = buffer.getvalue()
    out = Path(args.out)
    out.write_text(text, encoding="utf-8")
    manifest_path = out.with_name(out.name + ".manifest.json")
    manifest_path.write_text(
        json.dumps(audit.manifest(store, args.tenant, text), indent=2, ensure_ascii=False),
        encoding="utf-8",
    )
    console.print(f"{count} Ereignisse von {args.tenant} exportiert; Manifest: {manifest_path}")
    return 0


def _audit_report(args: argparse.Namespace, store: Any) -> int:
    """The Verwendungsnachweis of a notice and year, as of a date or log position."""
    from datetime import UTC, date, datetime, time

    from contexts.coordination.application import CoordinationApplication
    from contexts.coordination.statement import VacancyRule
    from contexts.shared.errors import DomainError
    from contexts.tenancy.application import TenancyApplication
    from services.audit.narrative import narrative
    from services.audit.report import build, euro, to_csv, to_pdf

    if not (args.tenant and args.notice and args.year):
        console.print("[red]kim audit report braucht --tenant, --notice und --year.")
        return 2
    until = None
    if args.as_of:
        try:
            until = datetime.combine(date.fromisoformat(args.as_of), time.max, tzinfo=UTC)
        except ValueError:
            console.print("[red]--as-of erwartet ein Datum wie 2022-12-31.")
            return 2
    app = CoordinationApplication(args.tenant, store.recorder)
    try:
        statement, history = build(
            store, app, args.notice, args.year, rule=VacancyRule(args.rule),
            upto=args.position, until=until,
        )  # fmt: skip
    except DomainError as e:
        console.print(f"[red]{e.detail}")
        return 1
    directory = TenancyApplication(store.recorder).directory()
    towns = [args.tenant, *directory.descendants(args.tenant)]
    story = narrative(store, towns, args.tenant, args.year, until=until)
    if args.format == "pdf":
        data = to_pdf(statement, args.tenant, history.position, story)
        if not args.out:
            console.print("[red]Für PDF bitte --out angeben.")
            return 2
        Path(args.out).write_bytes(data)
    else:
        text = to_csv(statement, args.tenant, history.position, story)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            print(text, end="")
    console.print(
        f"Verwendungsnachweis {statement.reference} {args.year}: Stand Position"
        f" {history.position}, verwendet {euro(statement.total('used'))} von"
        f" {euro(statement.total('granted'))} EUR."
    )
    return 0


def add_audit_parser(sub: Any) -> None:
    """``kim audit verify|checkpoint|export|report``."""
    audit = sub.add_parser("audit", help="Revisionssicherheit: Hash-Ketten prüfen, Prüfpunkte")
    audit.add_argument("action", choices=["verify", "checkpoint", "export", "report"])
    audit.add_argument("--tenant", default=None, help="nur diesen Mandanten")
    audit.add_argument("--out", default=None, help="Zieldatei (Export, Bericht)")
    audit.add_argument("--notice", default=None, help="Bescheid: Aktenzeichen oder ID")
    audit.add_argument("--year", type=int, default=None, help="Jahr des Verwendungsnachweises")
    audit.add_argument("--as-of", default=None, help="Stand am Ende dieses Tages (JJJJ-MM-TT)")
    audit.add_argument("--position", type=int, default=None, help="Stand an dieser Position")
    audit.add_argument(
        "--rule", default="twelfth_per_vacant_month",
        choices=["twelfth_per_vacant_month", "pro_rata_filled"],
        help="Regel für unbesetzte Monate",
    )  # fmt: skip
    audit.add_argument("--format", default="csv", choices=["csv", "pdf"])
    audit.set_defaults(func=cmd_audit)

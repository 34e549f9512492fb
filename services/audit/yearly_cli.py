"""``kim report yearly --tenant T --year Y [--as-of D] [--format md|pdf] [--out F]``: the
yearly report to the political bodies, with a progress bar of the replay on stderr."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from runtime.console import console, progress_bar
from runtime.settings import Settings


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from contexts.tenancy.application import TenancyApplication
    from runtime.eventstore import open_store
    from services.audit import yearly
    from services.audit.labels import PROVISIONAL
    from services.audit.yearly_md import to_markdown
    from services.audit.yearly_pdf import to_pdf

    if not 2000 <= args.year <= 2100:
        console.print("[red]--year erwartet ein Jahr zwischen 2000 und 2100.")
        return 2
    as_of = None
    if args.as_of:
        try:
            as_of = date.fromisoformat(args.as_of)
        except ValueError:
            console.print("[red]--as-of erwartet ein Datum wie 2022-12-31.")
            return 2
    if args.format == "pdf" and not args.out:
        console.print("[red]Für PDF bitte --out angeben.")
        return 2
    store = open_store(settings.event_store, pg_schema=settings.pg_schema)
    try:
        if TenancyApplication(store.recorder).directory().get(args.tenant) is None:
            console.print(f"[red]Den Mandanten {args.tenant} gibt es nicht (kim tenants).")
            return 2
        with progress_bar() as progress:

            def start(total: int, logs: list[tuple[str, str]]) -> yearly.Progress:
                task = progress.add_task(f"Protokolle lesen ({len(logs)})", total=total)
                return lambda n: progress.advance(task, n)

            report = yearly.prepare(store, args.tenant, args.year, as_of=as_of, progress=start)
    finally:
        store.close()
    if args.format == "pdf":
        Path(args.out).write_bytes(to_pdf(report))
    else:
        text = to_markdown(report)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            print(text, end="")
    if report.head.provisional:
        console.print(
            f"[yellow]{PROVISIONAL}: der Stichtag ist noch nicht vorbei, spätere Ereignisse"
            " können die Zahlen ändern. Für einen reproduzierbaren Bericht --as-of mit einem"
            " vergangenen Tag angeben."
        )
    where = f" nach {args.out}" if args.out else ""
    console.print(
        f"Jahresbericht {args.year} für {report.head.grantee()}{where}: Zahlen von"
        f" {len(report.tenants)} Mandanten, Stand {yearly_stand(report)}."
    )
    return 0


def yearly_stand(report: Any) -> str:
    head = report.head
    return head.as_of.strftime("%d.%m.%Y") if head.as_of else "heute (vorläufig)"


def add_report_parser(sub: Any) -> None:
    """``kim report yearly``: the group ``report`` with its one command so far."""
    report = sub.add_parser("report", help="Berichte aus den Ereignissen (Jahresbericht)")
    kinds = report.add_subparsers(dest="report", required=True)
    yearly = kinds.add_parser(
        "yearly",
        help="Jahresbericht an Sozialausschuss und Integrationsrat (Markdown oder PDF)",
        description="Jahresbericht eines Mandanten für ein Jahr, allein aus den Ereignissen"
        " berechnet (Stellen, Fälle, Fallzahl je Stelle, Versorgungslücken, Lenkungsgruppe,"
        " Baustein 3); jede Zahl nennt die Ereignisse, auf denen sie beruht.",
    )
    yearly.add_argument("--tenant", required=True, help="Mandant, z. B. rheine")
    yearly.add_argument("--year", type=int, required=True, help="Berichtsjahr")
    yearly.add_argument("--as-of", default=None, help="Stand am Ende dieses Tages (JJJJ-MM-TT)")
    yearly.add_argument("--format", default="md", choices=["md", "pdf"])
    yearly.add_argument("--out", default=None, help="Zieldatei (ohne: Markdown auf stdout)")
    yearly.set_defaults(func=cmd_report)

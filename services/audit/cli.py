"""``kim audit``: hash-chain verification, checkpoints, audit export, Verwendungsnachweis,
and the access log of one person's data (for a data subject's access request, Art. 15 GDPR)."""

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
        if args.action == "access-log":
            return _access_log(args, store)
        if args.action in ("statement", "report"):
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
    """The tenant's full history as JSON lines plus a manifest of hashes beside it.

    The manifest also names the tenant's registry entry and the towns below it with the
    number of their events: the export holds the tenant's own logs only, so a statement
    made from it can say which towns' figures are missing.
    """
    import io
    import json

    from contexts.tenancy.application import TenancyApplication
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
    manifest = audit.manifest(store, args.tenant, text)
    directory = TenancyApplication(store.recorder).directory()
    info = directory.get(args.tenant)
    if info is not None:
        manifest["tenant_info"] = {
            "name": info.name, "kind": info.kind.value, "parent": info.parent, "ags": info.ags,
        }  # fmt: skip
    members = {
        town: {
            "name": town_info.name if (town_info := directory.get(town)) else None,
            "events": sum(tenant_logs(store, town).values()),
        }
        for town in directory.descendants(args.tenant)
    }
    manifest["members"] = members
    manifest_path = out.with_name(out.name + ".manifest.json")
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    console.print(f"{count} Ereignisse von {args.tenant} exportiert; Manifest: {manifest_path}")
    left_out = [f"{town} ({m['events']} Ereignisse)" for town, m in members.items() if m["events"]]
    if left_out:
        console.print(
            f"[yellow]Hinweis: Der Export enthält nur {args.tenant}; nicht enthalten sind die"
            f" Mitgliedsstädte {', '.join(left_out)}. Exportieren Sie sie einzeln, sonst fehlen"
            " ihre Zahlen im Sachbericht (der Nachweis nennt sie als fehlende Mandanten)."
        )
    return 0


ACCESS_LOG_HEADER = ["Zeitpunkt (UTC)", "Wer", "Rollen", "Stelle", "Daten", "Zweck", "Fall"]
ACCESS_LOG_HEADER += ["Zugang", "Eintrag"]
PURPOSES = {
    "case": "Fallbearbeitung",
    "supervision": "Fachaufsicht",
    "approval": "Genehmigung (Fachaufsicht)",
    "registration": "Erfassung (vor dem ersten Fall)",
    "audit": "Prüfung",
}


def _access_log(args: argparse.Namespace, store: Any) -> int:
    """Who read the person's data when, why: from the index of reads by person."""
    import csv
    import io
    import json
    from uuid import UUID

    from contexts.audit.application import AuditApplication
    from contexts.tenancy.application import TenancyApplication

    if not args.tenant or not args.person:
        console.print("[red]kim audit access-log braucht --tenant und --person.")
        return 2
    if args.format == "pdf":
        console.print("[red]Das Zugriffsprotokoll gibt es als csv oder json.")
        return 2
    try:
        person = UUID(args.person)
    except ValueError:
        console.print(f"[red]--person erwartet die ID der Person (UUID), nicht {args.person!r}.")
        return 2
    if TenancyApplication(store.recorder).directory().get(args.tenant) is None:
        console.print(f"[red]Mandant {args.tenant} ist nicht registriert.")
        return 2
    app = AuditApplication(args.tenant, store.recorder)
    with _progress() as progress:
        task = progress.add_task("Zugriffsprotokoll lesen", total=app.count_reads_of(person))
        reads = app.reads_of(person, progress=partial(progress.advance, task))
    rows: list[dict[str, Any]] = [
        {
            "at": r.created_on.isoformat(timespec="seconds"),
            "reader": r.reader,
            "roles": r.roles,
            "position": r.position,
            "fields": r.fields,
            "purpose": r.purpose,
            "case_id": r.case_id,
            "channel": r.channel,
            "entry": str(r.id),
        }
        for r in reads
    ]
    if args.format == "json":
        text = json.dumps(
            {"tenant": args.tenant, "person": str(person), "reads": rows},
            indent=2, ensure_ascii=False,
        )  # fmt: skip
        text += "\n"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
        writer.writerow(ACCESS_LOG_HEADER)
        for row in rows:
            writer.writerow([
                row["at"], row["reader"], ", ".join(row["roles"]), row["position"] or "",
                ", ".join(row["fields"]), PURPOSES.get(row["purpose"], row["purpose"]),
                row["case_id"] or "", "REST" if row["channel"] == "rest" else "GraphQL",
                row["entry"],
            ])  # fmt: skip
        text = buffer.getvalue()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    console.print(
        f"{len(rows)} Zugriffe auf Daten der Person {person} bei {args.tenant}"
        " (ohne die Daten selbst)."
    )
    return 0


def _audit_report(args: argparse.Namespace, store: Any) -> int:
    """The Verwendungsnachweis of a notice and year, as of a date or log position."""
    import json
    from datetime import date

    from contexts.coordination.statement import VacancyRule
    from contexts.shared.errors import DomainError
    from services.audit.report import PROVISIONAL, euro, prepare, to_csv, to_pdf

    if not (args.tenant and args.notice and args.year):
        console.print("[red]kim audit statement braucht --tenant, --notice und --year.")
        return 2
    if args.format == "json":
        console.print("[red]Den Verwendungsnachweis gibt es als csv oder pdf.")
        return 2
    if args.format == "pdf" and not args.out:
        console.print("[red]Für PDF bitte --out angeben.")
        return 2
    as_of = None
    if args.as_of:
        try:
            as_of = date.fromisoformat(args.as_of)
        except ValueError:
            console.print("[red]--as-of erwartet ein Datum wie 2022-12-31.")
            return 2
    manifest = None
    if args.manifest:
        try:
            manifest = json.loads(Path(args.manifest).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            console.print(f"[red]Manifest {args.manifest} nicht lesbar: {e}")
            return 2
        if manifest.get("tenant") != args.tenant:
            console.print(
                f"[red]Das Manifest gehört zu {manifest.get('tenant')!r}, nicht zu {args.tenant}."
            )
            return 2
    try:
        statement, head, story = prepare(
            store, args.tenant, args.notice, args.year, rule=VacancyRule(args.rule),
            as_of=as_of, position=args.position, manifest=manifest,
        )  # fmt: skip
    except DomainError as e:
        console.print(f"[red]{e.detail}")
        return 1
    if args.format == "pdf":
        Path(args.out).write_bytes(to_pdf(statement, head, story=story))
    else:
        text = to_csv(statement, head, story=story)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            print(text, end="")
    if head.provisional:
        console.print(
            f"[yellow]{PROVISIONAL}: der Stichtag ist noch nicht vorbei, spätere Ereignisse"
            " können die Zahlen ändern. Für einen reproduzierbaren Nachweis --as-of mit einem"
            " vergangenen Tag oder --position angeben."
        )
    if head.missing:
        console.print(
            f"[yellow]Warnung: Fehlende Mandanten: {', '.join(head.missing)} – deren Zahlen"
            " fehlen. Der Datenbestand enthält keine Protokolle dieser Mitgliedsstädte;"
            " importieren Sie auch deren Prüfexport."
        )
    if not head.directory_known and manifest is None:
        console.print(
            "[yellow]Hinweis: Das Mandantenverzeichnis ist nicht im Datenbestand. Mit"
            " --manifest (dem Manifest des Prüfexports) nennt der Nachweis Name und"
            " Mitgliedsstädte des Mandanten."
        )
    console.print(
        f"Verwendungsnachweis {statement.reference} {args.year}: Stand Position"
        f" {head.position}, verwendet {euro(statement.total('used'))} von"
        f" {euro(statement.total('granted'))} EUR."
    )
    return 0


def add_audit_parser(sub: Any) -> None:
    """``kim audit verify|checkpoint|export|statement|access-log`` (``report``: the old name)."""
    audit = sub.add_parser("audit", help="Revisionssicherheit: Hash-Ketten prüfen, Prüfpunkte")
    audit.add_argument(
        "action", choices=["verify", "checkpoint", "export", "statement", "report", "access-log"],
        help="statement (auch: report): Verwendungsnachweis; access-log: Zugriffe auf die Daten"
        " einer Person (Auskunft nach Art. 15 DSGVO)",
    )  # fmt: skip
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
    audit.add_argument("--person", default=None, help="ID der Person (Zugriffsprotokoll)")
    audit.add_argument("--format", default="csv", choices=["csv", "pdf", "json"])
    audit.add_argument(
        "--manifest", default=None,
        help="Manifest des importierten Prüfexports (nennt Name und Mitgliedsstädte)",
    )  # fmt: skip
    audit.set_defaults(func=cmd_audit)

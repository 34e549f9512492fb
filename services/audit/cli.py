"""``kim audit``: hash-chain verification, checkpoints, audit export, Verwendungsnachweis,
and the access log of one person's data (for a data subject's access request, Art. 15 GDPR)."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.console import console
from runtime.console import progress_bar as _progress
from runtime.settings import Settings

if TYPE_CHECKING:
    from runtime.signing import AuditorFile


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """``kim audit verify`` (exit 0 intact, 1 broken, 3 not yet covered) and ``checkpoint``."""
    from runtime import audit
    from runtime.eventstore import open_store
    from services.audit.labels import chain_reason

    if args.action == "checkpoint" and args.init_key:
        return _init_signing_key(settings)
    against = None
    if args.action == "verify" and args.against:
        against = _read_against(args.against)
        if against is None:
            return 2
    store = open_store(settings.event_store, pg_schema=settings.pg_schema)
    tenants = [args.tenant] if args.tenant else None
    try:
        if args.action == "export":
            return _audit_export(args, store)
        if args.action == "access-log":
            from services.audit.access_log_cli import access_log

            return access_log(args, store)
        if args.action in ("statement", "report"):
            return _audit_report(args, store)
        if args.action == "checkpoint":
            return _checkpoint(args, settings, store, tenants)
        total = sum(h for (t, _), h in store.heads().items() if tenants is None or t in tenants)
        with _progress() as progress:
            task = progress.add_task("Hash-Kette prüfen", total=total)
            result = audit.verify(
                store, tenants, partial(progress.advance, task),
                against=against.heads if against is not None else None,
            )  # fmt: skip
    finally:
        store.close()
    for f in result.findings:
        console.print(
            f"[red]Manipulation oder Lücke: {f.tenant}/{f.context}, erste fehlerhafte"
            f" Position {f.position}: {chain_reason(f.reason)}"
        )
    if result.findings:
        return result.exit_code
    if result.uncovered:  # a forged tail never reads as intact
        console.print(
            f"Keine Abweichung in {result.events} Ereignissen in {result.logs} Protokollen,"
            " aber nicht alle sind durch signierte Prüfpunkte abgedeckt:"
        )
    else:
        console.print(
            f"Unverändert: {result.events} Ereignisse in {result.logs} Protokollen,"
            " die Hash-Ketten sind lückenlos."
        )
    if not result.against:
        console.print(
            "Ohne --against zeigt das nur, dass Ereignisse, Kopfzeilen und Prüfpunkte des"
            " Datenbestands zueinander passen; gegen eine Neuberechnung der ganzen Kette"
            " schützen erst die signierten Prüfpunkte, die ein Prüfer aufbewahrt."
        )
    for (tenant, context), (signed, last) in sorted(result.uncovered.items()):
        console.print(
            f"[yellow]Noch nicht abgedeckt: {tenant}/{context}, Positionen {signed + 1} bis"
            f" {last} folgen dem letzten signierten Prüfpunkt ({signed}); ob sie echt sind,"
            " zeigt erst ein späterer Prüfpunkt."
        )
    return result.exit_code


def _read_against(path: str) -> AuditorFile | None:
    from runtime.signing import read_auditor_file

    try:
        found = read_auditor_file(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as e:
        console.print(f"[red]Prüfpunktdatei {path} nicht lesbar: {e}")
        return None
    if not found.public_keys:
        console.print(f"[red]Prüfpunktdatei {path} enthält keinen öffentlichen Schlüssel.")
        return None
    for h in found.unsigned:
        console.print(
            f"[yellow]Prüfpunkt {h.tenant}/{h.context} {h.position} in {path}: die Signatur"
            " passt nicht zum Schlüssel der Datei; er wird nicht verwendet."
        )
    return found


def _init_signing_key(settings: Settings) -> int:
    from runtime.signing import create_signing_key, load_signer, signing_key_of

    path, _create = signing_key_of(settings)
    if path is None:
        console.print("[red]Mit PostgreSQL bitte KIM_SIGNING_KEY_FILE angeben.")
        return 2
    try:
        create_signing_key(path)
    except FileExistsError:
        console.print(f"[red]Signaturschlüssel {path} gibt es schon; er wird nicht ersetzt.")
        return 2
    signer = load_signer(path)
    console.print(
        f"Signaturschlüssel {path} angelegt (Ed25519, Schlüssel {signer.key_id}). Er gehört"
        " nicht in die Datenbank und nicht in ihre Datensicherung. Öffentlicher Schlüssel:"
        f" {signer.public_key}"
    )
    return 0


def _checkpoint(
    args: argparse.Namespace, settings: Settings, store: Any, tenants: list[str] | None
) -> int:
    from runtime import audit
    from runtime.signing import SigningKeyProblem, export_lines, open_signer

    try:
        signer = open_signer(settings, store)
    except SigningKeyProblem as e:
        console.print(f"[red]{e}")
        return 2
    if signer is None and args.export:
        console.print(
            "[red]Ohne Signaturschlüssel (KIM_SIGNING_KEY_FILE) gibt es nichts zu exportieren."
        )
        return 2
    count = audit.checkpoint(store, tenants, signer)
    if signer is None:
        console.print(
            f"[yellow]{count} Prüfpunkte ungezeichnet gesetzt: KIM_SIGNING_KEY_FILE fehlt."
        )
        return 0
    console.print(f"{count} Prüfpunkte gesetzt und signiert (Schlüssel {signer.key_id}).")
    if args.export:
        heads = [h for h in store.signed_checkpoints(args.tenant) if h.key_id == signer.key_id]
        Path(args.export).write_text(export_lines(signer.public_key, heads), encoding="utf-8")
        console.print(
            f"{len(heads)} signierte Prüfpunkte mit dem öffentlichen Schlüssel nach"
            f" {args.export} exportiert; bewahren Sie die Datei außerhalb der Plattform auf."
        )
    return 0


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
    audit = sub.add_parser(
        "audit",
        help="Revisionssicherheit: Hash-Ketten prüfen, Prüfpunkte",
        description="verify: Exit-Code 0 unverändert (mit --against: bis zum letzten"
        " signierten Prüfpunkt jedes Protokolls), 1 Manipulation oder Lücke, 2 falscher"
        " Aufruf, 3 unverändert, aber Ereignisse nach dem letzten signierten Prüfpunkt (noch"
        " nicht abgedeckt).",
    )
    audit.add_argument(
        "action", choices=["verify", "checkpoint", "export", "statement", "report", "access-log"],
        help="statement (auch: report): Verwendungsnachweis; access-log: Zugriffe auf die Daten"
        " einer Person (Auskunft nach Art. 15 DSGVO)",
    )  # fmt: skip
    audit.add_argument("--tenant", default=None, help="nur diesen Mandanten")
    audit.add_argument(
        "--against", default=None, metavar="FILE",
        help="verify: gegen die signierten Prüfpunkte dieser Datei (kim audit checkpoint"
        " --export) prüfen, mit deren öffentlichem Schlüssel",
    )  # fmt: skip
    audit.add_argument(
        "--export", default=None, metavar="FILE",
        help="checkpoint: alle signierten Prüfpunkte mit dem öffentlichen Schlüssel als JSON"
        " Lines in diese Datei",
    )  # fmt: skip
    audit.add_argument(
        "--init-key", action="store_true",
        help="checkpoint: den Ed25519-Signaturschlüssel anlegen (KIM_SIGNING_KEY_FILE)",
    )  # fmt: skip
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
    from services.audit.yearly_cli import add_report_parser

    add_report_parser(sub)  # ``kim report yearly``: built on the statement's replay

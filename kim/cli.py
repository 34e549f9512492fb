"""``kim``: the platform's command line (messages for staff in German)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from runtime.console import console
from runtime.console import progress_bar as _progress
from runtime.settings import Settings, get_settings, production_problems


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from kim.assembly import SERVICES, build_app

    services = [args.service] if args.service else None
    if args.service and args.service not in SERVICES:
        console.print(f"[red]Unbekannter Dienst {args.service!r}; bekannt: {', '.join(SERVICES)}")
        return 2
    problems = production_problems(settings)
    if problems:
        console.print(
            "[red]KIM startet nicht: in Produktion (KIM_JWKS_URL gesetzt) braucht es eigene"
            " Geheimnisse statt der Entwicklungsvorgaben."
        )
        for problem in problems:
            console.print(f"[red]✗[/red] {problem}")
        return 2
    from runtime.key_epochs import KeyFileProblem, check_keys

    try:  # the key-encryption keys (ADR 0006): KIM_KEY_FILE, or the embedded default
        created = check_keys(settings)
    except KeyFileProblem as e:
        console.print(f"[red]KIM startet nicht: {e}")
        return 2
    if created:
        console.print(f"[yellow]{created}")
    from runtime.signing import SigningKeyProblem, check_signing

    try:  # the key signing the chain's checkpoints (ADR 0003): KIM_SIGNING_KEY_FILE
        unsigned = check_signing(settings)
    except SigningKeyProblem as e:
        console.print(f"[red]KIM startet nicht: {e}")
        return 2
    if unsigned:
        console.print(f"[yellow]{unsigned}")
    if args.demo:
        cmd_demo(args, settings)
    app = build_app(settings, services)
    console.print(f"KIM läuft auf http://{args.host}:{args.port}")
    served = list(SERVICES) if services is None else services  # only what this process serves
    apis = "  ".join(f"/{name}" for name in served if name != "gateway")
    console.print("API-Dokumentation: /docs" + (f"   REST: {apis}" if apis else ""))
    if "gateway" in served:
        console.print("GraphQL (GraphiQL): /graphql")
    console.print(f"Ereignisspeicher: {settings.event_store}   Bus: {settings.bus}")
    # h11 caps what it buffers of a request head: a huge header is dropped while it arrives
    # (httptools has no such cap); the edge's middleware refuses heads over the limit (431).
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        http="h11",
        h11_max_incomplete_event_size=2 * settings.max_header_bytes + 8192,
        timeout_graceful_shutdown=max(1, round(settings.stop_timeout)),  # then the lifespan
    )
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from kim.demo import load_demo
    from runtime.platform import Platform

    platform = Platform(settings)
    try:
        done = load_demo(platform)
    finally:
        platform.close()
    if done:
        for line in done:
            console.print(f"[green]✓[/green] {line}")
    else:
        console.print("Demo-Daten sind bereits vollständig geladen; nichts geändert.")
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from uuid import UUID

    from runtime.http.auth import Role, mint_token

    position = None
    if args.position:
        try:
            position = UUID(args.position)
        except ValueError:
            console.print("[red]--position muss die UUID einer Stelle sein")
            return 2
    try:
        token = mint_token(
            settings,
            tenant=args.tenant,
            roles=args.role,
            subject=args.subject,
            position=position,
            mandate=args.mandate,
            ttl_seconds=args.ttl,
        )
    except ValueError:
        console.print(f"[red]Unbekannte Rolle; erlaubt: {', '.join(r.value for r in Role)}")
        return 2
    print(token)
    return 0


def cmd_tenants(args: argparse.Namespace, settings: Settings) -> int:
    from runtime.platform import Platform

    platform = Platform(settings)
    try:
        directory = platform.directory(refresh=True)
        for key in sorted(directory.tenants):
            t = directory.tenants[key]
            held = ", ".join(f"{o}→{h}" for o, h in t.offices_held_by.items())
            print(f"{t.key:24} {t.kind:20} {t.ags or '':9} {t.parent or '':18} {t.name} {held}")
    finally:
        platform.close()
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from runtime.eventstore import open_store
    from runtime.eventstore.jsonl import export_tenant, tenant_logs

    store = open_store(settings.event_store, pg_schema=settings.pg_schema)
    try:
        logs = tenant_logs(store, args.tenant, args.context)
        if not logs:
            console.print(f"[yellow]Mandant {args.tenant!r} hat keine Ereignisse.")
        out: TextIO = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
        try:
            with _progress() as progress:
                task = progress.add_task(f"Export {args.tenant}", total=sum(logs.values()))
                count = export_tenant(
                    store,
                    args.tenant,
                    out,
                    context=args.context,
                    progress=lambda n: progress.advance(task, n),
                )
        finally:
            if args.out:
                out.close()
    finally:
        store.close()
    console.print(f"{count} Ereignisse von {args.tenant} exportiert.")
    return 0


def reindex(settings: Settings) -> int:
    """Rebuild the index entries an import does not carry (ADR 0004), with progress."""
    from kim.contexts import CONTEXTS
    from runtime.platform import Platform

    platform = Platform(settings)
    try:
        apps = {s.name: s.application for s in CONTEXTS if s.application is not None}
        logs = [(t, c) for (t, c) in sorted(platform.store.heads()) if c in apps]
        entries = 0
        with _progress() as progress:
            task = progress.add_task("Indizes neu aufbauen", total=len(logs))
            for tenant, context in logs:
                entries += apps[context](platform, tenant).reindex()
                progress.advance(task)
    finally:
        platform.close()
    return entries


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    entries = reindex(settings)
    console.print(f"{entries} Indexeinträge neu aufgebaut.")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from runtime.eventstore import LogNotEmpty, open_store
    from runtime.eventstore.jsonl import import_jsonl

    path = Path(args.file)
    if not path.is_file():
        console.print(f"[red]Datei {path} nicht gefunden.")
        return 2
    lines = path.read_text(encoding="utf-8").splitlines()
    store = open_store(settings.event_store, pg_schema=settings.pg_schema)
    try:
        with _progress() as progress:
            task = progress.add_task(f"Import {path.name}", total=len(lines))
            count = import_jsonl(store, lines, lambda n: progress.advance(task, n))
        manifest_path = path.with_name(path.name + ".manifest.json")
        if manifest_path.is_file():
            import json

            from runtime import audit

            problems = audit.check_against_manifest(
                store, json.loads(manifest_path.read_text(encoding="utf-8"))
            )
            verification = audit.verify(store)
            problems += [
                f"{f.tenant}/{f.context} Position {f.position}: {f.reason}"
                for f in verification.findings
            ]
            if problems:
                for problem in problems:
                    console.print(f"[red]Abweichung vom Manifest: {problem}")
                return 1
            console.print("Manifest geprüft: Ereignisse und Hash-Ketten stimmen überein.")
    except LogNotEmpty as e:
        console.print(f"[red]Import abgelehnt: {e}. Importieren Sie in einen leeren Speicher.")
        return 1
    except ValueError as e:
        console.print(f"[red]Import abgelehnt: {e}")
        return 1
    finally:
        store.close()
    reindex(settings)
    console.print(f"{count} Ereignisse importiert.")
    return 0


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from kim.replay_cli import cmd_replay

    return cmd_replay(args, settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kim",
        description="KIM-Plattform: Kommunales Integrationsmanagement NRW. "
        "Der Ereignisspeicher kommt aus KIM_EVENT_STORE, der Bus aus KIM_BUS.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="Plattform starten (alle Kontexte und GraphQL)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--service", help="nur diesen Dienst starten (z. B. coordination)")
    serve.add_argument("--demo", action="store_true", help="vorher die Demo-Daten laden")
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="Demo-Mandanten und -Daten laden (idempotent)")
    demo.set_defaults(func=cmd_demo)

    token = sub.add_parser("token", help="Entwicklungs-Token ausgeben")
    token.add_argument("--tenant", required=True)
    token.add_argument("--role", action="append", required=True, help="mehrfach möglich")
    token.add_argument("--subject", default=None)
    token.add_argument(
        "--position",
        default=None,
        help="UUID der eigenen Stelle (Fallmanagement-Stelle bzw. Koordinierungsstelle)",
    )
    token.add_argument(
        "--mandate", action="append", default=None,
        help="Mandant im Prüfauftrag (für Prüfer:innen, mehrfach möglich)",
    )  # fmt: skip
    token.add_argument("--ttl", type=int, default=8 * 3600, help="Gültigkeit in Sekunden")
    token.set_defaults(func=cmd_token)

    tenants = sub.add_parser("tenants", help="registrierte Mandanten anzeigen")
    tenants.set_defaults(func=cmd_tenants)

    export = sub.add_parser("export", help="Ereignisse eines Mandanten als JSON Lines exportieren")
    export.add_argument("--tenant", required=True)
    export.add_argument("--context", default=None)
    export.add_argument("--out", default=None, help="Datei (Standard: Standardausgabe)")
    export.set_defaults(func=cmd_export)

    replay = sub.add_parser("replay", help="Lesemodelle aus dem Ereignisprotokoll neu aufbauen")
    replay.add_argument("--tenant", default=None, help="nur diesen Mandanten")
    replay.add_argument("--projection", default=None, help="nur diese Projektion")
    replay.add_argument("--as-of", default=None, help="Stand am Ende dieses Tages (JJJJ-MM-TT)")
    replay.add_argument(
        "--position", type=int, default=None, help="Stand an dieser Protokollposition"
    )
    replay.add_argument("--into", default=None, help="Lesemodelle in diese SQLite-Datei")
    replay.add_argument(
        "--workers", type=int, default=None,
        help="Prozesse für den Neuaufbau (Standard: Anzahl der CPUs; 1 = im eigenen Prozess)",
    )  # fmt: skip
    replay.set_defaults(func=_replay)

    from kim.cluster_cli import add_commands as add_cluster_commands
    from kim.contexts import CONTEXTS
    from kim.keys_cli import add_commands as add_key_commands

    add_key_commands(sub)
    add_cluster_commands(sub)
    for spec in CONTEXTS:
        if spec.cli is not None:
            spec.cli(sub)

    imp = sub.add_parser("import", help="JSON-Lines-Export in einen leeren Speicher importieren")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_import)
    rebuild = sub.add_parser(
        "reindex", help="Indizes (z. B. Fallzahl je Stelle) aus dem Ereignisprotokoll neu aufbauen"
    )
    rebuild.set_defaults(func=cmd_reindex)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    if getattr(args, "host", None) is None and hasattr(args, "host"):
        args.host = settings.host
    if getattr(args, "port", None) is None and hasattr(args, "port"):
        args.port = settings.port
    if (refused := _check_database(args.command, settings)) is not None:
        return refused
    try:
        result: int = args.func(args, settings)
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        from runtime.eventstore import unavailable
        from runtime.eventstore.outage import DatabaseRolesMissing

        if not unavailable(e):
            raise
        console.print(f"Die Datenbank ist nicht verfügbar: {e}", style="red", markup=False)
        return 2 if isinstance(e, DatabaseRolesMissing) else 1
    return result


def _check_database(command: str, settings: Settings) -> int | None:
    """The database roles (deploy/README.md, "Database roles"), before a command opens the
    store: exit code 2 with what is missing and the SQL to run."""
    if command == "token":
        return None
    from runtime.eventstore import DbTimeouts
    from runtime.eventstore.postgres_roles import startup_check

    found = startup_check(settings.event_store, settings.pg_schema, DbTimeouts.of(settings))
    if found is None:
        return None
    code, message = found
    console.print(message, style="red" if code else "yellow", markup=False)
    return code or None


if __name__ == "__main__":
    sys.exit(main())

"""``kim cluster``: the separate processes on one machine, under supervisord, behind nginx.

``kim cluster up`` writes a supervisord configuration (and, with nginx installed, the rendered
proxy configuration of ``deploy/nginx/kim.conf``) into a run directory and replaces itself by
``supervisord -n``: one program per service (``<this python> -m kim.cli serve --service X``),
restarted when it dies, all stopped within seconds on SIGTERM or Ctrl-C. ``kim cluster status``
asks that supervisord over the unix socket in the run directory. Messages are German.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import xmlrpc.client
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from kim.cluster_config import (
    DEFAULT_DIR,
    TEMPLATE,
    ClusterPlan,
    nginx_args,
    nginx_values,
    plan_cluster,
    render_proxy,
    write_run_dir,
)
from runtime.console import console
from runtime.settings import Settings


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 3
        ):
            return True
    except OSError:
        return False


def refusals(settings: Settings, plan: ClusterPlan) -> list[str]:
    """Why the cluster cannot start (German), [] when it can."""
    problems = []
    if not settings.event_store.startswith(("postgresql://", "postgres://")):
        problems.append(
            "Getrennte Prozesse brauchen PostgreSQL: KIM_EVENT_STORE=postgresql://... setzen"
            " (der eingebettete SQLite-Speicher gehört einem Prozess; dafür `kim serve`)."
        )
    elif not _reachable(settings.event_store, 5432):
        problems.append(f"PostgreSQL ist unter {_safe(settings.event_store)} nicht erreichbar.")
    if settings.bus == "memory":
        problems.append(
            "Getrennte Prozesse brauchen NATS JetStream: KIM_BUS=nats://... setzen"
            " (der prozessinterne Bus verbindet keine Prozesse; dafür `kim serve`)."
        )
    elif not _reachable(settings.bus.split(",")[0], 4222):
        problems.append(f"NATS ist unter {settings.bus.split(',')[0]} nicht erreichbar.")
    if not settings.key_file:
        problems.append(
            "KIM_KEY_FILE fehlt: einmal `kim keys init --file <pfad>` ausführen und"
            " KIM_KEY_FILE=<pfad> setzen (derselbe Schlüssel für alle Prozesse)."
        )
    elif not Path(settings.key_file).is_file():
        problems.append(
            f"Schlüsseldatei {settings.key_file} fehlt: `kim keys init --file"
            f" {settings.key_file}` ausführen."
        )
    ports = [*plan.ports.values(), *([plan.proxy_port] if plan.nginx else [])]
    taken = [str(p) for p in ports if _port_taken(plan.host, p)]
    if taken:
        problems.append(
            f"Port(s) {', '.join(taken)} auf {plan.host} sind belegt; KIM_CLUSTER_BASE_PORT"
            " bzw. KIM_PROXY_PORT ändern."
        )
    if plan.socket_path.exists() and _rpc(plan.run_dir, quiet=True) is not None:
        problems.append(f"In {plan.run_dir} läuft bereits ein Cluster (kim cluster status).")
    return problems


def _safe(dsn: str) -> str:
    """The DSN without a password, for messages."""
    parsed = urlparse(dsn)
    if parsed.password:
        return dsn.replace(f":{parsed.password}@", ":***@")
    return dsn


def check_nginx(plan: ClusterPlan) -> str | None:
    """nginx's own check of the rendered configuration; its complaint, or None."""
    import subprocess

    assert plan.nginx
    done = subprocess.run(  # noqa: S603 - our own nginx, our own arguments
        [plan.nginx, *nginx_args(plan), "-t", "-q"], capture_output=True, text=True, check=False
    )
    return None if done.returncode == 0 else (done.stderr or done.stdout).strip()


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    plan = plan_cluster(settings, Path(args.dir), proxy=not args.no_proxy)
    problems = refusals(settings, plan)
    if problems:
        console.print("[red]Der Cluster startet nicht:")
        for problem in problems:
            console.print(f"[red]✗[/red] {problem}")
        return 2
    if plan.nginx and not TEMPLATE.is_file():
        console.print(f"[yellow]Vorlage {TEMPLATE} fehlt: kein Proxy.")
        plan.nginx = None
    conf = write_run_dir(plan)
    if plan.nginx:
        complaint = check_nginx(plan)
        if complaint:
            console.print(f"[red]Die nginx-Konfiguration ist ungültig:[/red] {complaint}")
            return 2
    if args.demo:
        from kim.cli import cmd_demo

        cmd_demo(args, settings)
    _banner(plan, args.dir, no_proxy=args.no_proxy)
    sys.stdout.flush()
    sys.stderr.flush()
    # supervisord takes over this process: SIGTERM or Ctrl-C to it stops every program.
    argv = [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(conf)]
    os.execv(sys.executable, argv)  # noqa: S606 - this interpreter, our arguments
    return 0  # pragma: no cover - execv does not return


def _banner(plan: ClusterPlan, shown_dir: str, *, no_proxy: bool) -> None:
    console.print(f"KIM-Cluster aus {shown_dir} (supervisord; Protokolle in {shown_dir}/logs):")
    for service, port in plan.ports.items():
        console.print(f"  {service:20} http://{plan.host}:{port}")
    if plan.nginx:
        console.print(
            f"  {'Proxy (nginx)':20} http://{plan.host}:{plan.proxy_port}"
            "  /<kontext>/..., /graphql, /<dienst>/docs"
        )
    elif no_proxy:
        console.print("Ohne Proxy (--no-proxy): die Dienste sind über ihre Ports erreichbar.")
    else:
        console.print(
            "[yellow]nginx ist nicht installiert: kein Proxy; die Dienste sind über ihre Ports"
            " erreichbar. Debian: apt-get install nginx-light"
        )
    console.print(f"Beenden mit Strg-C; Zustand: kim cluster status --dir {shown_dir}")


def _rpc(run_dir: Path, *, quiet: bool = False) -> Any | None:
    """The supervisord of ``run_dir`` (XML-RPC over its unix socket), None if none answers."""
    from supervisor.xmlrpc import SupervisorTransport  # type: ignore[import-untyped]

    sock = run_dir.resolve() / "supervisor.sock"
    transport = SupervisorTransport(None, None, f"unix://{sock}")
    proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
    try:
        proxy.supervisor.getState()
    except (OSError, xmlrpc.client.Error):
        if not quiet:
            console.print(f"[red]In {run_dir} läuft kein Cluster (kein supervisord am Socket).")
        return None
    return proxy


def cluster_status(run_dir: Path) -> list[dict[str, Any]] | None:
    """Each program: name, state, pid (0 when not running), port; None without a cluster."""
    proxy = _rpc(run_dir)
    if proxy is None:
        return None
    info = json.loads((run_dir / "cluster.json").read_text(encoding="utf-8"))
    ports: dict[str, int] = {**info["ports"], "nginx": info["proxy_port"]}
    return [
        {"name": p["name"], "state": p["statename"], "pid": p["pid"], "port": ports.get(p["name"])}
        for p in proxy.supervisor.getAllProcessInfo()
    ]


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    rows = cluster_status(Path(args.dir))
    if rows is None:
        return 1
    if args.json:
        print(json.dumps(rows))
        return 0
    console.print(f"{'Dienst':20} {'Zustand':10} {'PID':>8} Port")
    for row in sorted(rows, key=lambda r: r["port"] or 0):
        console.print(f"{row['name']:20} {row['state']:10} {row['pid'] or '-':>8} {row['port']}")
    return 0 if all(row["state"] == "RUNNING" for row in rows) else 3


def cmd_stop(args: argparse.Namespace, settings: Settings) -> int:
    proxy = _rpc(Path(args.dir))
    if proxy is None:
        return 1
    proxy.supervisor.shutdown()
    console.print("Cluster wird beendet.")
    return 0


def cmd_proxy_config(args: argparse.Namespace, settings: Settings) -> int:
    """The proxy configuration for hosts of their own (compose: one container per service)."""
    plan = plan_cluster(settings, Path(args.run_dir))
    values = nginx_values(plan)
    values["proxy_listen"] = args.listen or values["proxy_listen"]
    for service in plan.ports:
        values[f"{service}_host"] = args.upstream_host.format(service=service.replace("_", "-"))
    text = render_proxy(values, list(plan.ports))
    if args.out == "-":
        print(text, end="")
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        console.print(f"nginx-Konfiguration nach {args.out} geschrieben.")
    return 0


def add_commands(sub: Any) -> None:
    """Register ``kim cluster up|status|stop``."""
    cluster = sub.add_parser(
        "cluster", help="getrennte Prozesse (PostgreSQL + NATS) unter supervisord hinter nginx"
    )
    actions = cluster.add_subparsers(dest="cluster_command", required=True)
    up = actions.add_parser("up", help="alle Dienste starten (Vordergrund; Strg-C beendet)")
    up.add_argument("--dir", default=DEFAULT_DIR, help="Laufverzeichnis (Standard: ./kim-cluster)")
    up.add_argument("--demo", action="store_true", help="vorher die Demo-Daten laden")
    up.add_argument("--no-proxy", action="store_true", help="ohne nginx starten")
    up.set_defaults(func=cmd_up)
    status = actions.add_parser("status", help="Dienste, PIDs, Zustand und Ports anzeigen")
    status.add_argument("--dir", default=DEFAULT_DIR)
    status.add_argument("--json", action="store_true", help="als JSON ausgeben")
    status.set_defaults(func=cmd_status)
    stop = actions.add_parser("stop", help="den laufenden Cluster beenden")
    stop.add_argument("--dir", default=DEFAULT_DIR)
    stop.set_defaults(func=cmd_stop)
    proxy = actions.add_parser(
        "proxy-config", help="nur die nginx-Konfiguration schreiben (z. B. für Container)"
    )
    proxy.add_argument("--out", default="-", help="Datei (Standard: Standardausgabe)")
    proxy.add_argument(
        "--listen", default=None, help="Adresse:Port (Standard: KIM_HOST:KIM_PROXY_PORT)"
    )
    proxy.add_argument(
        "--upstream-host", default="127.0.0.1",
        help="Host der Dienste; {service} wird ersetzt (z. B. kim-{service})",
    )  # fmt: skip
    proxy.add_argument("--run-dir", default=DEFAULT_DIR, help="Verzeichnis für pid und Protokolle")
    proxy.set_defaults(func=cmd_proxy_config)

"""The run directory of ``kim cluster up``: supervisord's configuration and nginx's.

Pure rendering, no processes: ``kim/cluster_cli.py`` starts them. The proxy configuration is
``deploy/nginx/kim.conf`` with its double-braced placeholders filled in.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from runtime.settings import Settings

FIRST_SERVICES = ("tenancy", "coordination", "case_management", "audit", "gateway")
"""These keep their ports (``KIM_CLUSTER_BASE_PORT`` + their index); services added later
(``kim/assembly.py``'s ``SERVICES``) follow them in the order of that list."""


def service_order() -> list[str]:
    """Every deployable service, in port order."""
    from kim.assembly import SERVICES

    return [s for s in FIRST_SERVICES if s in SERVICES] + [
        s for s in SERVICES if s not in FIRST_SERVICES
    ]


TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "kim.conf"
DEFAULT_DIR = "kim-cluster"
STOP_SECONDS = 5
"""How long supervisord waits for a program after SIGTERM before SIGKILL (its group)."""
GROUP = "kim"
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


@dataclass
class ClusterPlan:
    """What ``kim cluster up`` starts: the ports of the services and of the proxy."""

    run_dir: Path
    host: str
    ports: dict[str, int]
    proxy_port: int
    nginx: str | None
    max_body_bytes: int
    max_header_bytes: int
    programs: dict[str, str] = field(default_factory=dict)

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "supervisor.sock"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"


def plan_cluster(settings: Settings, run_dir: Path, *, proxy: bool = True) -> ClusterPlan:
    ports = {name: settings.cluster_base_port + i for i, name in enumerate(service_order())}
    return ClusterPlan(
        run_dir=run_dir.resolve(),
        host=settings.host,
        ports=ports,
        proxy_port=settings.proxy_port,
        nginx=find_nginx() if proxy else None,
        max_body_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
    )


def find_nginx() -> str | None:
    """nginx on PATH, or where Debian puts it (``/usr/sbin`` is not on every user's PATH)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    return shutil.which("nginx", path=path)


def render_template(template: str, values: dict[str, str]) -> str:
    """Replace every ``{{ name }}``; a placeholder without a value is an error (KeyError)."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def nginx_values(plan: ClusterPlan) -> dict[str, str]:
    values = {
        "run_dir": str(plan.run_dir),
        "log_dir": str(plan.log_dir),
        "proxy_listen": f"{plan.host}:{plan.proxy_port}",
        "max_body_bytes": str(plan.max_body_bytes),
        "max_header_bytes": f"{max(1, plan.max_header_bytes // 1024)}k",
    }
    for name, port in plan.ports.items():
        values[f"{name}_host"] = plan.host
        values[f"{name}_port"] = str(port)
    return values


def service_blocks(values: dict[str, str], services: list[str]) -> dict[str, str]:
    """The per-service parts of the template: upstreams, prefix locations, docs pattern."""
    upstreams = []
    for s in services:
        server = f"{values[s + '_host']}:{values[s + '_port']}"
        upstreams.append(f"    upstream kim_{s} {{ server {server}; keepalive 8; }}")
    locations = [
        f"        location /{s}/ {{ proxy_pass http://kim_{s}; }}"
        for s in services
        if s != "gateway"
    ]
    if "gateway" in services:
        locations.append("        location /graphql { proxy_pass http://kim_gateway; }")
    return {
        "upstreams": "\n".join(upstreams),
        "locations": "\n".join(locations),
        "docs_pattern": "|".join(services),
        "fallback": _fallback(services),
    }


NO_ROUTE = (
    '{"type":"urn:kim:problem:no-route","title":"Not Found","status":404,"detail":"No service'
    ' behind this path: /<context>/..., /graphql, /<service>/docs.","instance":"$kim_json_uri",'
    '"rule":"no-route"}\\n'
)


def _fallback(services: list[str]) -> str:
    """``location /``: the gateway (pages, offline docs assets), else a no-route problem
    (and the offline docs assets from the first service, which every service serves)."""
    if "gateway" in services:
        return "        location / { proxy_pass http://kim_gateway; }"
    return "\n".join(
        [
            f"        location /static-offline-docs/ {{ proxy_pass http://kim_{services[0]}; }}",
            "        location / {",
            "            default_type application/problem+json;",
            f"            return 404 '{NO_ROUTE}';",
            "        }",
        ]
    )


def render_proxy(values: dict[str, str], services: list[str]) -> str:
    """``deploy/nginx/kim.conf`` with every placeholder filled in."""
    template = TEMPLATE.read_text(encoding="utf-8")
    return render_template(template, {**values, **service_blocks(values, services)})


def service_command(service: str, host: str, port: int) -> list[str]:
    """This interpreter runs the CLI module: no assumption that ``kim`` is on PATH."""
    return [
        sys.executable, "-m", "kim.cli", "serve", "--service", service,
        "--host", host, "--port", str(port),
    ]  # fmt: skip


def _ini(value: str) -> str:
    """supervisord expands ``%(name)s`` in its values: a literal % is doubled."""
    return value.replace("%", "%%")


def _program(name: str, command: list[str], plan: ClusterPlan, **extra: str) -> str:
    lines = [
        f"[program:{name}]",
        f"command={_ini(shlex.join(command))}",
        f"directory={_ini(os.getcwd())}",
        "autostart=true",
        "autorestart=true",
        "startsecs=2",
        "startretries=5",
        "stopsignal=TERM",
        f"stopwaitsecs={STOP_SECONDS}",
        "stopasgroup=true",
        "killasgroup=true",
        "redirect_stderr=true",
        f"stdout_logfile={_ini(str(plan.log_dir / f'{name}.log'))}",
        "stdout_logfile_maxbytes=10MB",
        "stdout_logfile_backups=3",
    ]
    lines += [f"{key}={value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def supervisor_config(plan: ClusterPlan) -> str:
    """The supervisord configuration: the services in one group (stopped together)."""
    sock = _ini(str(plan.socket_path))
    parts = [
        "; Written by `kim cluster up`; rewritten on every start.\n"
        "[unix_http_server]\n"
        f"file={sock}\nchmod=0700\n\n"
        "[supervisord]\n"
        "nodaemon=true\n"
        f"logfile={_ini(str(plan.log_dir / 'supervisord.log'))}\n"
        f"pidfile={_ini(str(plan.run_dir / 'supervisord.pid'))}\n"
        f"childlogdir={_ini(str(plan.log_dir))}\n\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        "[supervisorctl]\n"
        f"serverurl=unix://{sock}\n"
    ]
    for service, port in plan.ports.items():
        environment = f'KIM_SERVICE_NAME="kim-{service}",PYTHONUNBUFFERED="1"'
        command = service_command(service, plan.host, port)
        plan.programs[service] = shlex.join(command)
        parts.append(_program(service, command, plan, environment=environment))
    names = list(plan.ports)
    if plan.nginx:
        command = [plan.nginx, *nginx_args(plan), "-g", "daemon off;"]
        plan.programs["nginx"] = shlex.join(command)
        parts.append(_program("nginx", command, plan, priority="900"))
        names.append("nginx")
    parts.append(f"[group:{GROUP}]\nprograms={','.join(names)}\n")
    return "\n".join(parts)


def nginx_args(plan: ClusterPlan) -> list[str]:
    conf = plan.run_dir / "nginx.conf"
    error_log = plan.log_dir / "nginx-error.log"
    return ["-e", str(error_log), "-p", str(plan.run_dir), "-c", str(conf)]


def write_run_dir(plan: ClusterPlan) -> Path:
    """Write the configurations; returns the supervisord configuration's path."""
    plan.log_dir.mkdir(parents=True, exist_ok=True)
    (plan.run_dir / "cluster.json").write_text(
        json.dumps({"host": plan.host, "ports": plan.ports, "proxy_port": plan.proxy_port}),
        encoding="utf-8",
    )
    if plan.nginx:
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (plan.run_dir / "nginx-tmp" / sub).mkdir(parents=True, exist_ok=True)
        text = render_proxy(nginx_values(plan), list(plan.ports))
        (plan.run_dir / "nginx.conf").write_text(text, encoding="utf-8")
    conf = plan.run_dir / "supervisord.conf"
    conf.write_text(supervisor_config(plan), encoding="utf-8")
    return conf

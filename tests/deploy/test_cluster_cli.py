"""``kim cluster up``: the five services as separate processes under supervisord, behind nginx.

One cluster per module on the shared PostgreSQL (a schema of its own, dropped afterwards)
and NATS (a stream of its own, deleted afterwards); the tests run in file order and the
last one stops it with SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kim.cluster_cli import cluster_status
from kim.cluster_config import find_nginx, service_order
from runtime.eventstore.postgres import PostgresEventLogStore
from runtime.keyring import create_key_file
from runtime.settings import Settings
from tests.conftest import IN_CI, NATS_URL, PG_DSN, require
from tests.faults import own_nats
from tests.support import free_ports

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Cluster:
    process: subprocess.Popen[bytes]
    run_dir: Path
    env: dict[str, str]
    ports: dict[str, int]
    proxy_port: int
    output: Path

    def status_cli(self) -> list[dict[str, Any]]:
        """``kim cluster status --json``, as an operator runs it."""
        command = ["cluster", "status", "--dir", str(self.run_dir), "--json"]
        done = subprocess.run(
            [sys.executable, "-m", "kim.cli", *command],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=20,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        rows: list[dict[str, Any]] = json.loads(done.stdout)
        return rows

    def status(self) -> list[dict[str, Any]]:
        """The same from supervisord's XML-RPC interface, without starting a process."""
        rows = cluster_status(self.run_dir)
        assert rows is not None
        return rows

    def pids(self) -> dict[str, int]:
        return {row["name"]: row["pid"] for row in self.status()}


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


async def _subjects_taken(url: str, stream: str) -> bool:
    """Does another stream on the shared NATS already hold ``kim.>``?"""
    import nats

    nc = await nats.connect(url)
    try:
        streams = await nc.jetstream().streams_info()
        return any(
            s.config.name != stream and "kim.>" in (s.config.subjects or []) for s in streams
        )
    finally:
        await nc.close()


async def _delete_stream(url: str, stream: str) -> None:
    import nats

    nc = await nats.connect(url)
    try:
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


def process_groups_alive(groups: set[int]) -> list[int]:
    """Processes in any of the process groups (supervisord gives each program its own)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) in groups:
                alive.append(int(entry.name))
    return alive


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shared NATS, unless another stream holds ``kim.>`` there: then one of its own."""
    require("NATS", NATS_URL, 4222)
    if not asyncio.run(_subjects_taken(NATS_URL, "KIMCLU_none")):
        yield NATS_URL
        return
    with own_nats(tmp_path_factory.mktemp("nats")) as own:
        own.wait_healthy()
        yield own.url


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, nats_url: str) -> Iterator[Cluster]:
    require("PostgreSQL", PG_DSN, 5432)
    tmp = tmp_path_factory.mktemp("cluster")
    unique = uuid.uuid4().hex[:10]
    base = free_ports(1 + len(service_order()))
    env = {
        **os.environ,
        "KIM_EVENT_STORE": PG_DSN,
        "KIM_PG_SCHEMA": f"kimclu_{unique}",
        "KIM_PG_MAX_CONNECTIONS": "6",
        "KIM_BUS": nats_url,
        "KIM_NATS_STREAM": f"KIMCLU_{unique}",
        "KIM_KEY_FILE": str(create_key_file(tmp / "kek.json")),
        "KIM_PROXY_PORT": str(base),
        "KIM_CLUSTER_BASE_PORT": str(base + 1),
    }
    output = tmp / "up.log"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "kim.cli", "cluster", "up", "--dir", str(tmp / "run")],
            env=env,
            cwd=tmp,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ports = {name: base + 1 + i for i, name in enumerate(service_order())}
    the_cluster = Cluster(process, tmp / "run", env, ports, base, output)
    seen: set[int] = set()
    try:
        wait_for(
            lambda: process.poll() is not None or all(healthy(p) for p in ports.values()),
            120,  # each a Python process importing the platform, beside other tests
            "the services did not answer /healthz",
        )
        assert process.poll() is None, output.read_text()
        seen = set(the_cluster.pids().values())
        yield the_cluster
    finally:
        with contextlib.suppress(Exception):
            seen |= set(the_cluster.pids().values())
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(15)
        for pid in process_groups_alive(seen - {0}) if seen else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        store = PostgresEventLogStore(PG_DSN, schema=f"kimclu_{unique}", max_connections=2)
        store.drop_schema()
        store.close()
        asyncio.run(_delete_stream(nats_url, f"KIMCLU_{unique}"))


def test_every_service_answers_healthz_on_its_own_port(cluster: Cluster) -> None:
    for name, port in cluster.ports.items():
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert response.status_code == 200, name
        title = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()["info"]
        assert title["title"] == f"KIM {name}"


def test_status_lists_every_service_running_with_its_pid_and_port(cluster: Cluster) -> None:
    rows = {row["name"]: row for row in cluster.status_cli()}
    for name, port in cluster.ports.items():
        assert rows[name]["state"] == "RUNNING"
        assert rows[name]["pid"] > 0
        assert rows[name]["port"] == port
    assert len({rows[name]["pid"] for name in cluster.ports}) == len(cluster.ports)


def test_the_proxy_routes_each_prefix_to_its_service(cluster: Cluster) -> None:
    if find_nginx() is None:
        if IN_CI:
            pytest.fail("nginx is not installed; under CI=true .ci/run installs it")
        pytest.skip("nginx is not installed: kim cluster up runs without the proxy")
    proxy = f"http://127.0.0.1:{cluster.proxy_port}"
    for name in service_order():
        doc = httpx.get(f"{proxy}/{name}/openapi.json", timeout=5)
        assert doc.status_code == 200, name
        assert doc.json()["info"]["title"] == f"KIM {name}"
    page = httpx.get(f"{proxy}/coordination/docs", timeout=5)
    assert "'/coordination/openapi.json'" in page.text
    # Its scripts come from the platform, through the proxy too (no CDN).
    assets = re.findall(r'(?:src|href)="(/static-offline-docs/[^"]+)"', page.text)
    assert assets, page.text
    for asset in assets:
        assert httpx.get(f"{proxy}{asset}", timeout=5).status_code == 200, asset
    # Paths only coordination serves, and only the gateway serves, reach them: 401 (their
    # token check), not the 404 of a service without that route.
    positions = httpx.get(f"{proxy}/coordination/tenants/rheine/positions", timeout=5)
    assert positions.status_code == 401
    graphql = httpx.post(f"{proxy}/graphql", json={"query": "{ me { tenant } }"}, timeout=5)
    assert graphql.status_code == 401
    assert graphql.json()["instance"] == "/graphql"
    # Everything else goes to the gateway: the staff pages and the offline docs assets.
    start = httpx.get(f"{proxy}/", timeout=5)
    assert start.status_code == 200
    assert start.headers["content-type"].startswith("text/html")
    assert 'lang="de"' in start.text
    unknown = httpx.get(f"{proxy}/nowhere", timeout=5)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["status"] == 404
    # A path with a quote in it still gets a problem body that parses.
    quoted = httpx.get(f"{proxy}/nowhere%22,%22status%22:200", timeout=5)
    assert quoted.status_code == 404
    assert quoted.json()["status"] == 404


def test_a_killed_service_is_restarted_and_answers_again(cluster: Cluster) -> None:
    before = cluster.pids()["coordination"]
    assert before > 0  # os.kill(0, ...) would signal the test's own process group
    os.kill(before, signal.SIGKILL)
    port = cluster.ports["coordination"]
    if find_nginx() is not None:  # meanwhile the proxy answers 503 with Retry-After
        down = httpx.get(f"http://127.0.0.1:{cluster.proxy_port}/coordination/x", timeout=5)
        assert down.status_code == 503
        assert down.headers["retry-after"] == "5"
        assert down.json()["rule"] == "upstream-unavailable"
    wait_for(lambda: healthy(port), 60, "coordination did not come back")
    after = {row["name"]: row for row in cluster.status()}["coordination"]
    assert after["pid"] not in (0, before)
    assert after["state"] in ("STARTING", "RUNNING")


def test_sigterm_stops_every_process_within_seconds(cluster: Cluster) -> None:
    pids = set(cluster.pids().values()) | {cluster.process.pid}
    started = time.monotonic()
    cluster.process.send_signal(signal.SIGTERM)
    cluster.process.wait(15)
    wait_for(lambda: not process_groups_alive(pids), 5, "processes were left behind")
    assert time.monotonic() - started < 10
    assert not any(healthy(port) for port in cluster.ports.values())


def test_the_embedded_store_and_the_in_process_bus_are_refused(tmp_path: Path) -> None:
    env = {**os.environ, "KIM_EVENT_STORE": f"sqlite:///{tmp_path}/d", "KIM_BUS": "memory"}
    env["COLUMNS"] = "300"  # one message, one line
    done = subprocess.run(
        [sys.executable, "-m", "kim.cli", "cluster", "up", "--dir", str(tmp_path / "run")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Getrennte Prozesse brauchen PostgreSQL" in done.stderr
    assert "Getrennte Prozesse brauchen NATS JetStream" in done.stderr
    assert not (tmp_path / "run" / "supervisord.conf").exists()


@pytest.mark.parametrize(
    ("service", "graphql"), [("coordination", False), ("gateway", True), (None, True)]
)
def test_the_start_banner_names_only_what_the_process_serves(
    service: str | None,
    graphql: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import uvicorn

    import kim.cli

    monkeypatch.chdir(tmp_path)
    settings = Settings(event_store=f"sqlite:///{tmp_path}/kim-data", bus="memory")
    monkeypatch.setattr(kim.cli, "get_settings", lambda: settings)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: None)
    monkeypatch.setenv("COLUMNS", "300")
    assert kim.cli.main(["serve", *(["--service", service] if service else [])]) == 0
    banner = capsys.readouterr().err
    assert "API-Dokumentation: /docs" in banner
    assert ("/graphql" in banner) is graphql
    assert ("/coordination" in banner) is (service in ("coordination", None))


@pytest.mark.parametrize("proxy", [True, False])
def test_the_supervisor_config_restarts_services_and_stops_their_groups(
    proxy: bool, tmp_path: Path
) -> None:
    import configparser

    from kim.cluster_config import plan_cluster, supervisor_config

    settings = Settings(cluster_base_port=18701)
    plan = plan_cluster(settings, tmp_path / "run", proxy=proxy)
    if proxy and plan.nginx is None:
        pytest.skip("nginx is not installed")
    ini = configparser.RawConfigParser()
    ini.read_string(supervisor_config(plan))
    programs = {s.split(":", 1)[1] for s in ini.sections() if s.startswith("program:")}
    assert programs == set(service_order()) | ({"nginx"} if proxy else set())
    for index, service in enumerate(service_order()):
        section = ini[f"program:{service}"]
        command = section["command"].split()
        assert command[:3] == [sys.executable, "-m", "kim.cli"]
        assert command[-4:] == ["--host", "127.0.0.1", "--port", str(18701 + index)]
        assert section["autorestart"] == "true"
        assert 1 <= int(section["startretries"]) <= 10
        assert int(section["stopwaitsecs"]) <= 10
        assert section["stopasgroup"] == section["killasgroup"] == "true"
        assert section["stdout_logfile"] == str(plan.log_dir / f"{service}.log")
    assert ini["unix_http_server"]["file"] == str(plan.run_dir / "supervisor.sock")
    assert ini["supervisord"]["nodaemon"] == "true"

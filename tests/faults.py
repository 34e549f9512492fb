"""Servers of a test's own, for fault tests: a PostgreSQL cluster and NATS JetStream nodes
that a test may stop, freeze, kill and start again without touching the shared ones.

PostgreSQL: ``pg_createcluster`` (Debian's postgresql-common) on a free port with trust
auth, dropped on exit. NATS: ``nats-server`` processes with JetStream on free ports, one
node or a cluster of three with routes, their storage in a temporary directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import free_ports

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_VERSION = os.environ.get("KIM_TEST_PG_VERSION", "15")


def require_binary(name: str) -> str:
    """The path of ``name``; missing: a failure under CI=true, else a skip with the reason."""
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )
    if found:
        return found
    message = f"{name} is not installed; the fault tests start servers of their own with it"
    if IN_CI:
        pytest.fail(f"{message}; under CI=true it must be there")
    pytest.skip(message)


def free_port() -> int:
    """A port free now, below the range outgoing connections take theirs from
    (``tests.support.free_ports``): a server started on it later still finds it free."""
    return free_ports(1)


def wait_port(port: int, timeout: float = 20.0, *, up: bool = True) -> None:
    """Wait until ``port`` on 127.0.0.1 accepts connections (or, ``up=False``, refuses)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not {'open' if up else 'close'} within {timeout} s")


class OwnPostgres:
    """A PostgreSQL cluster of the test's own (trust auth on 127.0.0.1)."""

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.port = port

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, action: str, *extra: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, self.name, action, *extra],
            check=True,
            capture_output=True,
        )

    def stop(self, *, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode)
        wait_port(self.port, up=False)

    def start(self) -> None:
        self._ctl("start")
        wait_port(self.port)

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def own_postgres(prefix: str = "kimtest") -> Iterator[OwnPostgres]:
    require_binary("pg_createcluster")
    port = free_port()
    name = f"{prefix}{os.getpid()}p{port}"
    subprocess.run(
        [
            "pg_createcluster",
            PG_VERSION,
            name,
            "--port",
            str(port),
            "--start",
            "--",
            "--auth-local=trust",
            "--auth-host=trust",
        ],
        check=True,
        capture_output=True,
    )
    server = OwnPostgres(name, port)
    try:
        wait_port(port)
        yield server
    finally:
        subprocess.run(
            ["pg_dropcluster", PG_VERSION, name, "--stop"], check=False, capture_output=True
        )


class NatsNode:
    def __init__(self, binary: str, name: str, port: int, monitor: int, store: Path) -> None:
        self.binary = binary
        self.name = name
        self.port = port
        self.monitor = monitor
        self.store = store
        self.args: list[str] = []
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [self.binary, "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.monitor)]
        command += ["-js", "-sd", str(self.store), "-n", self.name, *self.args]
        log = (self.store.parent / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_port(self.port)

    def signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)

    def kill(self, *, thaw: bool = True) -> None:
        """SIGKILL: gone at once, nothing flushed (``thaw=False``: a frozen node dies frozen,
        without a moment to answer what waits for it)."""
        if self.process is not None:
            if thaw:
                self.signal(signal.SIGCONT)  # a frozen process dies on SIGKILL too; be sure
            self.process.kill()
            self.process.wait(10)
            self.process = None
        wait_port(self.port, up=False)

    def stop(self) -> None:
        if self.process is not None:
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None

    def freeze(self) -> None:
        self.signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.signal(signal.SIGCONT)

    def healthy(self) -> bool:
        """JetStream ready on this node, and in a cluster a meta leader elected."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor}/jsz", timeout=1) as r:
                jsz = json.loads(r.read())
        except (OSError, ValueError):
            return False
        if "--cluster" not in self.args:
            return bool(jsz.get("config"))
        return bool((jsz.get("meta_cluster") or {}).get("leader"))


class OwnNats:
    """One NATS JetStream node or a cluster of three with routes."""

    def __init__(self, nodes: list[NatsNode]) -> None:
        self.nodes = nodes

    @property
    def url(self) -> str:
        return ",".join(f"nats://127.0.0.1:{n.port}" for n in self.nodes)

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(n.healthy() for n in self.nodes if n.process is not None):
                return
            time.sleep(0.1)
        raise TimeoutError(f"NATS nodes not healthy within {timeout} s")

    def stop_all(self) -> None:
        for node in self.nodes:
            node.stop()

    def start_all(self) -> None:
        for node in self.nodes:
            if node.process is None:
                node.start()
        self.wait_healthy()


@contextlib.contextmanager
def own_nats(store: Path, *, nodes: int = 1) -> Iterator[OwnNats]:
    """``nodes`` NATS servers with JetStream (1, or 3 as a cluster with routes)."""
    binary = require_binary("nats-server")
    ports = [(free_port(), free_port(), free_port()) for _ in range(nodes)]
    made: list[NatsNode] = []
    for i, (port, monitor, _) in enumerate(ports):
        node_store = store / f"nats-{i}"
        node_store.mkdir(parents=True, exist_ok=True)
        made.append(NatsNode(binary, f"kim-nats-{i}", port, monitor, node_store))
    if nodes > 1:
        routes = ",".join(f"nats-route://127.0.0.1:{c}" for _, _, c in ports)
        for node, (_, _, cluster_port) in zip(made, ports, strict=True):
            node.args = ["--cluster_name", "kim-test", "--cluster"]
            node.args += [f"nats://127.0.0.1:{cluster_port}", "--routes", routes]
    cluster = OwnNats(made)
    try:
        for node in made:
            node.start()
        cluster.wait_healthy()
        yield cluster
    finally:
        for node in made:
            with contextlib.suppress(Exception):
                node.thaw()
                node.kill()

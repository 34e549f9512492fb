"""The separate processes survive faults: a PostgreSQL cluster and a 3-node NATS JetStream
cluster of the test's own, the services under ``kim cluster up``, a steady load of commands
with idempotency keys and retries, and in turn: ``kill -9`` of a service, one NATS node (the
stream's leader) lost and back, all of NATS frozen then killed and away for 30 s, a
PostgreSQL restart.

It asserts: every acknowledged command is in the store exactly once, the logs are gapless,
every committed event reaches every projection within 10 s after the last fault, the live
read models equal a rebuild (checksums), no 5xx other than 503, every 503 has Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats as nats_client
import pytest

from kim.cluster_config import service_order
from runtime.settings import Settings
from tests.fault_tolerance.load import Load, ReadyWatch
from tests.faults import OwnNats, OwnPostgres, own_nats, own_postgres
from tests.support import free_ports

KIM = str(Path(sys.executable).parent / "kim")
SERVICES = service_order()
SECRET = "fault-test-jwt-secret-0123456789-abcdef"
NATS_AWAY = 30.0
CATCH_UP = 10.0


def cluster_env(pg: OwnPostgres, nats: OwnNats, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIM_") or "RATE" in k}
    base = free_ports(len(SERVICES))
    env.update(
        KIM_EVENT_STORE=pg.dsn,
        KIM_BUS=nats.url,
        KIM_NATS_REPLICAS="3",
        KIM_JWT_SECRET=SECRET,
        KIM_KEY_FILE=str(tmp / "keys" / "kek.json"),
        KIM_SIGNING_KEY_FILE=str(tmp / "keys" / "signing.json"),
        KIM_CLUSTER_BASE_PORT=str(base),
        KIM_PROXY_PORT=str(free_ports(1)),
        KIM_RELAY_POLL_INTERVAL="0.1",
    )
    return env


def run_kim(env: dict[str, str], *args: str, timeout: float = 60) -> str:
    done = subprocess.run(
        [KIM, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"kim {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def port_of(env: dict[str, str], service: str) -> int:
    return int(env["KIM_CLUSTER_BASE_PORT"]) + SERVICES.index(service)


def wait_ready(env: dict[str, str], services: list[str], timeout: float = 60.0) -> float:
    started = time.monotonic()
    deadline = started + timeout
    waiting = set(services)
    said: dict[str, str] = {}
    with httpx.Client(timeout=5.0) as client:
        while waiting and time.monotonic() < deadline:
            for service in sorted(waiting):
                try:
                    r = client.get(f"http://127.0.0.1:{port_of(env, service)}/readyz")
                    said[service] = r.text[:400]
                    if r.status_code == 200:
                        waiting.discard(service)
                except httpx.TransportError as e:
                    said[service] = repr(e)
            time.sleep(0.2)
    assert not waiting, f"not ready within {timeout} s: {[said.get(s) for s in waiting]}"
    return time.monotonic() - started


def stream_leader(nats: OwnNats, stream: str = "KIM") -> int:
    """The index of the node leading ``stream`` now: losing it forces an election."""

    async def ask() -> str | None:
        nc = await nats_client.connect(servers=nats.url.split(","))
        try:
            info = await nc.jetstream().stream_info(stream)
            return info.cluster.leader if info.cluster else None
        finally:
            await nc.close()

    leader = asyncio.run(ask())
    names = [node.name for node in nats.nodes]
    assert leader in names, f"stream {stream} has no leader among {names}: {leader}"
    return names.index(leader)


def service_pid(env: dict[str, str], run_dir: Path, service: str, timeout: float = 60.0) -> int:
    """The pid of ``service`` once the supervisor has it running. A service the supervisor
    is (re)starting has pid 0, and ``os.kill(0, ...)`` would signal the test's own process
    group: never hand that out."""
    deadline = time.monotonic() + timeout
    out = ""
    while time.monotonic() < deadline:
        out = run_kim(env, "cluster", "status", "--dir", str(run_dir), "--json")
        for entry in json.loads(out):
            if entry["name"] == service and entry["state"] == "RUNNING" and entry["pid"]:
                return int(entry["pid"])
        time.sleep(0.5)
    raise AssertionError(f"{service} not running within {timeout} s: {out}")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path, OwnPostgres, OwnNats]]:
    with own_postgres("kimfault") as pg, own_nats(tmp_path / "nats", nodes=3) as nats:
        env = cluster_env(pg, nats, tmp_path)
        run_kim(env, "keys", "init", "--file", env["KIM_KEY_FILE"])
        run_kim(env, "audit", "checkpoint", "--init-key")
        run_kim(env, "demo", timeout=120)
        run_dir = tmp_path / "run"
        up = subprocess.Popen(
            [KIM, "cluster", "up", "--dir", str(run_dir)],
            env=env,
            stdout=(tmp_path / "cluster.out").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_ready(env, SERVICES, timeout=90)
            yield env, run_dir, pg, nats
            up.send_signal(signal.SIGTERM)
            started = time.monotonic()
            up.wait(20)
            assert time.monotonic() - started < 15, "kim cluster up took too long to stop"
        finally:
            if up.poll() is None:
                os.killpg(up.pid, signal.SIGKILL)
                up.wait(10)


def gap_counts(env: dict[str, str], tenants: list[str]) -> Counter[str]:
    """How often each gap was created in ``tenants``' coordination logs; asserts the logs
    are gapless."""
    from runtime.platform import Platform

    platform = Platform(settings_of(env))
    try:
        created: Counter[str] = Counter()
        for tenant in tenants:
            records = platform.store.read_log(tenant, "coordination", after=0, limit=1_000_000)
            positions = [r.position for r in records]
            assert positions == list(range(1, len(records) + 1)), f"{tenant}: log has gaps"
            for r in records:
                if r.event_type == "SystemGapRecorded":
                    created[str(r.originator_id)] += 1
        return created
    finally:
        platform.close()


def check_exactly_once(load: Load, before: Counter[str], after: Counter[str]) -> int:
    ids = [c.acknowledged for c in load.commands if c.acknowledged]
    assert len(set(ids)) == len(ids), "two commands answered with one gap"
    wrong = [i for i in ids if after[i] != 1]
    assert not wrong, f"acknowledged but not exactly once in the store: {wrong[:5]}"
    new = set(after) - set(before)
    assert new == set(ids), f"{len(new - set(ids))} gaps appended that no answer acknowledged"
    return len(ids)


def settings_of(env: dict[str, str]) -> Settings:
    """The cluster's store, seen from the test process (bus in-process: it only reads)."""
    return Settings(
        event_store=env["KIM_EVENT_STORE"],
        bus="memory",
        jwt_secret=SECRET,
        key_file=env["KIM_KEY_FILE"],
        signing_key_file=env["KIM_SIGNING_KEY_FILE"],
    )


def caught_up(env: dict[str, str], timeout: float) -> float:
    """Seconds until every projection's positions reach the log heads of its context."""
    from kim.contexts import PROJECTIONS
    from runtime.platform import Platform

    platform = Platform(settings_of(env))
    started = time.monotonic()
    try:
        behind: list[str] = []
        while time.monotonic() - started < timeout:
            heads = platform.store.heads()
            behind = []
            for name in PROJECTIONS:
                done = platform.read.positions(name)
                for (tenant, context), head in heads.items():
                    if context == name and done.get((tenant, context), 0) < head:
                        behind.append(
                            f"{name} {tenant}/{context} {done.get((tenant, context), 0)}<{head}"
                        )
            if not behind:
                return time.monotonic() - started
            time.sleep(0.2)
        raise AssertionError(f"projections behind after {timeout} s: {behind[:5]}")
    finally:
        platform.close()


def rebuild_equals_live(env: dict[str, str], tmp: Path) -> list[str]:
    from kim.contexts import PROJECTIONS
    from projections.catalogue import build_projections
    from runtime.platform import Platform
    from runtime.readstore_sqlite import SqliteReadStore

    live = Platform(settings_of(env))
    rebuilt = Platform(settings_of(env))
    rebuilt.use_read_store(SqliteReadStore(tmp / "rebuilt.db"))
    try:
        tenants = sorted({t for t, _ in live.store.heads()})
        differ = []
        for name, projection in build_projections(rebuilt, PROJECTIONS.values()).items():
            projection.rebuild(tenants)
            if rebuilt.read.checksum(name) != live.read.checksum(name):
                differ.append(name)
        return differ
    finally:
        live.close()
        rebuilt.close()


@pytest.mark.long
def test_cluster_survives_faults(
    cluster: tuple[dict[str, str], Path, OwnPostgres, OwnNats], tmp_path: Path
) -> None:
    env, run_dir, pg, nats = cluster
    from runtime.http.auth import mint_token

    settings = settings_of(env)
    tokens = {
        t: mint_token(settings, tenant=t, roles=["coordinator"]) for t in ("rheine", "aachen")
    }
    coordination = f"http://127.0.0.1:{port_of(env, 'coordination')}"
    load = Load(coordination, f"http://127.0.0.1:{port_of(env, 'gateway')}/graphql", tokens)
    timeline: list[tuple[str, float]] = []
    before = gap_counts(env, sorted(tokens))
    watch = ReadyWatch(f"{coordination}/readyz")
    load.start()
    watch.start()
    time.sleep(3)

    # 1. kill -9 of the service under load; the supervisor starts it again.
    os.kill(service_pid(env, run_dir, "coordination"), signal.SIGKILL)
    timeline.append(("coordination killed, ready again after", wait_ready(env, ["coordination"])))
    time.sleep(2)

    # 2. One NATS node lost and back: the stream's leader, so the other two elect a new one.
    leader = stream_leader(nats)
    nats.nodes[leader].kill()
    time.sleep(5)
    nats.nodes[leader].start()
    nats.wait_healthy()
    timeline.append((f"NATS stream leader {nats.nodes[leader].name} lost for", 5.0))
    time.sleep(2)

    # 3. All of NATS frozen, then killed while frozen, away for 30 s, back.
    away = time.monotonic()
    for node in nats.nodes:
        node.freeze()
    time.sleep(2)
    for node in nats.nodes:
        node.kill(thaw=False)
    time.sleep(NATS_AWAY - 2)
    nats.start_all()
    back = time.monotonic()
    timeline.append(("all NATS away for", NATS_AWAY))
    time.sleep(3)

    # 4. A PostgreSQL restart.
    started = time.monotonic()
    pg.restart()
    timeline.append(("PostgreSQL restarted in", time.monotonic() - started))
    last_fault = time.monotonic()
    time.sleep(3)

    unanswered = load.stop(settle=30)
    watch.stop()
    catch_up = caught_up(env, CATCH_UP + 30)
    since_last_fault = time.monotonic() - last_fault
    report = {
        "commands": len(load.commands),
        "statuses": dict(load.seen.statuses),
        "transport_errors": load.seen.transport_errors,
        "catch_up_after_load_s": round(catch_up, 2),
        "since_last_fault_s": round(since_last_fault, 2),
        "timeline": timeline,
        "not_ready_while_nats_away": watch.not_ready_between(away, back),
        "readyz_answers": len(watch.answers),
    }
    print(json.dumps(report, indent=1))
    acknowledged = check_exactly_once(load, before, gap_counts(env, sorted(tokens)))
    differ = rebuild_equals_live(env, tmp_path)
    assert not load.seen.violations, load.seen.violations[:10]
    assert not unanswered, f"{len(unanswered)} commands never acknowledged"
    assert catch_up <= CATCH_UP, f"projections caught up only after {catch_up:.1f} s"
    # The bound, literally: at the heads (every event of the load, including those
    # committed after the last fault) within 10 s of the last fault.
    assert since_last_fault <= CATCH_UP, (
        f"projections at the log heads only {since_last_fault:.1f} s after the last fault"
    )
    assert not differ, f"live read models differ from a rebuild: {differ}"
    assert acknowledged > 100
    assert watch.not_ready_between(away, back) > 0, "ready while all of NATS was away"
    assert watch.without_retry_after() == 0, "a 503 from /readyz without Retry-After"
    timeline.append(("all ready again after the load", wait_ready(env, SERVICES, timeout=20)))

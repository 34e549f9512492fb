"""``python -m bench write --http``: the benchmark's command through ``kim serve``.

``kim serve`` runs as a subprocess (uvicorn, the real middleware: limits, authentication,
problem details, tracing, idempotency) on PostgreSQL in a schema of its own; this process
is the load generator: httpx clients with keep-alive, each sending
``POST /coordination/tenants/<tenant>/organisations`` with a bearer token and a fresh
``Idempotency-Key``, one request after the other, at 1, 4 and 16 concurrent clients over
the tenants. Printed: commands/s and p50/p95/p99 latency per level, against the same
command in-process (``bench write``'s platform variant, 1 and 4 writers) and raw inserts
measured in the same run. The rate limits are lifted for the run (``KIM_RATE_LIMIT``):
they would answer 429 long before the server is saturated.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from rich.table import Table

from bench.write import DEFAULT_DSN, app_name, platform_path, raw_inserts
from bench.writers import console
from contexts.coordination.application import CoordinationApplication
from runtime.eventstore.postgres import PostgresEventLogStore
from runtime.http.auth import mint_token
from runtime.settings import Settings
from runtime.telemetry import setup_tracing

BODY = {"name": "Lernen fördern e.V.", "kind": "welfare_provider"}
UNLIMITED = "1000000/second"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(dsn: str, schema: str, tmp: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KIM_EVENT_STORE": dsn,
        "KIM_PG_SCHEMA": schema,
        "KIM_BUS": "memory",
        "KIM_KEY_FILE": str(tmp / "keys" / "kek.json"),
        "KIM_RATE_LIMIT": UNLIMITED,
        "KIM_ADDRESS_RATE_LIMIT": UNLIMITED,
    }
    kim = [sys.executable, "-m", "kim.cli"]
    subprocess.run(
        [*kim, "keys", "init", "--file", env["KIM_KEY_FILE"]],
        env=env, cwd=tmp, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    log = (tmp / "serve.log").open("wb")
    server = subprocess.Popen(
        [*kim, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"kim serve ended: {(tmp / 'serve.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("kim serve did not become ready within 60 s")


def register_tenants(base: str, settings: Settings, tenants: list[str]) -> None:
    """The state programme (bootstrapping with its own admin token), the tenants under it."""
    token = mint_token(settings, tenant="nrw", roles=["platform_admin"])
    admin = {"Authorization": f"Bearer {token}"}
    bodies = [{"key": "nrw", "name": "Land NRW", "kind": "state_programme"}]
    bodies += [
        {"key": t, "name": f"Stadt {t}", "kind": "district_free_city", "parent": "nrw"}
        for t in tenants
    ]
    with httpx.Client(base_url=base, headers=admin, timeout=30) as http:
        for body in bodies:
            response = http.post("/tenancy/tenants", json=body)
            if response.status_code not in (201, 409):
                raise RuntimeError(f"{response.status_code}: {response.text[:500]}")
        deadline = time.monotonic() + 30  # the registry's read side follows the log
        while http.get(f"/tenancy/tenants/{tenants[-1]}").status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the registered tenants did not appear within 30 s")
            time.sleep(0.1)


async def load(
    base: str, tokens: dict[str, str], clients: int, per_client: int
) -> tuple[float, list[float]]:
    """``clients`` clients, each ``per_client`` commands in a row; (seconds, latencies)."""
    tenants = list(tokens)
    latencies: list[float] = []
    first: list[float] = []
    last: list[float] = []

    async def client(c: int, http: httpx.AsyncClient) -> None:
        offset = c * max(1, len(tenants) // clients)
        first.append(time.perf_counter())
        for i in range(per_client):
            tenant = tenants[(offset + i) % len(tenants)]
            headers = {
                "Authorization": f"Bearer {tokens[tenant]}",
                "Idempotency-Key": f"bench-{uuid.uuid4().hex}",
            }
            t0 = time.perf_counter()
            response = await http.post(
                f"{base}/coordination/tenants/{tenant}/organisations", json=BODY, headers=headers
            )
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 201:
                raise RuntimeError(f"{response.status_code}: {response.text[:500]}")
        last.append(time.perf_counter())

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        await client(0, http)  # warm: connections, the server's first requests
        latencies.clear()
        first.clear()
        last.clear()
        await asyncio.gather(*(client(c, http) for c in range(clients)))
    return max(last) - min(first), latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def in_process(dsn: str, tenants: list[str], commands: int) -> dict[int, tuple[float, float]]:
    """Raw inserts and the platform in this process, 4 and 1 writers: {writers: (raw, ours)}."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    found: dict[int, tuple[float, float]] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    with app_name(f"kim-bench-{schema}"):
        store = PostgresEventLogStore(dsn, schema=f"{schema}_kim", max_connections=20)
        store.ready()
    try:
        apps = {t: CoordinationApplication(t, store.recorder) for t in tenants}
        platform_path(store, apps, "warm-up", 4, 25)
        for writers in (4, 1):
            n = commands // writers
            raw = raw_inserts(dsn, schema, writers, n, tenants)
            ours = platform_path(store, apps, "KIM platform (PostgreSQL, RLS)", writers, n)
            found[writers] = (raw.rate, ours.rate)
    finally:
        store.drop_schema()
        store.close()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench write --http", description=__doc__)
    parser.add_argument("--dsn", default=os.environ.get("KIM_BENCH_PG_DSN", DEFAULT_DSN))
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--commands", type=int, default=1000, help="commands per concurrency level")
    parser.add_argument("--clients", default="1,4,16", help="concurrency levels")
    args, _ = parser.parse_known_args(argv)  # bench write's other options do not apply
    levels = [int(c) for c in args.clients.split(",")]
    tenants = [f"bench-{i:03d}" for i in range(args.tenants)]
    settings = Settings()
    tokens = {t: mint_token(settings, tenant=t, roles=["coordinator"]) for t in tenants}
    schema = f"bench_http_{uuid.uuid4().hex[:8]}"
    console.print(
        f"HTTP write benchmark: kim serve on PostgreSQL, {args.tenants} tenants,"
        f" {args.commands} commands per level, clients {levels},"
        f" load average {os.getloadavg()[0]:.2f}"
    )
    results: list[tuple[int, float, list[float]]] = []
    with tempfile.TemporaryDirectory(prefix="kim-bench-http-") as tmp:
        port = free_port()
        server = start_server(args.dsn, schema, Path(tmp), port)
        try:
            register_tenants(f"http://127.0.0.1:{port}", settings, tenants)
            for clients in levels:
                per_client = max(1, args.commands // clients)
                seconds, latencies = asyncio.run(
                    load(f"http://127.0.0.1:{port}", tokens, clients, per_client)
                )
                results.append((clients, len(latencies) / seconds, latencies))
                console.print(f"{clients:>3} clients: {len(latencies) / seconds:,.0f} commands/s")
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
            PostgresEventLogStore(args.dsn, schema=schema).drop_schema()
    setup_tracing("kim-bench")
    reference = in_process(args.dsn, tenants, args.commands)
    raw4, ours4 = reference[4]
    table = Table(title="Write path through HTTP (kim serve, keep-alive, Idempotency-Key)")
    columns = ("clients", "commands/s", "p50 ms", "p95 ms", "p99 ms", "to in-process", "to raw")
    for column in columns:
        table.add_column(column, justify="right")
    for clients, rate, latencies in results:
        table.add_row(
            str(clients),
            f"{rate:,.0f}",
            f"{statistics.median(latencies) * 1e3:.1f}",
            f"{percentile(latencies, 95) * 1e3:.1f}",
            f"{percentile(latencies, 99) * 1e3:.1f}",
            f"{rate / ours4:.2f}",
            f"{rate / raw4:.2f}",
        )
    console.print(table)
    for writers, (raw, ours) in sorted(reference.items(), reverse=True):
        console.print(
            f"in-process, {writers} writer(s): platform {ours:,.0f}/s, raw inserts {raw:,.0f}/s"
        )
    console.print("ratios: to the in-process platform and raw inserts with 4 writers")
    return 0

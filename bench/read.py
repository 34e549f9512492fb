"""Read side benchmark: replay rate, commit-to-visible lag, district aggregate query time.

1. Generates an NRW-scale history (default 430 tenants, 100,000 cases, about 1.1 million
   events) with the domain's own aggregates and imports it into a fresh store.
2. Replay: rebuilds the case-management read model from the log, against a raw read of the
   same events from the event table in the same run (ratio and events/s).
3. Lag: runs the platform (relay, bus, projections) and issues commands at a steady rate;
   measures from each command's commit until the read model holds it (p50, p99).
4. District aggregate: ``caseFigures(tenant: <district>, includeMembers: true)`` over HTTP
   through the GraphQL gateway, p50/p95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as host
import random
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from bench.history import World, generate
from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import (
    ContactChannel,
)
from projections.case_management import PROJECTION as CASE_MANAGEMENT_PROJECTION
from runtime.bus import Bus
from runtime.bus.memory import InMemoryBus
from runtime.bus.nats import NatsBus
from runtime.console import console, progress_bar
from runtime.eventstore.base import EventLogStore
from runtime.settings import Settings


def vacuum(store: EventLogStore) -> None:
    """After a bulk import PostgreSQL's autovacuum would run in the middle of the
    measurements; a running platform has long been vacuumed, so vacuum before measuring."""
    from runtime.eventstore.postgres import PostgresEventLogStore

    if isinstance(store, PostgresEventLogStore):
        with (
            console.status("VACUUM ANALYZE after the import"),
            psycopg.connect(store.dsn, autocommit=True) as conn,
        ):
            for table in ("events", "log_heads", "relay_positions"):
                conn.execute(f"VACUUM ANALYZE {store.schema}.{table}".encode())


# -- measurements --------------------------------------------------------------------------
def raw_read(store: EventLogStore) -> tuple[int, float]:
    """All case-management events straight from the event table (no decoding)."""
    from runtime.eventstore.postgres import PostgresEventLogStore

    started = time.perf_counter()
    count = 0
    if isinstance(store, PostgresEventLogStore):
        with psycopg.connect(store.dsn) as conn, conn.cursor(name="raw") as cur:
            cur.itersize = 5000
            cur.execute(
                f"SELECT tenant, context, position, event_id, originator_id, originator_version,"
                f" topic, state FROM {store.schema}.events WHERE context = 'case_management'"
                " ORDER BY tenant, context, position".encode()
            )
            for _ in cur:
                count += 1
    else:
        for tenant in store.tenants():
            after = 0
            while batch := store.read_log(tenant, "case_management", after=after, limit=5000):
                count += len(batch)
                after = batch[-1].position
    return count, time.perf_counter() - started


async def delete_stream(url: str, stream: str) -> None:
    import nats

    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def catch_up(platform: Any, world: World) -> None:
    """Let the relay and the consumers work off the generated history: one probe command,
    then wait until the read model shows it (the bus delivers each log in order)."""
    tenant = world.case_tenants[0]
    row = next(
        r for r in platform.read.rows("case_management", [tenant], "Case")
        if r.doc["state"] != "closed"
    )  # fmt: skip
    app = platform.app(CaseManagementApplication, tenant, vault=platform.vault)
    (rec,) = app.record_contact(
        uuid.UUID(row.key), on=date(2024, 1, 1), channel=ContactChannel.PHONE, life_dimensions=[]
    )
    projection = platform.projections["case_management"]
    deadline = time.monotonic() + 1800
    with console.status("relay and consumers catch up with the generated history"):
        while projection.position(tenant) < rec.notification.id:
            if time.monotonic() > deadline:
                raise RuntimeError("the read model did not catch up")
            time.sleep(0.1)
        # Every other consumer works off the history too; wait until all are idle.
        seen = -1
        while True:
            now = sum(c.processed + c.skipped for c in platform._consumers)
            if now == seen:
                break
            seen = now
            time.sleep(2.0)


def measure_lag(platform: Any, world: World, rate: float, seconds: float) -> list[float]:
    """Commit-to-visible lag of commands issued at ``rate`` per second."""
    projection = platform.projections["case_management"]
    rng = random.Random(11)
    open_cases: dict[str, list[uuid.UUID]] = {}
    sample = rng.sample(world.case_tenants, min(40, len(world.case_tenants)))
    for tenant in sample:
        rows = platform.read.rows("case_management", [tenant], "Case")
        open_cases[tenant] = [uuid.UUID(r.key) for r in rows if r.doc["state"] != "closed"][:50]
    issued: list[tuple[str, int, float]] = []
    seen: dict[str, list[tuple[int, float]]] = {}  # tenant -> (position applied, when)

    def applied(positions: dict[tuple[str, str], int]) -> None:
        now = time.perf_counter()
        for (tenant, _), position in positions.items():
            seen.setdefault(tenant, []).append((position, now))

    projection.listeners.append(applied)
    total = int(rate * seconds)
    interval = 1.0 / rate
    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task(f"commands at {rate:.0f}/s", total=total)
        for n in range(total):
            target = started + n * interval
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            tenant = sample[n % len(sample)]
            app = platform.app(CaseManagementApplication, tenant, vault=platform.vault)
            case_id = open_cases[tenant][n % len(open_cases[tenant])]
            (rec,) = app.record_contact(
                case_id, on=date(2024, 1, 1), channel=ContactChannel.PHONE, life_dimensions=[]
            )
            issued.append((tenant, rec.notification.id, time.perf_counter()))
            bar.advance(task)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(
        projection.position(t) < p for t, p, _ in issued
    ):  # fmt: skip
        time.sleep(0.05)
    projection.listeners.remove(applied)
    lags = []
    for tenant, position, at in issued:
        visible = next((when for p, when in seen.get(tenant, []) if p >= position), None)
        if visible is not None:
            lags.append(max(0.0, visible - at))  # applied before we noted the commit: ~0
    if os.environ.get("KIM_BENCH_LAG_TRACE"):
        for (_, _, at), lag in zip(issued, lags, strict=False):
            if lag > 0.05:
                console.print(f"  slow: t={at - started:.2f}s lag={lag * 1000:.0f} ms")
    return lags


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench read", description=__doc__)
    parser.add_argument("--tenants", type=int, default=430)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument(
        "--store",
        default=os.environ.get("KIM_BENCH_PG_DSN", "postgresql://127.0.0.1:5432/test"),
        help="postgresql://... or sqlite (a temporary directory)",
    )
    parser.add_argument("--bus", default="memory", help="memory or nats://127.0.0.1:4222")
    parser.add_argument("--rate", type=float, default=200.0, help="commands per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of the lag run")
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="seconds at the rate before measuring"
    )
    parser.add_argument("--queries", type=int, default=300, help="district aggregate queries")
    parser.add_argument(
        "--replay-workers", type=int, default=None, help="replay processes (default: CPUs)"
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)

    from fastapi.testclient import TestClient

    from kim.assembly import build_app
    from projections.replay import ReplayJob, rebuild_parallel
    from runtime.http.auth import mint_token
    from runtime.keyring import create_key_file
    from runtime.platform import Platform

    unique = uuid.uuid4().hex[:8]
    tmp = tempfile.TemporaryDirectory()
    if args.store.startswith("postgres"):
        settings = Settings(
            event_store=args.store, pg_schema=f"bench_read_{unique}", bus=args.bus,
            nats_stream=f"KIMBENCH_{unique}", jwt_secret="bench-secret-" + unique,
            relay_poll_interval=0.02,
            key_file=str(create_key_file(Path(tmp.name) / "kek.json")),  # ADR 0006
        )  # fmt: skip
    else:
        settings = Settings(
            event_store=f"sqlite:///{Path(tmp.name) / 'kim-data'}", bus=args.bus,
            nats_stream=f"KIMBENCH_{unique}", jwt_secret="bench-secret-" + unique,
            relay_poll_interval=0.02,
        )  # fmt: skip
    console.print(
        f"read benchmark: {args.tenants} tenants, {args.cases} cases,"
        f" store {settings.event_store.split('@')[-1][:40]}, bus {args.bus},"
        f" {host.python_implementation()} {host.python_version()}, {os.cpu_count()} CPUs"
    )
    bus: Bus = InMemoryBus()
    if args.bus != "memory":  # a stream and subjects of its own, deleted at the end
        bus = NatsBus(args.bus, stream=settings.nats_stream, prefix=f"kimbench{unique}")
    platform = Platform(settings, bus=bus)
    figures: dict[str, Any] = {"tenants": args.tenants, "cases": args.cases}
    try:
        started = time.perf_counter()
        world = generate(platform.store, args.tenants, args.cases)
        figures["events"] = world.events
        # The generated history counts as published: the relay starts at the heads (as a
        # running platform would be), instead of pushing a million events through the bus.
        platform.store.set_relay_positions("relay", platform.store.heads())
        vacuum(platform.store)
        console.print(f"generated {world.events:,} events in {time.perf_counter() - started:.0f} s")

        raw_count, raw_seconds = raw_read(platform.store)
        sizes = {t: h for (t, c), h in platform.store.heads().items() if c == "case_management"}
        workers = args.replay_workers or os.cpu_count() or 1
        figures["replay_workers"] = workers
        with progress_bar() as bar:
            task = bar.add_task(f"replay case_management, {workers} processes", total=raw_count)
            started = time.perf_counter()
            replayed = rebuild_parallel(
                ReplayJob(settings, CASE_MANAGEMENT_PROJECTION), world.case_tenants, workers,
                lambda n: bar.advance(task, n), sizes,
            )  # fmt: skip
            replay_seconds = time.perf_counter() - started
        figures["raw_read_per_s"] = raw_count / raw_seconds
        figures["replay_per_s"] = replayed / replay_seconds
        figures["replay_ratio"] = figures["replay_per_s"] / figures["raw_read_per_s"]
        console.print(
            f"raw read {figures['raw_read_per_s']:,.0f} events/s; replay"
            f" {figures['replay_per_s']:,.0f} events/s (ratio {figures['replay_ratio']:.3f})"
        )

        app = build_app(settings, platform=platform)
        with TestClient(app) as client:
            catch_up(platform, world)
            if args.warmup > 0:  # caches and prepared statements warm, as in steady operation
                cold = measure_lag(platform, world, args.rate, args.warmup)
                figures["lag_cold_p99_ms"] = percentile(cold, 0.99) * 1000
                console.print(f"warm-up: p99 {figures['lag_cold_p99_ms']:.1f} ms (not counted)")
            lags = measure_lag(platform, world, args.rate, args.seconds)
            figures["lag_p50_ms"] = percentile(lags, 0.5) * 1000
            figures["lag_p95_ms"] = percentile(lags, 0.95) * 1000
            figures["lag_p99_ms"] = percentile(lags, 0.99) * 1000
            figures["lag_max_ms"] = max(lags) * 1000
            figures["lag_samples"] = len(lags)
            console.print(
                f"lag commit -> visible at {args.rate:.0f} commands/s: p50"
                f" {figures['lag_p50_ms']:.1f} ms, p95 {figures['lag_p95_ms']:.1f} ms,"
                f" p99 {figures['lag_p99_ms']:.1f} ms, max {figures['lag_max_ms']:.0f} ms"
                f" ({len(lags)} commands)"
            )
            token = mint_token(settings, tenant="nrw", roles=["district_coordinator"])
            headers = {"Authorization": f"Bearer {token}"}
            times = []
            rng = random.Random(3)
            for _ in range(args.queries):
                district = rng.choice(world.districts)
                text = (
                    f'{{ caseFigures(tenant: "{district}", includeMembers: true) {{ openCases'
                    " byState { key count } byLifeDimension { key count }"
                    " caseload { fte openCases } } }"
                )
                t0 = time.perf_counter()
                response = client.post("/graphql", json={"query": text}, headers=headers)
                times.append(time.perf_counter() - t0)
                if response.status_code != 200 or "errors" in response.json():
                    raise RuntimeError(f"query failed: {response.text}")
            figures["district_query_p50_ms"] = percentile(times, 0.5) * 1000
            figures["district_query_p95_ms"] = percentile(times, 0.95) * 1000
            console.print(
                f"district aggregate over HTTP: p50 {figures['district_query_p50_ms']:.1f} ms,"
                f" p95 {figures['district_query_p95_ms']:.1f} ms ({args.queries} queries)"
            )
    finally:
        from runtime.eventstore.postgres import PostgresEventLogStore

        if isinstance(platform.store, PostgresEventLogStore):
            platform.close_read()
            platform.store.drop_schema()
        platform.close()
        tmp.cleanup()
        if isinstance(bus, NatsBus):
            asyncio.run(delete_stream(args.bus, settings.nats_stream))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    return 0

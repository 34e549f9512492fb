"""``python -m bench write --profile``: where the client CPU of the platform's command goes.

The command of ``bench write`` (``register_organisation`` on PostgreSQL, tracing set up as
in a service) in the benchmark's writer threads, each under its own ``cProfile`` with the
thread's CPU clock (time waiting for PostgreSQL or for the GIL does not count), merged.
Printed: CPU per command by package and the functions that cost most by their own time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import Organisation, OrganisationKind, check_name
from runtime.eventstore import chain
from runtime.eventstore.base import current_metadata
from runtime.eventstore.postgres import PostgresEventLogStore
from runtime.telemetry import setup_tracing, tracer

GROUPS = (
    ("psycopg", "psycopg (driver)"),
    ("eventsourcing", "eventsourcing"),
    ("opentelemetry", "OpenTelemetry"),
    ("/runtime/", "runtime (store, recorder)"),
    ("/contexts/", "contexts (domain, application)"),
)


def group_of(filename: str) -> str:
    for needle, name in GROUPS:
        if needle in filename:
            return name
    return "built-ins and standard library"


def per_call(work: Callable[[], object], n: int = 5000) -> float:
    """µs of this thread's CPU per call, the best of five runs of ``n``."""
    best = float("inf")
    for _ in range(5):
        start = time.thread_time()
        for _ in range(n):
            work()
        best = min(best, time.thread_time() - start)
    return best / n * 1e6


def step_costs(store: PostgresEventLogStore, app: CoordinationApplication) -> dict[str, float]:
    """What each step of the command costs alone, one thread, no profiler."""
    stored = app.mapper.to_stored_event(aggregate_event())
    event = aggregate_event()
    attributes: dict[str, str | int] = {
        "kim.tenant": "bench-000",
        "kim.events": 1,
        "db.system": "postgresql",
    }

    def span() -> None:
        tracer().start_span("append coordination", attributes=attributes).end()

    def checkout() -> None:
        with store._checkout.connection(store.pool):
            pass

    def digest() -> None:
        chain.content_digest_v2(
            tenant="bench-000", context="coordination", event_id=str(uuid.uuid4()),
            originator_id=str(stored.originator_id), originator_version=1, topic=stored.topic,
            state=stored.state, actor="system", correlation_id=str(uuid.uuid4()),
            causation_id=None, traceparent=None,
        )  # fmt: skip

    def aggregate() -> None:
        Organisation(
            name="Lernen fördern e.V.", kind="welfare_provider", office_type=None
        ).collect_events()

    return {
        "tracing: the append span (OpenTelemetry SDK)": per_call(span),
        "hash chain: the v2 digest (two uuid4 included)": per_call(digest),
        "request stamping: metadata and correlation id": per_call(current_metadata),
        "pool checkout (stale-connection check, outage log)": per_call(checkout, 2000),
        "eventsourcing: new aggregate, its event collected": per_call(aggregate),
        "eventsourcing: mapper (event to JSON)": per_call(
            lambda: app.mapper.to_stored_event(event)
        ),
        "domain rule: check_name (no contact data)": per_call(
            lambda: check_name("Lernen fördern e.V.")
        ),
    }


def aggregate_event() -> Any:
    return Organisation(
        name="Lernen fördern e.V.", kind="welfare_provider", office_type=None
    ).collect_events()[0]


def profile(dsn: str, writers: int, per_writer: int, tenants: int) -> pstats.Stats:
    setup_tracing("kim-bench")
    store = PostgresEventLogStore(dsn, schema=f"bench_prof_{uuid.uuid4().hex[:8]}")
    store.ready()
    names = [f"bench-{i:03d}" for i in range(tenants)]
    apps = {t: CoordinationApplication(t, store.recorder) for t in names}
    profiles = [cProfile.Profile(time.thread_time) for _ in range(writers)]
    gate = threading.Barrier(writers)

    def command(tenant: str) -> None:
        apps[tenant].register_organisation("Lernen fördern e.V.", OrganisationKind.WELFARE_PROVIDER)

    def writer(w: int) -> None:
        offset = w * max(1, tenants // writers)
        for i in range(50):  # warm: pool, prepared statements, caches
            command(names[(offset + i) % tenants])
        gate.wait()
        profiles[w].enable()
        for i in range(per_writer):
            command(names[(offset + i) % tenants])
        profiles[w].disable()

    try:
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        costs = step_costs(store, apps[names[0]])
        print("steps of the command alone (µs of CPU per call, one thread, no profiler):")
        for name, us in costs.items():
            print(f"  {us:7.1f} µs  {name}")
    finally:
        store.drop_schema()
        store.close()
    stats = pstats.Stats(profiles[0])
    for p in profiles[1:]:
        stats.add(p)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench write --profile", description=__doc__)
    parser.add_argument(
        "--dsn",
        default=os.environ.get("KIM_BENCH_PG_DSN", "postgresql://127.0.0.1:5432/test"),
    )
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--commands", type=int, default=2000, help="commands per writer")
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    stats = profile(args.dsn, args.writers, args.commands, args.tenants)
    total = args.writers * args.commands
    by_group: dict[str, float] = defaultdict(float)
    raw = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        by_group[group_of(filename)] += tottime
    print(f"client CPU per command by package ({args.writers} writers, {total} commands):")
    for name, seconds in sorted(by_group.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds / total * 1e6:7.1f} µs  {name}")
    print(f"  {sum(by_group.values()) / total * 1e6:7.1f} µs  in all (under the profiler)")
    stats.sort_stats("tottime").print_stats(args.top)
    return 0

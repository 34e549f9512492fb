"""``python -m bench write --ablate``: what each guarantee of the command costs, in place.

The platform's command and the store's append run in the benchmark's writer threads, in
full and with one guarantee taken out at a time (in this process only, by replacing the
function that provides it), beside the append statement alone. The difference in client CPU
per command (the writer threads' ``time.thread_time``) is what the guarantee costs where it
runs, with its glue and, with several writers, its share of the GIL. The variants alternate
within every round, so a change of machine load hits them alike; the median of the rounds
counts. Nothing here changes the platform: a taken-out guarantee exists only in this process
and only while its variant runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self

from eventsourcing.persistence import StoredEvent
from opentelemetry import trace
from rich.table import Table

import contexts.coordination.application as coordination_app
import runtime.eventstore.base as store_base
from bench.write import DEFAULT_DSN, append_statement
from bench.writers import PAYLOAD, TOPIC, Result, console, run_threads
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import OrganisationKind
from runtime.eventstore import chain
from runtime.eventstore.postgres import PostgresEventLogStore
from runtime.eventstore.postgres_sql import single_append_params, single_append_sql
from runtime.eventstore.records import EventMetadata
from runtime.telemetry import setup_tracing

Patch = Callable[[], Callable[[], None]]
"""Takes a guarantee out and returns what puts it back."""


def no_patch() -> Callable[[], None]:
    return lambda: None


def swap(module: object, name: str, value: object) -> Callable[[], None]:
    """Replace ``module.name`` for the variant's run; returns what puts it back."""
    real = getattr(module, name)
    setattr(module, name, value)
    return lambda: setattr(module, name, real)


def without_span() -> Callable[[], None]:
    """Tracing: the append span is a no-op span (as with no tracer provider)."""
    noop = trace.NoOpTracer()
    return swap(store_base, "tracer", lambda: noop)


def without_digest() -> Callable[[], None]:
    """Hash chain, Python side: the event's content digest is a constant (the SQL side, the
    chain over the digests and the head row, still runs)."""
    constant = bytes(32)
    return swap(chain, "content_digest_v2", lambda **_fields: constant)


def without_name_rule() -> Callable[[], None]:
    """Data protection: the organisation's name is not checked for contact data."""
    return swap(coordination_app, "check_name", lambda name: name)


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    layer: str  # "statement", "store" or "platform"
    patch: Patch = no_patch
    stamped: bool = True  # False: the append is given its metadata (no request stamping)


VARIANTS = (
    Variant("statement", "append statement alone", "statement"),
    Variant("store", "store.append, stored event given", "store"),
    Variant("store-no-span", "store.append without the span", "store", without_span),
    Variant("store-no-digest", "store.append without the digest", "store", without_digest),
    Variant("store-no-stamp", "store.append, metadata given", "store", stamped=False),
    Variant("platform", "platform command (register_organisation)", "platform"),
    Variant("platform-no-rule", "platform without the name rule", "platform", without_name_rule),
    Variant("platform-no-span", "platform without the span", "platform", without_span),
)

GIVEN = EventMetadata("bench", str(uuid.uuid4()))


def attribution(us: dict[str, float]) -> list[tuple[str, str, float]]:
    """(part, guarantee it serves, µs per command) from the variants' medians; the parts
    add up to the platform's distance from the statement alone."""
    span = us["store"] - us["store-no-span"]
    digest = us["store"] - us["store-no-digest"]
    stamp = us["store"] - us["store-no-stamp"]
    rule = us["platform"] - us["platform-no-rule"]
    store_rest = us["store"] - us["statement"] - span - digest - stamp
    sourcing = us["platform"] - us["store"] - rule
    return [
        ("the append span (OpenTelemetry SDK)", "tracing", span),
        ("the event's content digest (SHA-256)", "hash chain", digest),
        ("actor, correlation and trace parent stamped", "request stamping", stamp),
        (
            "the rest of the store: pool checkout, event id, log address check, listeners",
            "database faults answer 503, tenant isolation",
            store_rest,
        ),
        ("no contact data in the organisation's name", "data protection", rule),
        (
            "aggregate, its event, mapper, save (eventsourcing and the application)",
            "event sourcing",
            sourcing,
        ),
    ]


@contextmanager
def platform_setup(dsn: str, tenants: int) -> Iterator[
    tuple[str, PostgresEventLogStore, dict[str, CoordinationApplication]]
]:  # fmt: skip
    schema = f"bench_abl_{uuid.uuid4().hex[:8]}"
    store = PostgresEventLogStore(dsn, schema=schema, max_connections=20)
    store.ready()
    try:
        names = [f"bench-{i:03d}" for i in range(tenants)]
        yield schema, store, {t: CoordinationApplication(t, store.recorder) for t in names}
    finally:
        store.drop_schema()
        store.close()


class DryConnection:
    """``--dry``: stands in for the database, answering the append statement's row at once,
    so what is measured is the Python of the command and nothing the database does."""

    def __init__(self) -> None:
        self.position = 0

    def execute(self, query: object, params: object = None, prepare: bool | None = None) -> Self:
        self.position += 1
        return self

    def fetchone(self) -> tuple[int]:
        return (self.position,)


class DryCheckout:
    """The store's real pool checkout (its cost stays in), handing out the dry connection."""

    def __init__(self, real: Any, conn: DryConnection) -> None:
        self.real, self.conn = real, conn

    @contextmanager
    def connection(self, pool: Any, timeout: float | None = None) -> Iterator[DryConnection]:
        with self.real.connection(pool, timeout):
            yield self.conn


def one_writer(label: str, n: int, command: Callable[[int], object], pause: float) -> Result:
    """``n`` commands in this thread (no progress bar redrawing beside it: a thread that
    takes the GIL now and then makes the writer's CPU time noisier). With ``pause`` (s) the
    thread sleeps between commands, as it waits for the database in a wet run, and only the
    commands' own CPU time counts: code that runs after a wait finds the caches cold."""
    cpu, start = 0.0, time.perf_counter()
    if not pause:
        cpu0 = time.thread_time()
        for i in range(n):
            command(i)
        cpu = time.thread_time() - cpu0
    else:
        for i in range(n):
            time.sleep(pause)
            cpu0 = time.thread_time()
            command(i)
            cpu += time.thread_time() - cpu0
    return Result(label, n, time.perf_counter() - start, 1, cpu)


def dry_statement(schema: str, per_writer: int, tenants: list[str], pause: float) -> Result:
    """The statement alone, dry: its parameters made and handed to the dry connection."""
    sql, conn = single_append_sql(schema), DryConnection()

    def command(i: int) -> None:
        params = single_append_params(
            tenants[i % len(tenants)], "statement", event_id=str(uuid.uuid4()),
            originator_id=uuid.uuid4(), originator_version=1, topic=TOPIC, state=PAYLOAD,
            actor="bench", correlation_id=str(uuid.uuid4()), causation_id=None,
            traceparent=None, digest=os.urandom(32),
        )  # fmt: skip
        conn.execute(sql, params, prepare=True).fetchone()

    return one_writer("append statement alone (dry)", per_writer, command, pause)


def run_variant(
    variant: Variant,
    dsn: str,
    schema: str,
    store: PostgresEventLogStore,
    apps: dict[str, CoordinationApplication],
    writers: int,
    per_writer: int,
    dry: bool = False,
    pause: float = 0.0,
) -> Result:
    tenants = list(apps)
    if variant.layer == "statement":
        if dry:
            return dry_statement(schema, per_writer, tenants, pause)
        return append_statement(dsn, schema, writers, per_writer, tenants)
    if dry:
        real = store._checkout
        store._checkout = DryCheckout(real, DryConnection())  # type: ignore[assignment]
        try:
            return run_variant(variant, dsn, schema, store, apps, writers, per_writer,
                               pause=pause)  # fmt: skip
        finally:
            store._checkout = real
    meta = None if variant.stamped else GIVEN

    def store_work(w: int, tenant: str) -> None:
        store.append(tenant, "coordination", [StoredEvent(uuid.uuid4(), 1, TOPIC, PAYLOAD)],
                     metadata=meta)  # fmt: skip

    def platform_work(w: int, tenant: str) -> None:
        apps[tenant].register_organisation("Lernen fördern e.V.", OrganisationKind.WELFARE_PROVIDER)

    work = store_work if variant.layer == "store" else platform_work
    undo = variant.patch()
    try:
        if writers > 1:
            return run_threads(variant.label, writers, per_writer, tenants, work)
        return one_writer(variant.label, per_writer,
                          lambda i: work(0, tenants[i % len(tenants)]), pause)  # fmt: skip
    finally:
        undo()


def measure(args: argparse.Namespace) -> dict[int, dict[str, list[float]]]:
    """Client µs per command of every variant, per writer count, one value per round."""
    pause = args.pause / 1000 if args.dry else 0.0
    figures: dict[int, dict[str, list[float]]] = {w: {v.key: [] for v in VARIANTS}
                                                  for w in args.writer_counts}  # fmt: skip
    with platform_setup(args.dsn, args.tenants) as (schema, store, apps):
        for variant in VARIANTS:  # warm: pools, prepared statements, caches
            run_variant(variant, args.dsn, schema, store, apps, 1, 50, args.dry, pause)
        for r in range(args.rounds):
            console.print(f"round {r + 1} of {args.rounds}", end="\r")
            for writers in args.writer_counts:
                per_writer = args.commands if writers == 1 else args.commands // writers
                for variant in VARIANTS:
                    result = run_variant(variant, args.dsn, schema, store, apps, writers,
                                         max(1, per_writer), args.dry, pause)  # fmt: skip
                    figures[writers][variant.key].append(result.client_us)
    return figures


def report(figures: dict[int, dict[str, list[float]]]) -> dict[str, object]:
    """The variants' medians (rounds' range in brackets); the parts from one writer's best
    round per variant (CPU time, like ``timeit``: noise only adds). With several writers a
    thread's CPU time includes handing the GIL over, which lands on whichever thread runs;
    parts do not separate there, so only the distance from the statement is shown."""
    medians = {w: {k: statistics.median(v) for k, v in by.items()} for w, by in figures.items()}
    best = {k: min(v) for k, v in figures[1].items()}
    counts = sorted(medians)
    table = Table(title="client CPU per command (µs): median of the rounds (best-worst)")
    table.add_column("variant")
    table.add_column("1 writer: best", justify="right")
    for w in counts:
        table.add_column(f"{w} writer(s)", justify="right")
    for v in VARIANTS:
        table.add_row(v.label, f"{best[v.key]:.0f}", *(
            f"{medians[w][v.key]:.0f} ({min(figures[w][v.key]):.0f}-{max(figures[w][v.key]):.0f})"
            for w in counts
        ))  # fmt: skip
    table.add_row(
        "[bold]platform above the statement alone",
        f"[bold]{best['platform'] - best['statement']:.0f}",
        *(f"[bold]{medians[w]['platform'] - medians[w]['statement']:.0f}" for w in counts),
    )  # fmt: skip
    console.print(table)
    parts = attribution(best)
    table = Table(title="what each part costs (µs per command, one writer, best rounds)")
    table.add_column("part")
    table.add_column("guarantee")
    table.add_column("µs", justify="right")
    for part, guarantee, us in parts:
        table.add_row(part, guarantee, f"{us:.1f}")
    table.add_row("[bold]platform above the statement alone", "",
                  f"[bold]{best['platform'] - best['statement']:.1f}")  # fmt: skip
    table.add_row("target (issue: write path ahead of Message DB)", "", "60.0")
    console.print(table)
    return {
        "best_1_writer": {k: round(v, 1) for k, v in best.items()},
        "parts_1_writer": {part: round(us, 1) for part, _g, us in parts},
        "medians": {str(w): {k: round(v, 1) for k, v in medians[w].items()} for w in counts},
        "rounds": {
            str(w): {k: [round(x, 1) for x in v] for k, v in by.items()}
            for w, by in figures.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench write --ablate", description=__doc__)
    parser.add_argument("--dsn", default=os.environ.get("KIM_BENCH_PG_DSN", DEFAULT_DSN))
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--commands", type=int, default=500, help="commands per variant and round")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--writers", type=int, default=4, help="the second writer count besides 1 (0: only 1)"
    )
    parser.add_argument(
        "--dry", action="store_true",
        help="the database answers at once (one writer): the command's Python alone",
    )  # fmt: skip
    parser.add_argument(
        "--pause", type=float, default=0.0,
        help="with --dry: ms to sleep between commands, as a wet run waits for the database",
    )  # fmt: skip
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    dry_or_one = args.dry or args.writers <= 1
    args.writer_counts = [1] + ([] if dry_or_one else [args.writers])
    setup_tracing("kim-bench")  # spans recorded as in a service (exported with OTLP set)
    mode = ""
    if args.dry:
        mode = f" (dry: no database, {args.pause} ms pause between commands)"
    console.print(
        f"ablation{mode}: {len(VARIANTS)} variants, {args.rounds} rounds, {args.commands}"
        f" commands per variant, writers {args.writer_counts},"
        f" load average {os.getloadavg()[0]:.2f}"
    )
    figures = report(measure(args))
    console.print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

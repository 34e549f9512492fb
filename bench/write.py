"""Write path benchmark: platform appends vs raw single-row PostgreSQL inserts and peers.

Every variant runs in the same process, against the same database, with the same number
of concurrent writers (threads) spread over the same tenants, and again with one writer;
each command appends one event and commits durably (synchronous_commit stays on). Printed
per variant: rate, ratio to the raw-insert baseline measured in the same round, and CPU per
command in PostgreSQL and in the client. The peers: Message DB (installed from the npm
registry for the run) and eventsourcing's stock PostgreSQL recorder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.rows import TupleRow
from rich.console import Console
from rich.table import Table

from bench import messagedb
from bench.write_stock import stock_shared_table, stock_table_per_tenant
from bench.writers import (
    PAYLOAD,
    TOPIC,
    Backends,
    Result,
    console,
    on_connections,
    run_threads,
)
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import OrganisationKind
from runtime.eventstore.postgres import PostgresEventLogStore
from runtime.eventstore.postgres_roles import TENANT_ROLE
from runtime.eventstore.postgres_sql import single_append_params, single_append_sql
from runtime.eventstore.sqlite import SqliteEventLogStore
from runtime.telemetry import setup_tracing


def raw_inserts(dsn: str, schema: str, writers: int, per_writer: int, tenants: list[str]) -> Result:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {schema}.raw_events (tenant text NOT NULL,"
            " id uuid NOT NULL, version bigint NOT NULL, state bytea NOT NULL,"
            " PRIMARY KEY (tenant, id, version))"
        )
    sql = f"INSERT INTO {schema}.raw_events VALUES (%s, %s, 1, %s)".encode()

    def work(conn: psycopg.Connection[TupleRow], w: int, tenant: str) -> None:
        conn.execute(sql, (tenant, uuid.uuid4(), PAYLOAD))

    name = "raw PostgreSQL single-row inserts"
    return on_connections(name, dsn, writers, per_writer, tenants, work)


EVENT_COLUMNS = (
    "tenant, context, position, event_id, originator_id, originator_version, topic, state,"
    " actor, correlation_id, causation_id, traceparent, hash"
)


def event_row_inserts(
    dsn: str, store_schema: str, writers: int, per_writer: int, tenants: list[str]
) -> Result:
    """The platform's event row by plain INSERTs into a copy of its table (same columns and
    indexes): no log position from a head row, no hash chain, no row-level security."""
    table = f"{store_schema}.event_rows_{writers}"  # a table per writer count: own positions
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (LIKE {store_schema}.events INCLUDING ALL)")
    sql = (
        f"INSERT INTO {table} ({EVENT_COLUMNS}) VALUES (%s,%s,%s,%s,%s,1,%s,%s,%s,%s,NULL,NULL,%s)"
    ).encode()
    counters = [0] * writers

    def work(conn: psycopg.Connection[TupleRow], w: int, tenant: str) -> None:
        counters[w] += 1
        position = counters[w] * writers + w  # unique per tenant without a head row
        conn.execute(
            sql,
            (tenant, "coordination", position, uuid.uuid4(), uuid.uuid4(), TOPIC, PAYLOAD,
             "bench", str(uuid.uuid4()), os.urandom(32)),
        )  # fmt: skip

    name = "event row, plain INSERT"
    return on_connections(name, dsn, writers, per_writer, tenants, work)


def append_statement(
    dsn: str, store_schema: str, writers: int, per_writer: int, tenants: list[str]
) -> Result:
    """The platform's own append statement (head row, hash chain, row-level security),
    executed directly: the same SQL and driver calls as the platform, none of its Python."""
    sql = single_append_sql(store_schema)

    def work(conn: psycopg.Connection[TupleRow], w: int, tenant: str) -> None:
        params = single_append_params(
            tenant,
            "statement",  # a log of its own: the platform variant counts "coordination"
            event_id=str(uuid.uuid4()),
            originator_id=uuid.uuid4(),
            originator_version=1,
            topic=TOPIC,
            state=PAYLOAD,
            actor="bench",
            correlation_id=str(uuid.uuid4()),
            causation_id=None,
            traceparent=None,
            digest=os.urandom(32),
        )
        conn.execute(sql, params, prepare=True).fetchone()

    name = "append statement alone"
    session = f"SET ROLE {TENANT_ROLE}"
    return on_connections(name, dsn, writers, per_writer, tenants, work, session=session)


def platform_path(
    store: PostgresEventLogStore | SqliteEventLogStore,
    apps: dict[str, CoordinationApplication],
    name: str,
    writers: int,
    per_writer: int,
    backends: Backends | None = None,
) -> Result:
    """The platform's command: ``register_organisation`` through the application layer."""
    before = sum(v for (t, c), v in store.heads().items() if c == "coordination")

    def work(w: int, tenant: str) -> None:
        apps[tenant].register_organisation("Lernen fördern e.V.", OrganisationKind.WELFARE_PROVIDER)

    result = run_threads(name, writers, per_writer, list(apps), work, backends)
    appended = sum(v for (t, c), v in store.heads().items() if c == "coordination") - before
    assert appended == writers * per_writer, (appended, writers * per_writer)
    return result


@contextmanager
def app_name(name: str) -> Iterator[Backends]:
    """Connections opened in the block (by libpq, also in pools) carry ``name``."""
    saved = os.environ.get("PGAPPNAME")
    os.environ["PGAPPNAME"] = name
    try:
        yield Backends(os.environ.get("KIM_BENCH_PG_DSN", DEFAULT_DSN), name)
    finally:
        if saved is None:
            os.environ.pop("PGAPPNAME", None)
        else:
            os.environ["PGAPPNAME"] = saved


DEFAULT_DSN = "postgresql://127.0.0.1:5432/test"
VARIANTS = ["raw", "event_row", "statement", "message_db", "platform", "stock", "per_tenant"]
LABELS = {
    "raw": "raw single-row INSERT (baseline)",
    "event_row": "event row, plain INSERT",
    "statement": "append statement alone",
    "message_db": "Message DB write_message",
    "platform": "KIM platform (PostgreSQL)",
    "stock": "eventsourcing stock recorder",
    "per_tenant": "eventsourcing, table per tenant",
    "sqlite": "KIM platform (SQLite, 1/4 cmds)",
}
Rounds = dict[tuple[str, int], list[Result]]


def one_round(
    args: argparse.Namespace, r: int, schema: str, mdb: Path | None, rounds: Rounds
) -> None:
    """Every variant once with ``--writers`` writers and once with one."""
    tenants = [f"bench-{i:03d}" for i in range(args.tenants)]
    counts = [(args.writers, args.commands), (1, args.single)]
    round_schema = f"{schema}_r{r}"
    tag = f"kim-bench-{schema}-r{r}"

    def add(key: str, result: Result) -> None:
        rounds.setdefault((key, result.writers), []).append(result)

    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {round_schema}")
    with app_name(f"{tag}-platform") as platform_backends:
        round_store = PostgresEventLogStore(
            args.dsn, schema=f"{round_schema}_kim", max_connections=20
        )
        round_store.ready()  # its tables, before the raw sessions below use them
        apps = {t: CoordinationApplication(t, round_store.recorder) for t in tenants}
    target = messagedb.install(args.dsn, mdb) if mdb else None
    try:
        for w, n in counts:
            add("raw", raw_inserts(args.dsn, round_schema, w, n, tenants))
            add("event_row", event_row_inserts(args.dsn, round_store.schema, w, n, tenants))
            add("statement", append_statement(args.dsn, round_store.schema, w, n, tenants))
            if target:
                add("message_db", messagedb.write_messages(target, w, n, tenants))
            with app_name(f"{tag}-platform"):
                if w == args.writers:  # the pool grows to the writers, the statements prepare
                    platform_path(round_store, apps, "warm-up", w, 25)
                name = "KIM platform (PostgreSQL, RLS)"
                add("platform", platform_path(round_store, apps, name, w, n, platform_backends))
            with app_name(f"{tag}-stock-{w}") as backends:
                add("stock", stock_shared_table(args.dsn, round_schema, w, n, tenants, backends))
        if target:
            stored = messagedb.count_messages(target)
            assert stored == sum(w * n for w, n in counts), stored
        if args.adr:
            per_tenant, connections = stock_table_per_tenant(
                args.dsn, round_schema, args.writers, args.commands, tenants
            )
            rounds.setdefault(("per_tenant", args.writers), []).append(per_tenant)
            console.print(f"table per tenant: {connections} connections open to the database")
    finally:
        if target:
            messagedb.drop(args.dsn, target)
        round_store.drop_schema()
        round_store.close()
        with psycopg.connect(args.dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {round_schema} CASCADE")


def sqlite_path(args: argparse.Namespace, rounds: Rounds) -> None:
    tenants = [f"bench-{i:03d}" for i in range(args.tenants)]
    with tempfile.TemporaryDirectory() as tmp:
        lite = SqliteEventLogStore(tmp)
        try:
            apps = {t: CoordinationApplication(t, lite.recorder) for t in tenants}
            name = "KIM platform (SQLite, file per tenant)"
            for w, n in [(args.writers, args.commands // 4), (1, args.single // 4)]:
                rounds[("sqlite", w)] = [platform_path(lite, apps, name, w, n)]
        finally:
            lite.close()


def median(results: list[Result]) -> tuple[Result, int]:
    ordered = sorted(range(len(results)), key=lambda i: results[i].rate)
    i = ordered[len(ordered) // 2]
    return results[i], i


def report(args: argparse.Namespace, rounds: Rounds) -> dict[str, dict[str, object]]:
    """The table: medians of the rounds; a ratio is taken to raw inserts of the same round."""
    table = Table(title="Write path, 1 event per command, durable commit (median of rounds)")
    table.add_column("variant", no_wrap=True)
    figures: dict[str, dict[str, object]] = {}
    for w in (args.writers, 1):
        table.add_column(f"{w} writer{'s' if w > 1 else ''}/s", justify="right")
        table.add_column("ratio", justify="right")
        table.add_column("server µs", justify="right")
        table.add_column("client µs", justify="right")
    for key in [*VARIANTS, "sqlite"]:
        cells: list[str] = []
        for w in (args.writers, 1):
            if (key, w) not in rounds:
                cells += ["", "", "", ""]
                continue
            results = rounds[(key, w)]
            res, _ = median(results)
            baselines = rounds[("raw", w)]
            ratios = sorted(
                x.rate / baselines[i].rate for i, x in enumerate(results) if i < len(baselines)
            )
            ratio = ratios[len(ratios) // 2]
            server = res.server_us
            figures.setdefault(key, {"name": res.name})[str(w)] = {
                "rate": round(res.rate, 1),
                "ratio": round(ratio, 3),
                "ratios": [round(x, 3) for x in ratios],
                "server_us": None if server is None else round(server, 1),
                "client_us": round(res.client_us, 1),
            }
            cells += [
                f"{res.rate:,.0f}",
                f"{ratio:.2f}",
                "n/a" if server is None else f"{server:.0f}",
                f"{res.client_us:.0f}",
            ]
        if key in figures:
            table.add_row(LABELS[key], *cells)
    Console(width=max(console.width, 150)).print(table)  # wider than a terminal's 80
    return figures


def verdict(figures: dict[str, dict[str, object]], writers: int) -> None:
    if "message_db" not in figures:
        console.print("Message DB did not run: no comparison")
        return
    for w in (writers, 1):
        ours = figures["platform"][str(w)]["ratio"]  # type: ignore[index]
        peer = figures["message_db"][str(w)]["ratio"]  # type: ignore[index]
        word = "at or above" if ours >= peer else "below"
        console.print(f"{w} writer(s): platform ratio {ours} {word} Message DB's {peer}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench write", description=__doc__)
    parser.add_argument("--dsn", default=os.environ.get("KIM_BENCH_PG_DSN", DEFAULT_DSN))
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--commands", type=int, default=2000, help="commands per writer")
    parser.add_argument(
        "--single", type=int, default=None, help="commands of the one writer (--commands / 2)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of every variant; the median counts"
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument(
        "--adr", action="store_true", help="also measure the designs ADR 0001 rejected"
    )
    parser.add_argument(
        "--no-message-db", action="store_true", help="without the peer (no npm needed)"
    )
    parser.add_argument(
        "--http", action="store_true", help="the same commands through kim serve (HTTP)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the platform's command (cProfile)"
    )
    parser.add_argument(
        "--ablate", action="store_true", help="what each guarantee of the command costs"
    )
    args, rest = parser.parse_known_args(argv)
    if args.profile:
        from bench.write_profile import main as profile_main

        return profile_main([a for a in (argv or []) if a != "--profile"])
    if args.ablate:
        from bench.write_ablate import main as ablate_main

        return ablate_main([a for a in (argv or []) if a != "--ablate"])
    if args.http:
        from bench.write_http import main as http_main

        return http_main([a for a in (argv or []) if a != "--http"])
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.single = args.single or max(1, args.commands // 2)
    setup_tracing("kim-bench")  # spans recorded as in a service (exported with OTLP set)

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    console.print(
        f"write benchmark: {args.writers} writers and 1, {args.tenants} tenants, "
        f"{args.commands} commands per writer ({args.single} for one), {args.rounds} rounds, "
        f"{host.python_implementation()} {host.python_version()}, {os.cpu_count()} CPUs"
    )
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        settings = [
            f"{name}={row[0] if row else '?'}"
            for name in ("server_version", "synchronous_commit", "commit_delay", "commit_siblings")
            for row in [conn.execute(f"SHOW {name}").fetchone()]
        ]
    # commit_delay (e.g. PGOPTIONS="-c commit_delay=2000 -c commit_siblings=0") emulates
    # storage on which a durable commit takes longer; see docs/performance.md.
    console.print("PostgreSQL " + ", ".join(settings))
    console.print(f"load average before the run: {os.getloadavg()[0]:.2f}")

    rounds: Rounds = {}
    store = PostgresEventLogStore(args.dsn, schema=schema, max_connections=20)
    store.ready()  # the schema and the role kim_tenant, before raw sessions use them
    with tempfile.TemporaryDirectory(prefix="kim-bench-") as tmp:
        mdb: Path | None = None
        if not args.no_message_db:
            try:
                mdb = messagedb.fetch(Path(tmp))
            except messagedb.MessageDbUnavailable as e:
                console.print(f"[yellow]Message DB left out: {e}")
        try:
            for r in range(args.rounds):
                one_round(args, r, schema, mdb, rounds)
        finally:
            store.drop_schema()
            store.close()
    sqlite_path(args, rounds)
    console.print(f"load average after the run: {os.getloadavg()[0]:.2f}")

    figures = report(args, rounds)
    verdict(figures, args.writers)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=2)
    return 0

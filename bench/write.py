"""Write path benchmark: platform appends vs raw single-row PostgreSQL inserts.

Every variant runs in the same process, against the same database, with the same number
of concurrent writers (threads) spread over the same tenants; each command appends one
event and commits durably (synchronous_commit stays on). Printed: rate of each variant and
its ratio to the raw-insert baseline measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import uuid

import psycopg
from psycopg.rows import TupleRow
from rich.table import Table

from bench.write_stock import stock_shared_table, stock_table_per_tenant
from bench.writers import PAYLOAD, TOPIC, Result, console, on_connections, run_threads
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import OrganisationKind
from runtime.eventstore.postgres import PostgresEventLogStore
from runtime.eventstore.postgres_roles import TENANT_ROLE
from runtime.eventstore.postgres_sql import single_append_params, single_append_sql
from runtime.eventstore.sqlite import SqliteEventLogStore


def raw_inserts(dsn: str, schema: str, writers: int, per_writer: int, tenants: list[str]) -> Result:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {schema}.raw_events (tenant text NOT NULL, id uuid NOT NULL,"
            " version bigint NOT NULL, state bytea NOT NULL, PRIMARY KEY (tenant, id, version))"
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
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {store_schema}.event_rows (LIKE {store_schema}.events INCLUDING ALL)"
        )
    sql = (
        f"INSERT INTO {store_schema}.event_rows ({EVENT_COLUMNS})"
        " VALUES (%s,%s,%s,%s,%s,1,%s,%s,%s,%s,NULL,NULL,%s)"
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
    name: str,
    writers: int,
    per_writer: int,
    tenants: list[str],
) -> Result:
    apps = {t: CoordinationApplication(t, store.recorder) for t in tenants}

    def work(w: int, tenant: str) -> None:
        apps[tenant].register_organisation("Lernen fördern e.V.", OrganisationKind.WELFARE_PROVIDER)

    result = run_threads(name, writers, per_writer, tenants, work)
    heads = store.heads()
    appended = sum(v for (t, c), v in heads.items() if c == "coordination")
    assert appended == writers * per_writer, (appended, writers * per_writer)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench write", description=__doc__)
    parser.add_argument(
        "--dsn", default=os.environ.get("KIM_BENCH_PG_DSN", "postgresql://127.0.0.1:5432/test")
    )
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--commands", type=int, default=2000, help="commands per writer")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds; the median counts"
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument(
        "--adr", action="store_true", help="also measure the designs ADR 0001 rejected"
    )
    args = parser.parse_args(argv)

    tenants = [f"bench-{i:03d}" for i in range(args.tenants)]
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    console.print(
        f"write benchmark: {args.writers} writers, {args.tenants} tenants, "
        f"{args.commands} commands per writer, {args.rounds} rounds, "
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

    rounds: dict[str, list[Result]] = {}
    store = PostgresEventLogStore(args.dsn, schema=schema, max_connections=20)
    store.ready()  # the schema and the role kim_tenant, before raw sessions use them
    try:
        for r in range(args.rounds):
            round_schema = f"{schema}_r{r}"
            with psycopg.connect(args.dsn, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {round_schema}")
            rounds.setdefault("raw", []).append(
                raw_inserts(args.dsn, round_schema, args.writers, args.commands, tenants)
            )
            round_store = PostgresEventLogStore(
                args.dsn, schema=f"{round_schema}_kim", max_connections=20
            )
            round_store.ready()  # its tables, before the raw sessions below use them
            try:
                rounds.setdefault("event_row", []).append(
                    event_row_inserts(
                        args.dsn, round_store.schema, args.writers, args.commands, tenants
                    )
                )
                rounds.setdefault("statement", []).append(
                    append_statement(
                        args.dsn, round_store.schema, args.writers, args.commands, tenants
                    )
                )
                rounds.setdefault("platform", []).append(
                    platform_path(
                        round_store,
                        "KIM platform (PostgreSQL, RLS)",
                        args.writers,
                        args.commands,
                        tenants,
                    )
                )
            finally:
                round_store.drop_schema()
                round_store.close()
            if args.adr:
                rounds.setdefault("stock", []).append(
                    stock_shared_table(args.dsn, round_schema, args.writers, args.commands, tenants)
                )
                per_tenant, connections = stock_table_per_tenant(
                    args.dsn, round_schema, args.writers, args.commands, tenants
                )
                rounds.setdefault("per_tenant", []).append(per_tenant)
                console.print(f"table per tenant: {connections} connections open to the database")
            with psycopg.connect(args.dsn, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {round_schema} CASCADE")
    finally:
        store.drop_schema()
        store.close()

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        lite = SqliteEventLogStore(tmp)
        try:
            rounds["sqlite"] = [
                platform_path(
                    lite,
                    "KIM platform (SQLite, file per tenant)",
                    args.writers,
                    args.commands // 4,
                    tenants,
                )
            ]
        finally:
            lite.close()

    def median(name: str) -> Result:
        ordered = sorted(rounds[name], key=lambda r: r.rate)
        return ordered[len(ordered) // 2]

    baseline = median("raw")
    table = Table(title="Write path, 1 event per command, durable commit")
    table.add_column("variant")
    table.add_column("commands/s", justify="right")
    table.add_column("ratio to raw inserts", justify="right")
    figures: dict[str, dict[str, str | float]] = {}
    for key in ["raw", "event_row", "statement", "platform", "stock", "per_tenant", "sqlite"]:
        if key not in rounds:
            continue
        res = median(key)
        ratio = res.rate / baseline.rate
        figures[key] = {"name": res.name, "rate": round(res.rate, 1), "ratio": round(ratio, 3)}
        table.add_row(res.name, f"{res.rate:,.0f}", f"{ratio:.2f}")
    console.print(table)
    ratio = float(figures["platform"]["ratio"])
    verdict = "meets" if ratio >= 0.8 else "misses"
    console.print(f"platform/raw ratio {ratio} {verdict} the target >= 0.8")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=2)
    return 0

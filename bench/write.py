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
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import OrganisationKind
from services.runtime.eventstore.postgres import PostgresEventLogStore
from services.runtime.eventstore.sqlite import SqliteEventLogStore

console = Console()
PAYLOAD = json.dumps({"name": "Lernen fördern e.V.", "kind": "welfare_provider"}).encode()


@dataclass
class Result:
    name: str
    commands: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.commands / self.seconds


def run_threads(
    name: str, writers: int, per_writer: int, tenants: list[str], work: Callable[[int, str], None]
) -> Result:
    """``writers`` threads each run ``per_writer`` commands, cycling over ``tenants``."""
    total = writers * per_writer
    done = [0] * writers
    errors: list[BaseException] = []
    start_gate = threading.Barrier(writers + 1)

    def writer(w: int) -> None:
        start_gate.wait()
        try:
            # Writers start spread over the tenants, as independent offices would.
            offset = w * max(1, len(tenants) // writers)
            for i in range(per_writer):
                work(w, tenants[(offset + i) % len(tenants)])
                done[w] += 1
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    with Progress(
        TextColumn(f"[bold]{name:38}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(name, total=total)
        start_gate.wait()
        started = time.perf_counter()
        while any(t.is_alive() for t in threads):
            progress.update(task, completed=sum(done))
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        progress.update(task, completed=sum(done))
    if errors:
        raise errors[0]
    return Result(name, total, elapsed)


def raw_inserts(dsn: str, schema: str, writers: int, per_writer: int, tenants: list[str]) -> Result:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {schema}.raw_events (tenant text NOT NULL, id uuid NOT NULL,"
            " version bigint NOT NULL, state bytea NOT NULL, PRIMARY KEY (tenant, id, version))"
        )
    conns = [psycopg.connect(dsn, autocommit=True) for _ in range(writers)]
    sql = f"INSERT INTO {schema}.raw_events VALUES (%s, %s, 1, %s)".encode()

    def work(w: int, tenant: str) -> None:
        conns[w].execute(sql, (tenant, uuid.uuid4(), PAYLOAD))

    try:
        return run_threads("raw PostgreSQL single-row inserts", writers, per_writer, tenants, work)
    finally:
        for c in conns:
            c.close()


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


def stock_shared_table(
    dsn: str, schema: str, writers: int, per_writer: int, tenants: list[str]
) -> Result:
    """eventsourcing's own PostgreSQL recorder: one table, a table lock on every insert."""
    from urllib.parse import urlparse

    from eventsourcing.application import Application

    from contexts.coordination.domain import Organisation

    parsed = urlparse(dsn)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parsed.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": parsed.username or os.environ.get("USER", "postgres"),
        "POSTGRES_PASSWORD": parsed.password or "",
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": str(writers),
    }
    app: Application[uuid.UUID] = Application(env=env)

    def work(w: int, tenant: str) -> None:
        app.save(
            Organisation(name="Lernen fördern e.V.", kind="welfare_provider", office_type=None)
        )

    try:
        return run_threads(
            "eventsourcing stock recorder (shared)", writers, per_writer, tenants, work
        )
    finally:
        app.close()


def stock_table_per_tenant(
    dsn: str, schema: str, writers: int, per_writer: int, tenants: list[str]
) -> tuple[Result, int]:
    """eventsourcing's recorder with one table per tenant: no shared lock, one pool each."""
    from urllib.parse import urlparse

    from eventsourcing.application import Application

    from contexts.coordination.domain import Organisation

    parsed = urlparse(dsn)
    apps: dict[str, Application[uuid.UUID]] = {}
    for tenant in tenants:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": parsed.username or os.environ.get("USER", "postgres"),
            "POSTGRES_PASSWORD": parsed.password or "",
            "POSTGRES_SCHEMA": schema,
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": "0",
        }
        app_cls = type(f"T{tenant.replace('-', '')}", (Application,), {})
        apps[tenant] = app_cls(env=env)

    def work(w: int, tenant: str) -> None:
        org = Organisation(name="Lernen fördern e.V.", kind="welfare_provider", office_type=None)
        apps[tenant].save(org)

    try:
        result = run_threads(
            "eventsourcing stock, table per tenant", writers, per_writer, tenants, work
        )
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            ).fetchone()
        return result, int(row[0]) if row else 0
    finally:
        for app in apps.values():
            app.close()


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
        server = conn.execute("SHOW server_version").fetchone()
        sync = conn.execute("SHOW synchronous_commit").fetchone()
    console.print(
        f"PostgreSQL {server[0] if server else '?'}, synchronous_commit={sync[0] if sync else '?'}"
    )

    rounds: dict[str, list[Result]] = {}
    store = PostgresEventLogStore(args.dsn, schema=schema, max_connections=20)
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
            try:
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
    for key in ["raw", "platform", "stock", "per_tenant", "sqlite"]:
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

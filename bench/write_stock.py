"""The designs ADR 0001 rejected, for ``python -m bench write --adr``: eventsourcing's own
PostgreSQL recorder with one shared table, and with one table (and pool) per tenant."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlparse

import psycopg

from bench.writers import Backends, Result, run_threads


def stock_env(dsn: str, schema: str, **pool: str) -> dict[str, str]:
    """eventsourcing's settings for its PostgreSQL recorder on ``dsn``; ``pool``: POSTGRES_*."""
    parsed = urlparse(dsn)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parsed.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": parsed.username or os.environ.get("USER", "postgres"),
        "POSTGRES_PASSWORD": parsed.password or "",
        "POSTGRES_SCHEMA": schema,
    }
    env.update({f"POSTGRES_{key.upper()}": value for key, value in pool.items()})
    return env


def stock_shared_table(
    dsn: str,
    schema: str,
    writers: int,
    per_writer: int,
    tenants: list[str],
    backends: Backends | None = None,
) -> Result:
    """eventsourcing's own PostgreSQL recorder: one table, a table lock on every insert
    (one table per writer count: each run starts on an empty one)."""

    from eventsourcing.application import Application

    from contexts.coordination.domain import Organisation

    env = stock_env(dsn, schema, pool_size=str(writers))
    app_cls = type(f"Stock{writers}", (Application,), {})  # its table: stock{writers}_events
    app: Application[uuid.UUID] = app_cls(env=env)

    def work(w: int, tenant: str) -> None:
        app.save(
            Organisation(name="Lernen fördern e.V.", kind="welfare_provider", office_type=None)
        )

    try:
        return run_threads(
            "eventsourcing stock recorder (shared)", writers, per_writer, tenants, work, backends
        )
    finally:
        app.close()


def stock_table_per_tenant(
    dsn: str, schema: str, writers: int, per_writer: int, tenants: list[str]
) -> tuple[Result, int]:
    """eventsourcing's recorder with one table per tenant: no shared lock, one pool each."""

    from eventsourcing.application import Application

    from contexts.coordination.domain import Organisation

    apps: dict[str, Application[uuid.UUID]] = {}
    for tenant in tenants:
        env = stock_env(dsn, schema, pool_size="1", max_overflow="0")
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

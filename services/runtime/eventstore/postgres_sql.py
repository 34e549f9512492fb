"""The append statements of the PostgreSQL store."""

from __future__ import annotations


def single_append_sql(s: str) -> bytes:
    """One command, one event, no idempotency key (the common case).

    One prepared statement, one round trip, one transaction. It sets the tenant before any
    row is produced (the inserts read from ``cfg``), so the policies check every row.
    """
    return (
        "WITH cfg AS (SELECT set_config('kim.tenant', %(t)s, true) AS tenant),"
        f" head AS (INSERT INTO {s}.log_heads (tenant, context, position)"
        " SELECT cfg.tenant, %(c)s, 1 FROM cfg"
        f" ON CONFLICT (tenant, context) DO UPDATE SET position = {s}.log_heads.position + 1"
        " RETURNING position)"
        f" INSERT INTO {s}.events (tenant, context, position, event_id, originator_id,"
        " originator_version, topic, state, actor, correlation_id, causation_id, traceparent)"
        " SELECT %(t)s, %(c)s, head.position, %(eid)s, %(oid)s, %(ver)s, %(topic)s, %(state)s,"
        " %(actor)s, %(corr)s, %(cause)s, %(tp)s FROM head RETURNING position"
    ).encode()


def batch_append_sql(s: str) -> bytes:
    """Everything else commits in groups (see groupcommit.py): one call of append_batch,
    one transaction, one WAL flush for every command of the group."""
    return (
        f"SELECT req, pos FROM {s}.append_batch("
        "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ).encode()

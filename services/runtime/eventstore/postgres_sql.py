"""The append statements of the PostgreSQL store."""

from __future__ import annotations


def single_append_sql(s: str) -> bytes:
    """One command, one event, no idempotency key (the common case).

    One prepared statement, one round trip, one transaction. It sets the tenant before any
    row is produced (the inserts read from ``cfg``), so the policies check every row.
    """
    # The head row's update computes the new hash from the head's previous hash: under
    # concurrency PostgreSQL re-evaluates it on the latest committed head, so the chain
    # follows the order in which positions are given.
    return (
        "WITH cfg AS (SELECT set_config('kim.tenant', %(t)s, true) AS tenant),"
        f" head AS (INSERT INTO {s}.log_heads (tenant, context, position, hash)"
        f" SELECT cfg.tenant, %(c)s, 1, sha256({s}.chain_genesis(cfg.tenant, %(c)s)"
        " || int8send(1::bigint) || %(d)s) FROM cfg"
        f" ON CONFLICT (tenant, context) DO UPDATE SET position = {s}.log_heads.position + 1,"
        f" hash = sha256(coalesce({s}.log_heads.hash, {s}.chain_genesis(EXCLUDED.tenant,"
        f" EXCLUDED.context)) || int8send({s}.log_heads.position + 1) || %(d)s)"
        " RETURNING position, hash)"
        f" INSERT INTO {s}.events (tenant, context, position, event_id, originator_id,"
        " originator_version, topic, state, actor, correlation_id, causation_id, traceparent,"
        " hash)"
        " SELECT %(t)s, %(c)s, head.position, %(eid)s, %(oid)s, %(ver)s, %(topic)s, %(state)s,"
        " %(actor)s, %(corr)s, %(cause)s, %(tp)s, head.hash FROM head RETURNING position"
    ).encode()


def batch_append_sql(s: str) -> bytes:
    """Everything else commits in groups (see groupcommit.py): one call of append_batch,
    one transaction, one WAL flush for every command of the group."""
    return (
        f"SELECT req, pos FROM {s}.append_batch("
        "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ).encode()

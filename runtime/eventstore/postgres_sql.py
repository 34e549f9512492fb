"""The append statements of the PostgreSQL store."""

from __future__ import annotations

from typing import Any
from uuid import UUID


def single_append_sql(s: str) -> bytes:
    """One command, one event, no idempotency key (the common case).

    One prepared statement, one round trip, one transaction. It sets the tenant before any
    row is produced (the inserts read from ``cfg``), so the policies check every row.
    """
    # The head row's update computes the new hash from the head's previous hash: under
    # concurrency PostgreSQL re-evaluates it on the latest committed head, so the chain
    # follows the order in which positions are given. recorded_at is taken there too (after
    # the head row's lock, so it grows with the position) and hashed (chain v2). Positional
    # parameters (cheaper for the driver than named ones), made by single_append_params.
    return (
        "WITH cfg AS (SELECT set_config('kim.tenant', %s, true) AS tenant),"
        f" head AS (INSERT INTO {s}.log_heads (tenant, context, position, hash, recorded_at)"
        f" SELECT cfg.tenant, %s, 1, {s}.chain_link_v2({s}.chain_genesis(cfg.tenant, %s), 1, %s,"
        " x.at), x.at FROM cfg, (SELECT clock_timestamp() AS at) x"
        " ON CONFLICT (tenant, context) DO UPDATE SET (position, recorded_at, hash) ="
        f" (SELECT n.pos, n.at, {s}.chain_link_v2(coalesce({s}.log_heads.hash,"
        f" {s}.chain_genesis(EXCLUDED.tenant, EXCLUDED.context)), n.pos, %s, n.at)"
        f" FROM (SELECT {s}.log_heads.position + 1 AS pos, clock_timestamp() AS at) n)"
        " RETURNING tenant, context, position, hash, recorded_at)"
        f" INSERT INTO {s}.events (tenant, context, position, event_id, originator_id,"
        " originator_version, topic, state, actor, correlation_id, causation_id, traceparent,"
        " hash, recorded_at)"
        " SELECT head.tenant, head.context, head.position, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
        " head.hash, head.recorded_at FROM head RETURNING position"
    ).encode()


def single_append_params(
    tenant: str,
    context: str,
    *,
    event_id: str,
    originator_id: UUID | str,
    originator_version: int,
    topic: str,
    state: bytes,
    actor: str,
    correlation_id: str,
    causation_id: str | None,
    traceparent: str | None,
    digest: bytes,
) -> tuple[Any, ...]:
    """The parameters of single_append_sql, in the order of its placeholders."""
    return (
        tenant, context, context, digest, digest, event_id, originator_id, originator_version,
        topic, state, actor, correlation_id, causation_id, traceparent,
    )  # fmt: skip


def batch_append_sql(s: str) -> bytes:
    """Everything else commits in groups (see groupcommit.py): one call of append_batch,
    one transaction, one WAL flush for every command of the group."""
    return (
        f"SELECT req, pos FROM {s}.append_batch("
        "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ).encode()

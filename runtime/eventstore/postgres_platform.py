"""The PostgreSQL store's own bookkeeping: log heads, relay positions, checkpoints.

Platform-level and not tenant-scoped: these run on the store's small platform pool
(``_admin``), apart from the tenant sessions under row-level security.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import psycopg
from psycopg.rows import TupleRow

from runtime.signing import SignedHead


class PlatformTables:
    """Mixed into ``PostgresEventLogStore``, which provides ``schema`` and ``_admin``."""

    schema: str
    _admin: Callable[[], AbstractContextManager[psycopg.Connection[TupleRow]]]

    def heads(self) -> dict[tuple[str, str], int]:
        with self._admin() as conn:
            rows = conn.execute(
                f"SELECT tenant, context, position FROM {self.schema}.log_heads".encode()
            ).fetchall()
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def relay_positions(self, relay: str) -> dict[tuple[str, str], int]:
        with self._admin() as conn:
            rows = conn.execute(
                f"SELECT tenant, context, position FROM {self.schema}.relay_positions"
                " WHERE relay=%s".encode(),
                (relay,),
            ).fetchall()
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def set_relay_position(self, relay: str, tenant: str, context: str, position: int) -> None:
        self.set_relay_positions(relay, {(tenant, context): position})

    def set_relay_positions(self, relay: str, positions: dict[tuple[str, str], int]) -> None:
        """One transaction, one commit, without waiting for the disk: a lost position
        only makes the relay publish again what the bus and the consumers drop."""
        with self._admin() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")
            cur.executemany(
                f"INSERT INTO {self.schema}.relay_positions VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (relay, tenant, context) DO UPDATE"
                f" SET position = GREATEST({self.schema}.relay_positions.position,"
                " EXCLUDED.position)".encode(),
                [(relay, t, c, p) for (t, c), p in sorted(positions.items())],
            )

    def add_checkpoint(self, tenant: str, context: str, position: int, hash_: bytes) -> None:
        with self._admin() as conn:
            conn.execute(
                f"INSERT INTO {self.schema}.checkpoints (tenant, context, position, hash)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING".encode(),
                (tenant, context, position, hash_),
            )

    def add_checkpoints(self, heads: dict[tuple[str, str], tuple[int, bytes]]) -> None:
        with self._admin() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")  # a lost one is taken again
            cur.executemany(
                f"INSERT INTO {self.schema}.checkpoints (tenant, context, position, hash)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING".encode(),
                [(t, c, p, h) for (t, c), (p, h) in sorted(heads.items())],
            )

    def checkpoints(self, tenant: str, context: str) -> list[tuple[int, bytes]]:
        with self._admin() as conn:
            rows = conn.execute(
                f"SELECT position, hash FROM {self.schema}.checkpoints"
                " WHERE tenant=%s AND context=%s ORDER BY position".encode(),
                (tenant, context),
            ).fetchall()
        return [(int(p), bytes(h)) for p, h in rows]

    def logs_with_events(self) -> set[tuple[str, str]]:
        # A skip scan over the primary key: one index probe per log, whatever its length.
        with self._admin() as conn:
            rows = conn.execute(
                f"WITH RECURSIVE l AS ((SELECT tenant, context FROM {self.schema}.events"
                " ORDER BY tenant, context LIMIT 1) UNION ALL SELECT n.tenant, n.context"
                f" FROM l, LATERAL (SELECT tenant, context FROM {self.schema}.events e"
                " WHERE (e.tenant, e.context) > (l.tenant, l.context)"
                " ORDER BY tenant, context LIMIT 1) n) SELECT tenant, context FROM l".encode()
            ).fetchall()
        return {(str(t), str(c)) for t, c in rows}

    def add_signed_checkpoints(self, signed: Sequence[SignedHead]) -> None:
        if not signed:
            return
        with self._admin() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {self.schema}.checkpoints (tenant, context, position, hash,"
                " statement) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (tenant, context, position)"
                f" DO UPDATE SET statement = COALESCE({self.schema}.checkpoints.statement,"
                " EXCLUDED.statement)".encode(),
                [(h.tenant, h.context, h.position, h.hash, h.line()) for h in signed],
            )

    def signed_checkpoints(self, tenant: str | None = None) -> list[SignedHead]:
        query = f"SELECT statement FROM {self.schema}.checkpoints WHERE statement IS NOT NULL"
        if tenant is not None:
            query += " AND tenant = %s"
        query += " ORDER BY tenant, context, position"
        with self._admin() as conn:
            rows = conn.execute(query.encode(), (tenant,) if tenant is not None else ()).fetchall()
        return [SignedHead.of_line(r[0]) for r in rows]

    def recorded_heads(self) -> dict[tuple[str, str], tuple[int, bytes | None]]:
        with self._admin() as conn:
            rows = conn.execute(
                f"SELECT tenant, context, position, hash FROM {self.schema}.log_heads".encode()
            ).fetchall()
        return {(t, c): (int(p), None if h is None else bytes(h)) for t, c, p, h in rows}

"""The PostgreSQL store's keys for personal data, one per data subject, wrapped in epochs.

Tenant-scoped like the events: reading, storing, re-wrapping and deleting a key run in a
tenant transaction under row-level security. The key state (floor, key file id) and the
pending erasures are platform-level; a rotation reads them on the platform pool.

The fence between storing a key and beginning an epoch is an advisory lock: a key is
stored under it shared (its floor read in a later statement, so after the lock), the floor
raised under it exclusively; once ``raise_key_floor`` has committed, every key stored
under the old floor is committed and none below the new one can follow (ADR 0006).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from uuid import UUID

import psycopg
from psycopg.rows import TupleRow

from runtime.eventstore.base import check_log_address
from runtime.eventstore.keys import KeyState, RotationBusy, StoredKey
from runtime.eventstore.outage import DbTimeouts


class SubjectKeyTables:
    """Mixed into ``PostgresEventLogStore``: ``schema``, ``dsn``, ``_conn``, ``_tenant_tx``
    and ``_admin``."""

    schema: str
    dsn: str
    timeouts: DbTimeouts
    _conn: Callable[[], AbstractContextManager[psycopg.Connection[TupleRow]]]
    _tenant_tx: Callable[[str], AbstractContextManager[psycopg.Connection[TupleRow]]]
    _admin: Callable[[], AbstractContextManager[psycopg.Connection[TupleRow]]]

    def _lock_name(self, what: str) -> str:
        return f"kim-key-{what}:{self.schema}"

    def put_key(
        self, tenant: str, key_id: UUID, epoch: int, kek_id: str, key: bytes
    ) -> StoredKey | None:
        check_log_address(tenant, "keys")
        s = self.schema
        with self._conn() as conn, conn.transaction():
            conn.execute(
                "SELECT set_config('kim.tenant', %s, true),"
                " pg_advisory_xact_lock_shared(hashtext(%s))",
                (tenant, self._lock_name("floor")),
                prepare=True,
            )
            # The second part reads the snapshot from before the insert: a key already there.
            sql = (
                f"WITH ins AS (INSERT INTO {s}.subject_keys (tenant, key_id, epoch, key)"
                f" SELECT %(t)s, %(k)s, %(e)s, %(w)s FROM {s}.key_state"
                " WHERE floor <= %(e)s AND kek_id = %(kek)s"
                " ON CONFLICT DO NOTHING RETURNING epoch, key)"
                " SELECT epoch, key FROM ins UNION ALL"
                f" SELECT epoch, key FROM {s}.subject_keys WHERE tenant = %(t)s AND key_id = %(k)s"
            )
            row = conn.execute(
                sql.encode(),
                {"t": tenant, "k": key_id, "e": epoch, "w": key, "kek": kek_id},
                prepare=True,
            ).fetchone()
        return StoredKey(tenant, key_id, int(row[0]), bytes(row[1])) if row else None

    def get_key(self, tenant: str, key_id: UUID) -> StoredKey | None:
        with self._tenant_tx(tenant) as conn:
            row = conn.execute(
                f"SELECT epoch, key FROM {self.schema}.subject_keys"
                " WHERE tenant=%s AND key_id=%s".encode(),
                (tenant, key_id),
                prepare=True,
            ).fetchone()
        return StoredKey(tenant, key_id, int(row[0]), bytes(row[1])) if row else None

    def destroy_key(self, tenant: str, key_id: UUID) -> bool:
        s = self.schema
        with self._tenant_tx(tenant) as conn:
            cur = conn.execute(
                f"WITH gone AS (DELETE FROM {s}.subject_keys WHERE tenant=%s AND key_id=%s"
                f" RETURNING tenant, epoch) INSERT INTO {s}.key_erasures (tenant, epoch)"
                " SELECT tenant, epoch FROM gone".encode(),
                (tenant, key_id),
            )
            return cur.rowcount > 0

    # -- platform-level: key epochs --------------------------------------------------------
    def key_state(self) -> KeyState:
        s = self.schema
        with self._admin() as conn:
            floor, kek_id = _one(conn.execute(f"SELECT floor, kek_id FROM {s}.key_state".encode()))
            pending, oldest = _one(
                conn.execute(f"SELECT count(*), min(erased_at) FROM {s}.key_erasures".encode())
            )
            counts = (
                "SELECT count(*), count(*) FILTER (WHERE epoch < %s),"
                f" count(*) FILTER (WHERE epoch = 0) FROM {s}.subject_keys"
            )
            keys, below, legacy = _one(conn.execute(counts.encode(), (floor,)))
        return KeyState(
            int(floor), kek_id, int(pending), oldest, int(keys), int(below), int(legacy)
        )

    def bind_key_file(self, kek_id: str) -> str:
        with self._admin() as conn:
            (bound,) = _one(
                conn.execute(
                    f"UPDATE {self.schema}.key_state SET kek_id = coalesce(kek_id, %s)"
                    " RETURNING kek_id".encode(),
                    (kek_id,),
                )
            )
        return str(bound)

    def raise_key_floor(self, epoch: int) -> None:
        with self._admin() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._lock_name("floor"),))
            conn.execute(
                f"UPDATE {self.schema}.key_state SET floor = greatest(floor, %s)".encode(), (epoch,)
            )

    def key_tenants(self, below: int) -> list[str]:
        with self._admin() as conn:
            rows = conn.execute(
                f"SELECT DISTINCT tenant FROM {self.schema}.subject_keys WHERE epoch < %s"
                " ORDER BY tenant".encode(),
                (below,),
            ).fetchall()
        return [str(r[0]) for r in rows]

    def keys_below(
        self, tenant: str, below: int, *, after: UUID | None, limit: int
    ) -> list[StoredKey]:
        sql = (
            f"SELECT key_id, epoch, key FROM {self.schema}.subject_keys"
            " WHERE tenant=%s AND epoch < %s"
        )
        params: list[object] = [tenant, below]
        if after is not None:
            sql += " AND key_id > %s"
            params.append(after)
        sql += " ORDER BY key_id LIMIT %s"
        params.append(limit)
        with self._tenant_tx(tenant) as conn:
            rows = conn.execute(sql.encode(), params).fetchall()
        return [StoredKey(tenant, UUID(str(k)), int(e), bytes(w)) for k, e, w in rows]

    def rewrap_keys(self, tenant: str, changes: Sequence[tuple[StoredKey, StoredKey]]) -> int:
        if not changes:
            return 0
        s = self.schema
        with self._tenant_tx(tenant) as conn:
            cur = conn.execute(
                f"UPDATE {s}.subject_keys AS k SET epoch = v.epoch, key = v.key"
                " FROM unnest(%s::uuid[], %s::int[], %s::bytea[], %s::int[], %s::bytea[])"
                " AS v(key_id, old_epoch, old_key, epoch, key)"
                " WHERE k.tenant = %s AND k.key_id = v.key_id AND k.epoch = v.old_epoch"
                " AND k.key = v.old_key".encode(),
                (
                    [old.key_id for old, _ in changes],
                    [old.epoch for old, _ in changes],
                    [old.key for old, _ in changes],
                    [new.epoch for _, new in changes],
                    [new.key for _, new in changes],
                    tenant,
                ),
            )
            return cur.rowcount

    def clear_erasures(self, upto_epoch: int) -> int:
        with self._admin() as conn:
            cur = conn.execute(
                f"DELETE FROM {self.schema}.key_erasures WHERE epoch <= %s".encode(), (upto_epoch,)
            )
            return cur.rowcount

    def key_rotation_lock(self, wait: float) -> AbstractContextManager[None]:
        return self._rotation_lock(wait)

    @contextmanager
    def _rotation_lock(self, wait: float) -> Iterator[None]:
        """A session lock on a connection of its own (outside the pools), for the rotation."""
        deadline = time.monotonic() + wait
        name = self._lock_name("rotation")
        kwargs = self.timeouts.connection_kwargs()
        with psycopg.connect(self.dsn, autocommit=True, **kwargs) as conn:
            while True:
                row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (name,)).fetchone()
                if row and row[0]:
                    break
                if time.monotonic() >= deadline:
                    raise RotationBusy("another process is rotating the key epochs")
                time.sleep(0.05)
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))


def _one(cur: psycopg.Cursor[TupleRow]) -> TupleRow:
    row = cur.fetchone()
    assert row is not None
    return row

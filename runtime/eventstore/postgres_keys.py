"""The PostgreSQL store's keys for personal data, one per data subject (crypto-shredding).

Tenant-scoped like the events: every statement runs in a tenant transaction under
row-level security.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from uuid import UUID

import psycopg
from psycopg.rows import TupleRow


class SubjectKeyTables:
    """Mixed into ``PostgresEventLogStore``, which provides ``schema`` and ``_tenant_tx``."""

    schema: str
    _tenant_tx: Callable[[str], AbstractContextManager[psycopg.Connection[TupleRow]]]

    def create_key(self, tenant: str, key_id: UUID) -> bytes:
        with self._tenant_tx(tenant) as conn:
            conn.execute(
                f"INSERT INTO {self.schema}.subject_keys (tenant, key_id, key)"
                " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING".encode(),
                (tenant, key_id, secrets.token_bytes(32)),
            )
            row = conn.execute(
                f"SELECT key FROM {self.schema}.subject_keys"
                " WHERE tenant=%s AND key_id=%s".encode(),
                (tenant, key_id),
            ).fetchone()
        assert row is not None
        return bytes(row[0])

    def get_key(self, tenant: str, key_id: UUID) -> bytes | None:
        with self._tenant_tx(tenant) as conn:
            row = conn.execute(
                f"SELECT key FROM {self.schema}.subject_keys"
                " WHERE tenant=%s AND key_id=%s".encode(),
                (tenant, key_id),
            ).fetchone()
        return bytes(row[0]) if row else None

    def destroy_key(self, tenant: str, key_id: UUID) -> bool:
        with self._tenant_tx(tenant) as conn:
            cur = conn.execute(
                f"DELETE FROM {self.schema}.subject_keys WHERE tenant=%s AND key_id=%s".encode(),
                (tenant, key_id),
            )
            return cur.rowcount > 0

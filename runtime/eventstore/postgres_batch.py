"""Group-committed appends of the PostgreSQL store: one append_batch call per group."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError
from psycopg.rows import TupleRow

from runtime.eventstore.base import IdempotencyKeyTaken
from runtime.eventstore.groupcommit import Pending

BATCH_COLUMNS = (
    "t", "c", "n", "actor", "corr", "cause", "tp", "key", "hash", "status",
    "req", "eids", "oids", "vers", "topics", "states", "digests",
)  # fmt: skip


class BatchWriter:
    def __init__(
        self,
        connection: Callable[[], AbstractContextManager[psycopg.Connection[TupleRow]]],
        sql_batch: bytes,
    ) -> None:
        self._connection = connection
        self._sql_batch = sql_batch

    def flush(self, batch: list[Pending[dict[str, Any]]]) -> None:
        """Commit a batch in one transaction; if it fails, each append on its own."""
        # A fixed lock order over head rows, so concurrent batches cannot deadlock.
        ordered = sorted(batch, key=lambda p: (p.request["t"], p.request["c"]))
        try:
            results = self.run(ordered)
        except (IntegrityError, IdempotencyKeyTaken) as e:
            if len(ordered) == 1:
                ordered[0].error = e
                return
            for item in ordered:
                try:
                    item.result = self.run([item])[0]
                except (IntegrityError, IdempotencyKeyTaken) as single:
                    item.error = single
            return
        for item, positions in zip(ordered, results, strict=True):
            item.result = positions

    def run(self, batch: list[Pending[dict[str, Any]]]) -> list[list[int]]:
        """One transaction, one round trip: the whole group in one function call."""
        results: list[list[int]] = [[] for _ in batch]
        try:
            with self._connection() as conn:
                rows = conn.execute(
                    self._sql_batch, batch_arguments([i.request for i in batch]), prepare=True
                ).fetchall()
        except psycopg.errors.UniqueViolation as e:
            raise integrity_error(e) from e
        for req, pos in rows:
            results[int(req) - 1].append(int(pos))
        return [sorted(r) for r in results]


def batch_arguments(requests: list[dict[str, Any]]) -> list[list[Any]]:
    """The arrays of one append_batch call, in the order of its parameters."""
    columns: dict[str, list[Any]] = {k: [] for k in BATCH_COLUMNS}
    for number, p in enumerate(requests, start=1):
        for name in ("t", "c", "n", "actor", "corr", "cause", "tp"):
            columns[name].append(p[name])
        for name in ("key", "hash", "status"):
            columns[name].append(p.get(name))
        columns["req"].extend([number] * p["n"])
        for name in ("eids", "oids", "vers", "topics", "states", "digests"):
            columns[name].extend(p[name])
    return [columns[k] for k in BATCH_COLUMNS]


def integrity_error(e: psycopg.errors.UniqueViolation) -> IntegrityError:
    if e.diag.constraint_name == "idempotency_pkey":
        return IdempotencyKeyTaken(str(e))
    return IntegrityError(str(e))

"""The embedded store's subject keys (wrapped, in epochs), its key state and pending erasures.

The keys live in each tenant's file; the key state (floor, key file id) and the pending
erasures in the platform's file (``_platform.sqlite``, or the single file), so one floor
holds for every tenant. A key is stored under the tenant file's write lock after reading
the floor; ``raise_key_floor`` raises it and then takes every file's write lock once, so
each key stored under an older floor is committed before a rotation reads the file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from uuid import UUID

from runtime.eventstore.base import PLATFORM_TENANT, check_log_address
from runtime.eventstore.keys import KeyState, RotationBusy, StoredKey
from runtime.eventstore.sqlite_file import TenantFile, utcnow

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: one process per store
    fcntl = None  # type: ignore[assignment]

_IN_PROCESS: dict[Path, threading.Lock] = {}
_IN_PROCESS_GUARD = threading.Lock()


class SubjectKeyFiles:
    """Mixed into ``SqliteEventLogStore``: ``_file``, ``_must``, ``_all_files``, ``path``."""

    path: Path
    single_file: bool
    _file: Callable[..., TenantFile | None]
    _must: Callable[[str], TenantFile]
    _all_files: Callable[[], list[TenantFile]]

    @contextmanager
    def _platform_conn(
        self, within: TenantFile | None, *, write: bool
    ) -> Iterator[sqlite3.Connection]:
        """The platform file's connection; inside ``within``'s transaction if it is that file."""
        platform = self._must(PLATFORM_TENANT)
        if platform is within:
            yield platform.conn
        elif write:
            with platform.write() as conn:
                yield conn
        else:
            with platform.read() as conn:
                yield conn

    def put_key(
        self, tenant: str, key_id: UUID, epoch: int, kek_id: str, key: bytes
    ) -> StoredKey | None:
        check_log_address(tenant, "keys")
        db = self._must(tenant)
        with db.write() as conn:
            row = conn.execute(
                "SELECT epoch, key FROM subject_keys WHERE tenant=? AND key_id=?",
                (tenant, str(key_id)),
            ).fetchone()
            if row is None:
                with self._platform_conn(db, write=False) as platform:
                    floor, bound = platform.execute(
                        "SELECT floor, kek_id FROM key_state WHERE id=1"
                    ).fetchone()
                if epoch < int(floor) or bound != kek_id:
                    return None
                conn.execute(
                    "INSERT INTO subject_keys (tenant, key_id, key, epoch) VALUES (?, ?, ?, ?)",
                    (tenant, str(key_id), key, epoch),
                )
                return StoredKey(tenant, key_id, epoch, key)
        return StoredKey(tenant, key_id, int(row[0]), bytes(row[1]))

    def get_key(self, tenant: str, key_id: UUID) -> StoredKey | None:
        db = self._file(tenant, create=False)
        if db is None:
            return None
        with db.read() as conn:
            row = conn.execute(
                "SELECT epoch, key FROM subject_keys WHERE tenant=? AND key_id=?",
                (tenant, str(key_id)),
            ).fetchone()
        return StoredKey(tenant, key_id, int(row[0]), bytes(row[1])) if row else None

    def destroy_key(self, tenant: str, key_id: UUID) -> bool:
        db = self._file(tenant, create=False)
        if db is None:
            return False
        with db.write() as conn:
            row = conn.execute(
                "SELECT epoch FROM subject_keys WHERE tenant=? AND key_id=?",
                (tenant, str(key_id)),
            ).fetchone()
            if row is None:
                return False
            # Noted first: a crash in between leaves a pending erasure, never a lost one.
            with self._platform_conn(db, write=True) as platform:
                platform.execute(
                    "INSERT INTO key_erasures VALUES (?, ?, ?)", (tenant, int(row[0]), utcnow())
                )
            conn.execute(
                "DELETE FROM subject_keys WHERE tenant=? AND key_id=?", (tenant, str(key_id))
            )
        # Overwrite freed pages (secure_delete), so the key does not linger in the file.
        with db.lock:
            db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return True

    def key_state(self) -> KeyState:
        with self._platform_conn(None, write=False) as platform:
            floor, kek_id = platform.execute(
                "SELECT floor, kek_id FROM key_state WHERE id=1"
            ).fetchone()
            pending, oldest = platform.execute(
                "SELECT count(*), min(erased_at) FROM key_erasures"
            ).fetchone()
        keys = below = legacy = 0
        for db in self._all_files():
            with db.read() as conn:
                total, under, raw = conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE epoch < ?),"
                    " count(*) FILTER (WHERE epoch = 0) FROM subject_keys",
                    (int(floor),),
                ).fetchone()
            keys, below, legacy = keys + int(total), below + int(under), legacy + int(raw)
        return KeyState(
            int(floor), kek_id, int(pending),
            datetime.fromisoformat(oldest) if oldest else None, keys, below, legacy,
        )  # fmt: skip

    def bind_key_file(self, kek_id: str) -> str:
        with self._platform_conn(None, write=True) as platform:
            platform.execute(
                "UPDATE key_state SET kek_id=? WHERE id=1 AND kek_id IS NULL", (kek_id,)
            )
            (bound,) = platform.execute("SELECT kek_id FROM key_state WHERE id=1").fetchone()
        return str(bound)

    def raise_key_floor(self, epoch: int) -> None:
        with self._platform_conn(None, write=True) as platform:
            platform.execute("UPDATE key_state SET floor=max(floor, ?) WHERE id=1", (epoch,))
        for db in self._all_files():  # the barrier: puts that read the old floor commit first
            with db.write():
                pass

    def key_tenants(self, below: int) -> list[str]:
        found: set[str] = set()
        for db in self._all_files():
            with db.read() as conn:
                found.update(
                    r[0]
                    for r in conn.execute(
                        "SELECT DISTINCT tenant FROM subject_keys WHERE epoch < ?", (below,)
                    )
                )
        return sorted(found)

    def keys_below(
        self, tenant: str, below: int, *, after: UUID | None, limit: int
    ) -> list[StoredKey]:
        db = self._file(tenant, create=False)
        if db is None:
            return []
        with db.read() as conn:
            rows = conn.execute(
                "SELECT key_id, epoch, key FROM subject_keys"
                " WHERE tenant=? AND epoch < ? AND key_id > ? ORDER BY key_id LIMIT ?",
                (tenant, below, "" if after is None else str(after), limit),
            ).fetchall()
        return [StoredKey(tenant, UUID(k), int(e), bytes(w)) for k, e, w in rows]

    def rewrap_keys(self, tenant: str, changes: Sequence[tuple[StoredKey, StoredKey]]) -> int:
        if not changes:
            return 0
        with self._must(tenant).write() as conn:
            cur = conn.executemany(
                "UPDATE subject_keys SET epoch=?, key=?"
                " WHERE tenant=? AND key_id=? AND epoch=? AND key=?",
                [
                    (new.epoch, new.key, tenant, str(old.key_id), old.epoch, old.key)
                    for old, new in changes
                ],
            )
            return int(cur.rowcount)

    def clear_erasures(self, upto_epoch: int) -> int:
        with self._platform_conn(None, write=True) as platform:
            cleared = platform.execute(
                "DELETE FROM key_erasures WHERE epoch <= ?", (upto_epoch,)
            ).rowcount
        for db in self._all_files():  # no page images of the old epoch left in the WAL files
            with db.lock:
                db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(cleared)

    def key_rotation_lock(self, wait: float) -> AbstractContextManager[None]:
        name = ".key-rotation.lock"
        lock_path = (
            self.path.with_name(self.path.name + name) if self.single_file else self.path / name
        )
        return _file_lock(lock_path, wait)


@contextmanager
def _file_lock(path: Path, wait: float) -> Iterator[None]:
    """An exclusive lock on ``path`` across processes (``flock``), polled until ``wait``."""
    deadline = time.monotonic() + wait
    if fcntl is None:  # pragma: no cover
        with _IN_PROCESS_GUARD:
            lock = _IN_PROCESS.setdefault(path, threading.Lock())
        if not lock.acquire(timeout=max(0.0, wait)):
            raise RotationBusy(f"{path} is held")
        try:
            yield
        finally:
            lock.release()
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RotationBusy(f"{path} is held by another rotation") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

"""The in-memory store's subject keys, key state and pending erasures (see ``keys.py``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from uuid import UUID

from runtime.eventstore.base import check_log_address
from runtime.eventstore.keys import KeyState, RotationBusy, StoredKey


class SubjectKeyMemory:
    """Mixed into ``MemoryEventLogStore``; one lock guards keys, floor and erasures."""

    def __init__(self) -> None:
        super().__init__()
        self._key_lock = threading.Lock()
        self._subject_keys: dict[tuple[str, UUID], StoredKey] = {}
        self._key_floor = 0
        self._kek_id: str | None = None
        self._erasures: list[tuple[int, datetime]] = []
        self._rotation = threading.Lock()

    def put_key(
        self, tenant: str, key_id: UUID, epoch: int, kek_id: str, key: bytes
    ) -> StoredKey | None:
        check_log_address(tenant, "keys")
        with self._key_lock:
            found = self._subject_keys.get((tenant, key_id))
            if found is None and epoch >= self._key_floor and kek_id == self._kek_id:
                found = self._subject_keys[(tenant, key_id)] = StoredKey(tenant, key_id, epoch, key)
            return found

    def get_key(self, tenant: str, key_id: UUID) -> StoredKey | None:
        with self._key_lock:
            return self._subject_keys.get((tenant, key_id))

    def destroy_key(self, tenant: str, key_id: UUID) -> bool:
        with self._key_lock:
            found = self._subject_keys.pop((tenant, key_id), None)
            if found is not None:
                self._erasures.append((found.epoch, datetime.now(UTC)))
        return found is not None

    def key_state(self) -> KeyState:
        with self._key_lock:
            below = sum(1 for k in self._subject_keys.values() if k.epoch < self._key_floor)
            legacy = sum(1 for k in self._subject_keys.values() if k.epoch == 0)
            oldest = min((at for _, at in self._erasures), default=None)
            return KeyState(
                self._key_floor, self._kek_id, len(self._erasures), oldest,
                len(self._subject_keys), below, legacy,
            )  # fmt: skip

    def bind_key_file(self, kek_id: str) -> str:
        with self._key_lock:
            if self._kek_id is None:
                self._kek_id = kek_id
            return self._kek_id

    def raise_key_floor(self, epoch: int) -> None:
        with self._key_lock:
            self._key_floor = max(self._key_floor, epoch)

    def key_tenants(self, below: int) -> list[str]:
        with self._key_lock:
            return sorted({t for (t, _), k in self._subject_keys.items() if k.epoch < below})

    def keys_below(
        self, tenant: str, below: int, *, after: UUID | None, limit: int
    ) -> list[StoredKey]:
        with self._key_lock:
            found = [
                k
                for (t, key_id), k in self._subject_keys.items()
                if t == tenant and k.epoch < below and (after is None or str(key_id) > str(after))
            ]
        return sorted(found, key=lambda k: str(k.key_id))[:limit]

    def rewrap_keys(self, tenant: str, changes: Sequence[tuple[StoredKey, StoredKey]]) -> int:
        done = 0
        with self._key_lock:
            for old, new in changes:
                if self._subject_keys.get((tenant, old.key_id)) == old:
                    self._subject_keys[(tenant, old.key_id)] = new
                    done += 1
        return done

    def clear_erasures(self, upto_epoch: int) -> int:
        with self._key_lock:
            kept = [(e, at) for e, at in self._erasures if e > upto_epoch]
            cleared = len(self._erasures) - len(kept)
            self._erasures = kept
        return cleared

    def key_rotation_lock(self, wait: float) -> AbstractContextManager[None]:
        return _held(self._rotation, wait)


@contextmanager
def _held(lock: threading.Lock, wait: float) -> Iterator[None]:
    if not lock.acquire(timeout=max(0.0, wait)):
        raise RotationBusy("a rotation of the key epochs is under way")
    try:
        yield
    finally:
        lock.release()

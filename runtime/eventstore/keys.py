"""What the stores keep of the data subjects' keys: wrapped keys, epochs, pending erasures.

A subject key is stored wrapped under the key-encryption key of an epoch
(``runtime.keyring``); the store never sees an unwrapped key. Its key state says the
lowest epoch a new key may be wrapped under (the floor, raised when a rotation begins),
which key file the store belongs to, and the erasures a rotation still has to finish
(ADR 0006).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


class RotationBusy(Exception):
    """Another process (or thread) is rotating the store's key epochs."""


@dataclass(frozen=True)
class StoredKey:
    tenant: str
    key_id: UUID
    epoch: int
    """0: a raw key from before key epochs (``runtime.keyring.LEGACY_EPOCH``)."""
    key: bytes
    """Wrapped under the epoch's key-encryption key (AES-256-GCM: nonce, ciphertext, tag)."""


@dataclass(frozen=True)
class KeyState:
    floor: int
    """New keys must be wrapped under this epoch or a later one."""
    kek_id: str | None
    """The key file the store belongs to (None: no key wrapped yet)."""
    pending: int
    """Erasures whose key may still be unwrapped from old copies (until a rotation)."""
    oldest_pending: datetime | None
    keys: int
    """Subject keys in the store, all tenants."""
    below_floor: int
    """Of those, wrapped under an epoch below the floor (a rotation still has to re-wrap)."""
    legacy: int
    """Of those, stored raw before key epochs (epoch 0; the next rotation wraps them)."""

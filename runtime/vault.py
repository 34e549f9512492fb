"""AES-256-GCM sealing of personal data under one key per data subject.

The subject keys are kept in the event store wrapped under the key-encryption key of an
epoch (``runtime.keyring``), which lives outside the store; opening a sealed text costs one
key read and one unwrap. Nothing unwrapped is cached, so an erasure or a rotation in
another process holds here at once (ADR 0006).
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runtime.eventstore.base import EventLogStore
from runtime.eventstore.keys import StoredKey
from runtime.keyring import LEGACY_EPOCH, KeyEncryptionKeys, KeyFileProblem

PREFIX = "kimv1:"
ATTEMPTS = 5
"""Tries to store a new key while rotations begin epochs under it (one is the rule)."""


class StoreVault:
    """Implements ``contexts.shared.vault.PersonalDataVault`` on the event store's key table.

    The tenant and subject are bound into every ciphertext as associated data, so a sealed
    text copied to another person or tenant does not open. ``keys``: the key-encryption
    keys (default: the ones bound to the store).
    """

    def __init__(self, store: EventLogStore, keys: KeyEncryptionKeys | None = None) -> None:
        self.store = store
        self.keys = keys if keys is not None else store.key_encryption_keys
        self._bound: str | None = None

    @staticmethod
    def _aad(tenant: str, subject: UUID) -> bytes:
        return f"kim:{tenant}:{subject}".encode()

    def _bind(self) -> str:
        """The key file's id, checked once against the one the store belongs to."""
        kek_id = self.keys.kek_id
        if self._bound != kek_id:
            recorded = self.store.bind_key_file(kek_id)
            if recorded != kek_id:
                raise KeyFileProblem(
                    f"Die Schlüsseldatei (ID {kek_id}) gehört nicht zu diesem Ereignisspeicher"
                    f" (er erwartet ID {recorded}); bitte die richtige Datei einbinden."
                )
            self._bound = kek_id
        return kek_id

    def unwrap(self, stored: StoredKey) -> bytes:
        if stored.epoch == LEGACY_EPOCH:  # stored raw before key epochs
            return stored.key
        return self.keys.unwrap(stored.tenant, stored.key_id, stored.epoch, stored.key)

    def _key(self, tenant: str, subject: UUID) -> bytes:
        """The subject's key, created (256 random bits, wrapped) if it has none yet."""
        for _ in range(ATTEMPTS):
            kek_id = self._bind()
            epoch, wrapped = self.keys.wrap(tenant, subject, secrets.token_bytes(32))
            stored = self.store.put_key(tenant, subject, epoch, kek_id, wrapped)
            if stored is not None:
                return self.unwrap(stored)
            self._bound = None  # a rotation began a later epoch, or the key file changed
        raise KeyFileProblem(
            "Kein Personenschlüssel gespeichert: die Epoche der Schlüsseldatei liegt unter der"
            " des Ereignisspeichers (veraltete Schlüsseldatei eingebunden?)."
        )

    def seal(self, tenant: str, subject: UUID, data: dict[str, Any]) -> str:
        key = self._key(tenant, subject)
        nonce = secrets.token_bytes(12)
        plain = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
        sealed = AESGCM(key).encrypt(nonce, plain, self._aad(tenant, subject))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, tenant: str, subject: UUID, sealed: str) -> dict[str, Any] | None:
        stored = self.store.get_key(tenant, subject)
        if stored is None:
            return None
        if not sealed.startswith(PREFIX):
            raise ValueError("not a sealed text of this vault")
        raw = base64.b64decode(sealed[len(PREFIX) :])
        try:
            plain = AESGCM(self.unwrap(stored)).decrypt(
                raw[:12], raw[12:], self._aad(tenant, subject)
            )
        except InvalidTag:
            raise ValueError("sealed text does not belong to this subject") from None
        data: dict[str, Any] = json.loads(plain)
        return data

    def erase(self, tenant: str, subject: UUID) -> bool:
        """Delete the subject's key; final once the next rotation destroys its epoch
        (``runtime.key_epochs``: at once with ``now``, else within the deadline)."""
        return self.store.destroy_key(tenant, subject)

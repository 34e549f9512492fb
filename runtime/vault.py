"""AES-256-GCM sealing of personal data under one key per data subject, keys in the store."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runtime.eventstore.base import EventLogStore

PREFIX = "kimv1:"


class StoreVault:
    """Implements ``contexts.shared.vault.PersonalDataVault`` on the event store's key table.

    The tenant and subject are bound into every ciphertext as associated data, so a sealed
    text copied to another person or tenant does not open.
    """

    def __init__(self, store: EventLogStore) -> None:
        self.store = store

    @staticmethod
    def _aad(tenant: str, subject: UUID) -> bytes:
        return f"kim:{tenant}:{subject}".encode()

    def seal(self, tenant: str, subject: UUID, data: dict[str, Any]) -> str:
        key = self.store.create_key(tenant, subject)
        nonce = secrets.token_bytes(12)
        plain = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
        sealed = AESGCM(key).encrypt(nonce, plain, self._aad(tenant, subject))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, tenant: str, subject: UUID, sealed: str) -> dict[str, Any] | None:
        key = self.store.get_key(tenant, subject)
        if key is None:
            return None
        if not sealed.startswith(PREFIX):
            raise ValueError("not a sealed text of this vault")
        raw = base64.b64decode(sealed[len(PREFIX) :])
        try:
            plain = AESGCM(key).decrypt(raw[:12], raw[12:], self._aad(tenant, subject))
        except InvalidTag:
            raise ValueError("sealed text does not belong to this subject") from None
        data: dict[str, Any] = json.loads(plain)
        return data

    def erase(self, tenant: str, subject: UUID) -> bool:
        return self.store.destroy_key(tenant, subject)

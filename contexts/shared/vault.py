"""The port through which applications keep personal data of migrants.

Personal data never enters an event in clear text: the application seals it under a key
that belongs to the data subject (one person) and stores only the sealed text. Erasing the
person destroys the key (crypto-shredding): every copy of the sealed text, in events,
snapshots, exports, read models and bus messages, becomes unreadable at once, while the
non-personal facts in the same events still replay. The platform keeps the keys wrapped
under key epochs outside the event store's reach, so the copies a storage engine keeps of a
deleted key (pages, write-ahead log, backups) stop opening with the next epoch (ADR 0006).
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

SEALED_PREFIX = "kimv1:"
"""How every sealed text begins (the read side turns such strings into null)."""


def is_sealed(value: object) -> bool:
    """Whether ``value`` is a sealed text (free text recorded before sealing is not)."""
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


class PersonalDataVault(Protocol):
    def seal(self, tenant: str, subject: UUID, data: dict[str, Any]) -> str:
        """Encrypt ``data`` under the subject's key (created on first use)."""
        ...

    def open(self, tenant: str, subject: UUID, sealed: str) -> dict[str, Any] | None:
        """Decrypt, or None when the subject has been erased."""
        ...

    def erase(self, tenant: str, subject: UUID) -> bool:
        """Destroy the subject's key (final with the next key epoch); True if there was one."""
        ...

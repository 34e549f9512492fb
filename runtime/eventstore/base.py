"""The storage port of the per-tenant logs, and the eventsourcing recorder on top of it."""

from __future__ import annotations

import re
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from opentelemetry.trace import Status, StatusCode

from contexts.shared.indexes import IndexBound, IndexChange
from runtime import context as request_context
from runtime.eventstore.keys import KeyState, StoredKey
from runtime.eventstore.records import (
    CommandOutcome,
    EventMetadata,
    IdempotencyRecord,
    LogRecord,
    ReplayRecord,
    event_type_of,
)
from runtime.telemetry import tracer

if TYPE_CHECKING:
    from runtime.eventstore.recorder import TenantLogRecorder
    from runtime.keyring import KeyEncryptionKeys
    from runtime.signing import SignedHead

TENANT_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
PLATFORM_TENANT = "_platform"  # the registry's own log; no tenant slug can collide with it
CONTEXT_NAME = re.compile(r"^[a-z][a-z_]{0,30}$")


class IdempotencyKeyTaken(IntegrityError):
    """Another request with the same idempotency key was stored first."""


class LogNotEmpty(Exception):
    """Import refused: the target log already holds events."""


def check_log_address(tenant: str, context: str) -> None:
    """Refuse log addresses that could escape a file name or a policy."""
    if tenant != PLATFORM_TENANT and not TENANT_KEY.match(tenant):
        raise ValueError(f"invalid tenant key {tenant!r}")
    if not CONTEXT_NAME.match(context):
        raise ValueError(f"invalid context name {context!r}")


def current_metadata() -> EventMetadata:
    ctx = request_context.current()  # positional: cheaper, in the order of the fields
    correlation_id = ctx.correlation_id or request_context.new_correlation_id()
    return EventMetadata(ctx.actor, correlation_id, ctx.causation_id, ctx.traceparent)


def outcome_of(
    tenant: str, context: str, events: Sequence[StoredEvent], positions: Sequence[int]
) -> CommandOutcome:
    return CommandOutcome(
        tenant=tenant,
        context=context,
        events=[
            {
                "aggregate_id": str(e.originator_id),
                "version": e.originator_version,
                "type": event_type_of(e.topic),
                "position": p,
            }
            for e, p in zip(events, positions, strict=True)
        ],
    )


def subjects_of(events: Sequence[StoredEvent]) -> list[str]:
    """The aggregates a command appended to, as an idempotency record names them."""
    return sorted({str(e.originator_id) for e in events})


AppendListener = Callable[[str, str, int], None]


class EventLogStore(ABC):
    """Per-tenant, per-context ordered logs with gapless positions.

    Positions of one (tenant, context) log are assigned under that log's own lock and
    become visible in position order, so a reader that tails a log never skips an event.
    Writes to different tenants never wait for each other.
    """

    kind: str = ""

    def __init__(self) -> None:
        self._listeners: tuple[AppendListener, ...] = ()  # replaced on change, read unlocked
        self._listeners_lock = threading.Lock()

    # -- writing -------------------------------------------------------------------------
    def append(
        self,
        tenant: str,
        context: str,
        events: Sequence[StoredEvent],
        *,
        metadata: EventMetadata | None = None,
        idempotency: tuple[str, str, int] | None = None,
        index_changes: Sequence[IndexChange] = (),
        bounds: Sequence[IndexBound] = (),
    ) -> list[int]:
        """Append events atomically; returns their positions.

        ``idempotency`` is (key, request hash, response status): the key is stored in the
        same transaction, so a retried command can never append twice; the record names the
        aggregates the events belong to (``subjects_of``), so ``forget_idempotency`` finds
        it when one of them is a person being erased. ``index_changes`` are written in that
        transaction too, and ``bounds`` checked after them under the log's lock
        (``IndexBoundExceeded``: nothing is written).
        """
        check_log_address(tenant, context)
        if not events:
            return []
        meta = metadata or current_metadata()
        event_ids = [str(uuid.uuid4()) for _ in events]
        # A child of the current span, not made current: nothing below it opens a span.
        span = tracer().start_span(
            f"append {context}",
            attributes={"kim.tenant": tenant, "kim.events": len(events), "db.system": self.kind},
        )
        try:
            positions = self._append(
                tenant, context, events, event_ids, meta, idempotency, index_changes, bounds
            )
        except Exception as e:
            span.record_exception(e)
            span.set_status(Status(StatusCode.ERROR, f"{type(e).__name__}: {e}"))
            raise
        finally:
            span.end()
        self._notify(tenant, context, positions[-1])
        return positions

    @abstractmethod
    def _append(
        self,
        tenant: str,
        context: str,
        events: Sequence[StoredEvent],
        event_ids: Sequence[str],
        meta: EventMetadata,
        idempotency: tuple[str, str, int] | None,
        index_changes: Sequence[IndexChange] = (),
        bounds: Sequence[IndexBound] = (),
    ) -> list[int]: ...

    def add_listener(self, listener: AppendListener) -> None:
        with self._listeners_lock:
            self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: AppendListener) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                found = list(self._listeners)
                found.remove(listener)  # by equality: a bound method is a new object each time
                self._listeners = tuple(found)

    def _notify(self, tenant: str, context: str, position: int) -> None:
        for listener in self._listeners:
            listener(tenant, context, position)

    # -- reading -------------------------------------------------------------------------
    @abstractmethod
    def select_events(
        self,
        tenant: str,
        context: str,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]: ...

    @abstractmethod
    def read_log(
        self,
        tenant: str,
        context: str,
        *,
        after: int = 0,
        upto: int | None = None,
        limit: int | None = None,
        topics: Sequence[str] = (),
    ) -> list[LogRecord]:
        """Records with ``after < position <= upto``, in position order."""

    def read_replay(
        self, tenant: str, context: str, *, after: int = 0, upto: int | None = None,
        limit: int | None = None,
    ) -> list[ReplayRecord]:  # fmt: skip
        """Like ``read_log``, only the columns a fold needs (stores may read less)."""
        return [
            ReplayRecord(r.position, r.originator_id, r.originator_version, r.topic, r.state,
                         datetime.fromisoformat(r.recorded_at))
            for r in self.read_log(tenant, context, after=after, upto=upto, limit=limit)
        ]  # fmt: skip

    @abstractmethod
    def head(self, tenant: str, context: str) -> int:
        """The last position of a log (0 when empty)."""

    @abstractmethod
    def heads(self) -> dict[tuple[str, str], int]:
        """The last position of every log in the store (platform-level, not tenant-scoped)."""

    # -- indexes written with the events (contexts/shared/indexes.py) ----------------------
    @abstractmethod
    def index_count(self, tenant: str, context: str, index: str, key: str) -> int: ...

    @abstractmethod
    def index_members(self, tenant: str, context: str, index: str, key: str) -> list[str]: ...

    @abstractmethod
    def index_range(
        self, tenant: str, context: str, index: str, low: str, high: str, limit: int
    ) -> list[tuple[str, str]]:
        """(key, member) of the index with ``low <= key <= high``, by key, at most ``limit``."""

    @abstractmethod
    def replace_index(
        self, tenant: str, context: str, entries: Iterable[tuple[str, str, str]]
    ) -> None:
        """Replace every index entry of the log (a rebuild from its aggregates)."""

    @abstractmethod
    def find_idempotency(self, tenant: str, key: str) -> IdempotencyRecord | None: ...

    @abstractmethod
    def forget_idempotency(self, tenant: str, subjects: Iterable[UUID]) -> int:
        """Delete the idempotency records of every command that appended to one of
        ``subjects`` (aggregate ids: a person and their cases, on erasure); how many went."""

    @abstractmethod
    def position_of(
        self, tenant: str, context: str, originator_id: UUID, version: int
    ) -> int | None:
        """The log position of one version of an aggregate (None: not stored)."""

    # -- keys of data subjects (crypto-shredding in key epochs, ADR 0006) ---------------------
    def use_key_encryption_keys(self, keys: KeyEncryptionKeys) -> None:
        """The key-encryption keys this store's subject keys are wrapped under (the
        platform binds its key file; unbound, a store gets keys that live in memory)."""
        self._kek = keys

    @property
    def key_encryption_keys(self) -> KeyEncryptionKeys:
        kek: KeyEncryptionKeys | None = getattr(self, "_kek", None)
        if kek is None:
            from runtime.keyring import EphemeralKeys

            kek = self._kek = EphemeralKeys()
        return kek

    @abstractmethod
    def put_key(
        self, tenant: str, key_id: UUID, epoch: int, kek_id: str, key: bytes
    ) -> StoredKey | None:
        """Store the subject's wrapped key unless it has one; the key stored.

        None: nothing stored and none there, because ``epoch`` is below the store's floor
        (a rotation has begun a later epoch) or ``kek_id`` is not the store's key file:
        reload the keys and wrap again. The floor is read under a lock that
        ``raise_key_floor`` takes exclusively, so no key below it appears afterwards.
        """

    @abstractmethod
    def get_key(self, tenant: str, key_id: UUID) -> StoredKey | None: ...

    @abstractmethod
    def destroy_key(self, tenant: str, key_id: UUID) -> bool:
        """Delete the key and note the erasure with the key's epoch, in one transaction,
        for the rotation that destroys that epoch; True if there was one."""

    # platform-level: the rotation of key epochs (runtime/key_epochs.py)
    @abstractmethod
    def key_state(self) -> KeyState: ...

    @abstractmethod
    def bind_key_file(self, kek_id: str) -> str:
        """Record the key file the store belongs to, if none yet; the one recorded."""

    @abstractmethod
    def raise_key_floor(self, epoch: int) -> None:
        """From now on no key below ``epoch`` can be stored; when this returns, every key
        stored below it before is committed and visible to ``keys_below``."""

    @abstractmethod
    def key_tenants(self, below: int) -> list[str]:
        """Tenants holding keys wrapped under an epoch below ``below``."""

    @abstractmethod
    def keys_below(
        self, tenant: str, below: int, *, after: UUID | None, limit: int
    ) -> list[StoredKey]:
        """The tenant's keys under an epoch below ``below``, by key id, after ``after``."""

    @abstractmethod
    def rewrap_keys(self, tenant: str, changes: Sequence[tuple[StoredKey, StoredKey]]) -> int:
        """Replace (old, new) where the key is still as ``old`` (an erasure or another
        rotation may have come first); how many were replaced."""

    @abstractmethod
    def clear_erasures(self, upto_epoch: int) -> int:
        """Forget the pending erasures of keys under ``upto_epoch`` or earlier (their epoch
        keys are destroyed); how many."""

    @abstractmethod
    def key_rotation_lock(self, wait: float) -> AbstractContextManager[None]:
        """Held by one rotation at a time across processes; ``RotationBusy`` after ``wait``
        seconds."""

    # -- relay bookkeeping -----------------------------------------------------------------
    @abstractmethod
    def relay_positions(self, relay: str) -> dict[tuple[str, str], int]: ...

    @abstractmethod
    def set_relay_position(self, relay: str, tenant: str, context: str, position: int) -> None: ...

    # -- audit: checkpoints of the hash chain, kept apart from the events ------------------
    @abstractmethod
    def add_checkpoint(self, tenant: str, context: str, position: int, hash_: bytes) -> None:
        """Record that the log had this head (position and hash); idempotent."""

    def add_checkpoints(self, heads: dict[tuple[str, str], tuple[int, bytes]]) -> None:
        """Record several heads at once (stores may do it in one transaction)."""
        for (tenant, context), (position, hash_) in sorted(heads.items()):
            self.add_checkpoint(tenant, context, position, hash_)

    @abstractmethod
    def checkpoints(self, tenant: str, context: str) -> list[tuple[int, bytes]]:
        """The recorded checkpoints of a log, oldest first."""

    def recorded_heads(self) -> dict[tuple[str, str], tuple[int, bytes | None]]:
        """Heads the store keeps apart from the events (position, hash), where it has any."""
        return {}

    def logs_with_events(self) -> set[tuple[str, str]]:
        """Every log that holds events, found from the events themselves (not from head
        rows, which an insider may delete): what verification walks."""
        return set(self.heads())

    def add_signed_checkpoints(self, signed: Sequence[SignedHead]) -> None:
        """Record signed heads as checkpoints (the signature kept with each; idempotent).
        This default keeps them in memory (the store in memory); stores persist them."""
        kept: list[SignedHead] = self.__dict__.setdefault("_signed_checkpoints", [])
        seen = {(h.tenant, h.context, h.position) for h in kept}
        for head in signed:
            self.add_checkpoint(head.tenant, head.context, head.position, head.hash)
            if (head.tenant, head.context, head.position) not in seen:
                kept.append(head)

    def signed_checkpoints(self, tenant: str | None = None) -> list[SignedHead]:
        """The signed checkpoints (of ``tenant``), by log and position."""
        kept: list[SignedHead] = self.__dict__.get("_signed_checkpoints", [])
        return sorted(
            (h for h in kept if tenant is None or h.tenant == tenant),
            key=lambda h: (h.tenant, h.context, h.position),
        )

    def set_relay_positions(self, relay: str, positions: dict[tuple[str, str], int]) -> None:
        """Save several logs' relay positions (stores may do it in one transaction)."""
        for (tenant, context), position in sorted(positions.items()):
            self.set_relay_position(relay, tenant, context, position)

    # -- import / lifecycle ---------------------------------------------------------------
    @abstractmethod
    def import_records(self, records: Iterable[LogRecord]) -> int:
        """Write exported records verbatim (positions, ids, metadata) into empty logs."""

    @abstractmethod
    def ping(self) -> None:
        """Raise if the store cannot be reached."""

    @abstractmethod
    def close(self) -> None: ...

    def recorder(self, tenant: str, context: str) -> TenantLogRecorder:
        from runtime.eventstore.recorder import TenantLogRecorder

        return TenantLogRecorder(self, tenant, context)

    def tenants(self) -> list[str]:
        return sorted({t for (t, _c) in self.heads()})

"""eventsourcing's recorder interface over one (tenant, context) log of an ``EventLogStore``."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    Notification,
    StoredEvent,
    Subscription,
)

from runtime import context as request_context
from runtime.eventstore.base import EventLogStore, check_log_address


class TenantLogRecorder(ApplicationRecorder):
    """eventsourcing's recorder interface over one (tenant, context) log."""

    def __init__(self, store: EventLogStore, tenant: str, context: str) -> None:
        check_log_address(tenant, context)
        self.store = store
        self.tenant = tenant
        self.context = context

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        ctx = request_context.current()
        idempotency = None
        if ctx.idempotency_key and ctx.request_hash and ctx.tenant == self.tenant:
            idempotency = (ctx.idempotency_key, ctx.request_hash, ctx.response_status)
        return self.store.append(
            self.tenant,
            self.context,
            stored_events,
            idempotency=idempotency,
            index_changes=kwargs.get("index_changes") or (),
            bounds=kwargs.get("bounds") or (),
        )

    def index_count(self, index: str, key: str) -> int:
        return self.store.index_count(self.tenant, self.context, index, key)

    def index_members(self, index: str, key: str) -> list[str]:
        return self.store.index_members(self.tenant, self.context, index, key)

    def index_range(self, index: str, low: str, high: str, limit: int) -> list[tuple[str, str]]:
        return self.store.index_range(self.tenant, self.context, index, low, high, limit)

    def replace_index(self, entries: Iterable[tuple[str, str, str]]) -> None:
        self.store.replace_index(self.tenant, self.context, entries)

    # -- what the store keeps about commands (contexts/shared/application.CommandLedger) -----
    def position_of(self, originator_id: UUID, version: int) -> int | None:
        return self.store.position_of(self.tenant, self.context, originator_id, version)

    def forget_idempotency(self, subjects: Iterable[UUID]) -> int:
        return self.store.forget_idempotency(self.tenant, subjects)

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        oid = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        return self.store.select_events(
            self.tenant, self.context, oid, gt=gt, lte=lte, desc=desc, limit=limit
        )

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        after = 0 if start is None else (start - 1 if inclusive_of_start else start)
        records = self.store.read_log(
            self.tenant, self.context, after=after, upto=stop, limit=limit, topics=topics
        )
        return [
            Notification(
                id=r.position,
                originator_id=r.originator_id,
                originator_version=r.originator_version,
                topic=r.topic,
                state=r.state,
            )
            for r in records
        ]

    def max_notification_id(self) -> int | None:
        return self.store.head(self.tenant, self.context) or None

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return LogTailSubscription(self, gt=gt, topics=topics)


class LogTailSubscription(Subscription[ApplicationRecorder]):
    """Tails one log: yields what is there, then blocks until more is appended.

    Woken by the store's append listeners in this process and by polling for appends
    made by other processes.
    """

    poll_interval = 0.2

    def __init__(
        self, recorder: TenantLogRecorder, gt: int | None = None, topics: Sequence[str] = ()
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._tenant_recorder = recorder
        self._buffer: list[Notification] = []
        self._woken = threading.Event()
        recorder.store.add_listener(self._on_append)

    def _on_append(self, tenant: str, context: str, position: int) -> None:
        if (tenant, context) == (self._tenant_recorder.tenant, self._tenant_recorder.context):
            self._woken.set()

    def stop(self) -> None:
        super().stop()
        self._tenant_recorder.store.remove_listener(self._on_append)
        self._woken.set()

    def __next__(self) -> Notification:
        while not self._buffer:
            if self._has_been_stopped:
                raise StopIteration
            self._woken.clear()
            self._buffer = list(
                self._tenant_recorder.select_notifications(
                    start=self._last_notification_id or 0,
                    limit=500,
                    topics=self._topics,
                    inclusive_of_start=False,
                )
            )
            if not self._buffer:
                self._woken.wait(self.poll_interval)
        notification = self._buffer.pop(0)
        self._last_notification_id = notification.id
        return notification

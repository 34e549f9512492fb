"""Group commit: concurrent appends share one transaction and one durable commit.

Writers hand their append to the committer and wait. The first waiting writer becomes the
leader: it takes every append queued so far, commits them together, wakes their writers
and passes the leadership to a writer that queued meanwhile. Each writer still returns
only after its events are durably committed; under load, many share one WAL flush.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class Pending(Generic[T]):
    request: T
    result: Any = None
    error: BaseException | None = None
    done: bool = False
    leader: bool = False
    wake: threading.Event = field(default_factory=threading.Event)


class GroupCommitter(Generic[T]):
    def __init__(
        self,
        flush: Callable[[list[Pending[T]]], None],
        *,
        max_batch: int = 64,
        max_in_flight: int = 2,
    ) -> None:
        """``flush`` commits a batch and sets ``result`` or ``error`` on every item.

        Up to ``max_in_flight`` batches commit at the same time (on separate connections),
        so the database can overlap one batch's WAL flush with the next batch's work.
        """
        self._flush = flush
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._lock = threading.Lock()
        self._queue: list[Pending[T]] = []
        self._leaders = 0
        self.batches = 0
        self.items = 0

    def submit(self, request: T) -> Any:
        item: Pending[T] = Pending(request)
        with self._lock:
            self._queue.append(item)
            if self._leaders < self._max_in_flight:
                self._leaders += 1
                item.leader = True
        while not item.done:
            if item.leader:
                self._lead()
            else:
                item.wake.wait()
                item.wake.clear()
        if item.error is not None:
            raise item.error
        return item.result

    def _lead(self) -> None:
        with self._lock:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            for queued in batch:
                queued.leader = False
        try:
            self._flush(batch)
        except BaseException as e:  # the flush must answer every item, whatever happens
            for item in batch:
                if not item.done:
                    item.error = e
        finally:
            self.batches += 1
            self.items += len(batch)
            with self._lock:
                successor = next((q for q in self._queue if not q.leader), None)
                if successor is None:
                    self._leaders -= 1
                else:
                    successor.leader = True
            for item in batch:
                item.done = True
                item.wake.set()
            if successor is not None:
                successor.wake.set()

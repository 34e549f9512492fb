"""Indexes written in the same transaction as the events: facts across aggregates, no replay.

A rule that spans aggregates ("at most 100 open cases per FTE of a position") must not load
every aggregate of the tenant to count. Instead an aggregate says which index entries it
stands in (``index_entries``: pairs of index name and key, e.g. the open cases of one
position); the application compares them with what the aggregate stood in when it was
loaded and hands the difference to the recorder, which writes it with the events in one
transaction. A bound ("this key has at most N members afterwards") is checked inside that
transaction, after the log's lock is taken, so two concurrent commands cannot both slip
under it: one commits, the other is refused (``IndexBoundExceeded``, a 409).

The entries are derived state: ``TenantApplication.reindex`` rebuilds them from the log
(after an import, or for a store from before an index existed). See ADR 0004.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from eventsourcing.persistence import IntegrityError

Entry = tuple[str, str]
"""(index name, key): one set of members, e.g. ("open_cases_of_position", position id)."""


@dataclass(frozen=True)
class IndexChange:
    index: str
    key: str
    member: str
    present: bool  # True: the member joins the set; False: it leaves


@dataclass(frozen=True)
class IndexBound:
    """After the command, the set (index, key) holds at most ``at_most`` members."""

    index: str
    key: str
    at_most: int
    rule: str = "index-bound"
    detail: str = "a concurrent write reached the limit first"


class IndexBoundExceeded(IntegrityError):
    """Refused inside the append's transaction: a bound would be exceeded (nothing written)."""

    def __init__(self, bound: IndexBound, count: int) -> None:
        super().__init__(f"{bound.index}[{bound.key}] would hold {count} > {bound.at_most}")
        self.bound = bound
        self.count = count


class Indexed(Protocol):
    """An aggregate that stands in index entries."""

    def index_entries(self) -> frozenset[Entry]: ...


class IndexedRecorder(Protocol):
    """What a recorder offers for indexes (the runtime's stores and the in-memory fake)."""

    def index_count(self, index: str, key: str) -> int: ...

    def index_members(self, index: str, key: str) -> list[str]: ...

    def index_range(self, index: str, low: str, high: str, limit: int) -> list[tuple[str, str]]: ...

    def replace_index(self, entries: Iterable[tuple[str, str, str]]) -> None: ...


def changes_between(
    member: str, before: frozenset[Entry], after: frozenset[Entry]
) -> list[IndexChange]:
    """What an aggregate's move from ``before`` to ``after`` changes, in a stable order."""
    return [IndexChange(i, k, member, True) for i, k in sorted(after - before)] + [
        IndexChange(i, k, member, False) for i, k in sorted(before - after)
    ]


def apply_changes(
    members: dict[Entry, set[str]], changes: Sequence[IndexChange], bounds: Sequence[IndexBound]
) -> None:
    """The semantics every store implements: apply, then check the bounds (raise, no effect)."""
    staged = {k: set(v) for k, v in members.items()}
    for c in changes:
        found = staged.setdefault((c.index, c.key), set())
        if c.present:
            found.add(c.member)
        else:
            found.discard(c.member)
    for b in bounds:
        count = len(staged.get((b.index, b.key), ()))
        if count > b.at_most:
            raise IndexBoundExceeded(b, count)
    members.clear()
    members.update({k: v for k, v in staged.items() if v})

"""Export and import of per-tenant logs as JSON lines (one record per line)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

from runtime.eventstore.base import EventLogStore, LogNotEmpty
from runtime.eventstore.records import LogRecord

Progress = Callable[[int], None]


def tenant_logs(store: EventLogStore, tenant: str, context: str | None = None) -> dict[str, int]:
    """The contexts of a tenant's logs with their head positions."""
    return {
        c: head
        for (t, c), head in sorted(store.heads().items())
        if t == tenant and (context is None or c == context)
    }


def iter_tenant(
    store: EventLogStore, tenant: str, contexts: Iterable[str], batch: int = 1000
) -> Iterator[LogRecord]:
    for context in contexts:
        after = 0
        while records := store.read_log(tenant, context, after=after, limit=batch):
            yield from records
            after = records[-1].position


def export_tenant(
    store: EventLogStore,
    tenant: str,
    out: TextIO,
    *,
    context: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Write every record of the tenant's logs, context by context in position order."""
    count = 0
    for record in iter_tenant(store, tenant, tenant_logs(store, tenant, context)):
        out.write(json.dumps(record.to_json(), ensure_ascii=False, sort_keys=True))
        out.write("\n")
        count += 1
        if progress is not None:
            progress(1)
    return count


def read_jsonl(lines: Iterable[str], progress: Progress | None = None) -> Iterator[LogRecord]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                yield LogRecord.from_json(json.loads(line))
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"line {number}: not a KIM log record ({e})") from e
        if progress is not None:
            progress(1)


def import_jsonl(
    store: EventLogStore, lines: Iterable[str], progress: Progress | None = None
) -> int:
    """Import exported records into empty logs; positions, ids and metadata are kept.

    Every target log is checked before anything is written, so a refused import leaves
    the store as it was.
    """
    records = list(read_jsonl(lines, progress))
    heads = store.heads()
    for tenant, context in sorted({(r.tenant, r.context) for r in records}):
        if heads.get((tenant, context), 0):
            raise LogNotEmpty(f"log {tenant}/{context} already holds events")
    return store.import_records(records)

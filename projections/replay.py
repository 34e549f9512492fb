"""Rebuilding read models in several processes: tenants are independent, so are their rows.

A projection's rebuild is Python-bound (decoding and folding each event), so one process uses
one core. ``rebuild_parallel`` hands tenants, largest log first, to worker processes that
each open their own platform on the same settings, rebuild the tenants they are given and
report their progress through a queue. Each tenant is still replaced in one transaction
(see ``AggregateProjection.rebuild``), so the result equals a rebuild in one process.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from projections.catalogue import ProjectionSpec
    from projections.projection import AggregateProjection
    from runtime.settings import Settings


@dataclass(frozen=True)
class ReplayJob:
    """What every worker needs to rebuild its share: picklable, no open connections."""

    settings: Settings
    projection: ProjectionSpec
    upto: int | None = None
    until: datetime | None = None
    into: str | None = None  # a SQLite read store instead of the configured one


_worker: dict[str, Any] = {}


def _start_worker(job: ReplayJob, progress: Any) -> None:
    from projections.catalogue import build_projections
    from runtime.platform import Platform

    platform = Platform(job.settings)
    if job.into is not None:
        from runtime.readstore_sqlite import SqliteReadStore

        platform.use_read_store(SqliteReadStore(job.into))
    _worker["platform"] = platform
    _worker["projection"] = build_projections(platform, [job.projection])[job.projection.name]
    _worker["job"] = job
    _worker["progress"] = progress


def _rebuild_one(tenant: str) -> int:
    job: ReplayJob = _worker["job"]
    projection: AggregateProjection = _worker["projection"]
    progress = _worker["progress"]
    return projection.rebuild(
        [tenant], progress=progress.put, upto=job.upto, until=job.until
    )  # fmt: skip


def rebuild_parallel(
    job: ReplayJob,
    tenants: Sequence[str],
    workers: int,
    progress: Callable[[int], None] | None = None,
    sizes: dict[str, int] | None = None,
) -> int:
    """Rebuild ``tenants`` in ``workers`` processes; returns the events applied.

    ``sizes`` (events per tenant) lets the largest logs start first, so no worker is left
    with a big tenant at the end.
    """
    ordered = sorted(tenants, key=lambda t: -(sizes or {}).get(t, 0))
    context = multiprocessing.get_context("spawn")  # no inherited pools or threads
    updates = context.Queue()
    total = 0
    with ProcessPoolExecutor(
        max_workers=max(1, workers),
        mp_context=context,
        initializer=_start_worker,
        initargs=(job, updates),
    ) as pool:
        futures = [pool.submit(_rebuild_one, tenant) for tenant in ordered]
        pending = set(futures)
        while pending:
            _drain(updates, progress, wait=0.1)
            done = {f for f in pending if f.done()}
            for future in done:
                total += future.result()  # a worker's error surfaces here
            pending -= done
        _drain(updates, progress, wait=0.0)
    return total


def _drain(updates: Any, progress: Callable[[int], None] | None, wait: float) -> None:
    try:
        count = updates.get(timeout=wait) if wait else updates.get_nowait()
    except queue.Empty:
        return
    while True:
        if progress is not None:
            progress(count)
        try:
            count = updates.get_nowait()
        except queue.Empty:
            return

"""The writers of the write benchmark: threads that run commands over tenants, timed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
PAYLOAD = json.dumps({"name": "Lernen fördern e.V.", "kind": "welfare_provider"}).encode()
TOPIC = "contexts.coordination.domain:Organisation.Registered"


@dataclass
class Result:
    name: str
    commands: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.commands / self.seconds


def run_threads(
    name: str, writers: int, per_writer: int, tenants: list[str], work: Callable[[int, str], None]
) -> Result:
    """``writers`` threads each run ``per_writer`` commands, cycling over ``tenants``."""
    total = writers * per_writer
    done = [0] * writers
    errors: list[BaseException] = []
    start_gate = threading.Barrier(writers + 1)

    def writer(w: int) -> None:
        start_gate.wait()
        try:
            # Writers start spread over the tenants, as independent offices would.
            offset = w * max(1, len(tenants) // writers)
            for i in range(per_writer):
                work(w, tenants[(offset + i) % len(tenants)])
                done[w] += 1
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    with Progress(
        TextColumn(f"[bold]{name:38}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(name, total=total)
        start_gate.wait()
        started = time.perf_counter()
        while any(t.is_alive() for t in threads):
            progress.update(task, completed=sum(done))
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        progress.update(task, completed=sum(done))
    if errors:
        raise errors[0]
    return Result(name, total, elapsed)


def on_connections(
    name: str,
    dsn: str,
    writers: int,
    per_writer: int,
    tenants: list[str],
    work: Callable[[psycopg.Connection[TupleRow], int, str], None],
    *,
    session: str | None = None,
) -> Result:
    """``run_threads`` with one autocommit connection per writer (``session``: run first)."""
    conns = [psycopg.connect(dsn, autocommit=True) for _ in range(writers)]
    try:
        for c in conns:
            if session:
                c.execute(session)
        return run_threads(
            name, writers, per_writer, tenants, lambda w, tenant: work(conns[w], w, tenant)
        )
    finally:
        for c in conns:
            c.close()

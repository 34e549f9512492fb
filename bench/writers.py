"""The writers of the write benchmark: threads that run commands over tenants, timed.

A run lasts from the first command's start to the last command's end, as the writers
record them (not as a poller sees them). Client CPU is the writer threads' own CPU time;
server CPU is the CPU time of the PostgreSQL backends that served the run, read from
``/proc/<pid>/stat`` before and after it (the backends of one variant share an
``application_name``, so they are found in ``pg_stat_activity``).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.rows import TupleRow
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
PAYLOAD = json.dumps({"name": "Lernen fördern e.V.", "kind": "welfare_provider"}).encode()
TOPIC = "contexts.coordination.domain:Organisation.Registered"
_TICK = 1.0 / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    commands: int
    seconds: float
    writers: int = 1
    client_cpu: float = 0.0
    """Seconds of CPU the writer threads used."""
    server_cpu: float | None = None
    """Seconds of CPU the variant's PostgreSQL backends used; None where not readable."""

    @property
    def rate(self) -> float:
        return self.commands / self.seconds

    @property
    def client_us(self) -> float:
        return self.client_cpu / self.commands * 1e6

    @property
    def server_us(self) -> float | None:
        return None if self.server_cpu is None else self.server_cpu / self.commands * 1e6


class Backends:
    """The CPU time of the PostgreSQL backends whose ``application_name`` is ``name``."""

    def __init__(self, dsn: str, name: str) -> None:
        self.dsn = dsn
        self.name = name

    def ticks(self) -> dict[int, int] | None:
        with psycopg.connect(self.dsn, autocommit=True, application_name="kim-bench-ps") as c:
            pids = [
                int(r[0])
                for r in c.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (self.name,)
                ).fetchall()
            ]
        found: dict[int, int] = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None  # PostgreSQL on another host, or not readable
            found[pid] = int(fields[11]) + int(fields[12])  # utime + stime
        return found


def server_seconds(before: dict[int, int] | None, after: dict[int, int] | None) -> float | None:
    if before is None or after is None:
        return None
    return sum(t - before.get(pid, 0) for pid, t in after.items()) * _TICK


def run_threads(
    name: str,
    writers: int,
    per_writer: int,
    tenants: list[str],
    work: Callable[[int, str], None],
    backends: Backends | None = None,
) -> Result:
    """``writers`` threads each run ``per_writer`` commands, cycling over ``tenants``."""
    total = writers * per_writer
    done = [0] * writers
    first = [0.0] * writers
    last = [0.0] * writers
    cpu = [0.0] * writers
    errors: list[BaseException] = []
    start_gate = threading.Barrier(writers + 1)

    def writer(w: int) -> None:
        start_gate.wait()
        try:
            # Writers start spread over the tenants, as independent offices would.
            offset = w * max(1, len(tenants) // writers)
            cpu0 = time.thread_time()
            first[w] = time.perf_counter()
            for i in range(per_writer):
                work(w, tenants[(offset + i) % len(tenants)])
                done[w] += 1
            last[w] = time.perf_counter()
            cpu[w] = time.thread_time() - cpu0
        except BaseException as e:
            errors.append(e)

    before = backends.ticks() if backends else None
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    label = f"{name} ({writers}w)"
    with Progress(
        TextColumn(f"[bold]{label:44}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(name, total=total)
        start_gate.wait()
        for t in threads:
            while t.is_alive():  # only the bar: the run is timed by the writers
                t.join(0.25)
                progress.update(task, completed=sum(done))
        progress.update(task, completed=sum(done))
    if errors:
        raise errors[0]
    after = backends.ticks() if backends else None
    elapsed = max(last) - min(first)
    return Result(name, total, elapsed, writers, sum(cpu), server_seconds(before, after))


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
    app_name = f"kim-bench-{os.getpid()}-{abs(hash(name)) % 10**8}"
    conns = [
        psycopg.connect(dsn, autocommit=True, application_name=app_name) for _ in range(writers)
    ]
    try:
        for c in conns:
            if session:
                c.execute(session)
        return run_threads(
            name,
            writers,
            per_writer,
            tenants,
            lambda w, tenant: work(conns[w], w, tenant),
            Backends(dsn, app_name),
        )
    finally:
        for c in conns:
            c.close()

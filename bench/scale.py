"""Cost against history: ``python -m bench scale``.

One tenant (a district-free city) gets 0, 1,000, 10,000 and 50,000 cases in its history,
most of them closed, generated with the domain's own aggregates and imported; its index
entries and read models are built as an import leaves them (``replace_index``,
``kim replay``). Then a real ``kim serve`` process on that store answers, over HTTP, the
commands of a case manager's day: open a case, assign it to a colleague's position, record
a contact, list the first page of cases. p50/p95 of each, and their ratio to the empty
tenant's measured in the same run: the target is at most 1.2 at 50,000 cases. All sizes'
servers run side by side and the rounds go to each in turn, so that the machine's drift
during the run falls on every size alike.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.history import tenant_history
from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import KnownPosition
from contexts.tenancy.application import TenancyApplication
from contexts.tenancy.contracts import TenantKind
from runtime.console import console, progress_bar
from runtime.eventstore import open_store
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import LogRecord
from runtime.http.auth import mint_token
from runtime.settings import Settings
from runtime.vault import StoreVault
from services.case_management.consumers import PositionIntake, TransferIntake
from services.coordination.consumers import GapIntake

INTAKES = (PositionIntake, TransferIntake, GapIntake)

TENANT = "skala"
CM = f"/case_management/tenants/{TENANT}"
OPERATIONS = ("open case", "assign", "record contact", "list first page")
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
CASES_PER_POSITION = 500
"""One case-management position per 500 cases of the history: a position's cases over some
five years (about 100 open at a time, most lasting a year)."""


@dataclass(frozen=True)
class Figures:
    store: str
    cases: int
    events: int
    p50: dict[str, float]  # ms
    p95: dict[str, float]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fill(store: EventLogStore, cases: int, seed: int = 11) -> tuple[int, uuid.UUID, uuid.UUID]:
    """The tenant, its history of ``cases`` (95 % closed) and two measurement positions."""
    tenancy = TenancyApplication(store.recorder)
    tenancy.register_tenant("nrw", "Landesprogramm KIM NRW", TenantKind.STATE_PROGRAMME, None, None)
    tenancy.register_tenant(TENANT, "Stadt Skala", TenantKind.DISTRICT_FREE_CITY, "nrw", None)
    app = CaseManagementApplication(TENANT, store.recorder, StoreVault(store))
    ours = [KnownPosition(id=uuid.uuid4(), fte="2.00", work_tenant=TENANT) for _ in range(2)]
    for known in ours:
        known.note_supervision(TENANT, "2021-01-01")
    entries: list[tuple[str, str, str]] = []
    rng = random.Random(seed)

    def records() -> Iterator[LogRecord]:
        position = 0
        for known in ours:
            for event in known.collect_events():
                position += 1
                stored = app.mapper.to_stored_event(event)
                yield LogRecord(
                    TENANT, "case_management", position, str(uuid.uuid4()),
                    uuid.UUID(str(stored.originator_id)), stored.originator_version,
                    stored.topic, stored.state, "bench", str(uuid.uuid4()), None, None,
                    event.timestamp.isoformat(),
                )  # fmt: skip
        history = tenant_history(
            TENANT, cases, app, rng, closed_share=0.95, entries=entries,
            cases_per_position=CASES_PER_POSITION,
        )  # fmt: skip
        for r in history:
            yield LogRecord(**{**r.__dict__, "position": r.position + position})

    events = store.import_records(records()) if cases else 0
    if not cases:  # the positions alone, through the ordinary append
        app.save(*ours)
        events = 2
    store.replace_index(TENANT, "case_management", entries)
    # The history counts as published and consumed long ago (as in a running system): the
    # relay and the intakes start at the head, the read model comes from ``kim replay``.
    heads = store.heads()
    for name in ("relay", *(f"intake:{c.name}" for c in INTAKES)):
        store.set_relay_positions(name, heads)
    return events, ours[0].id, ours[1].id


@contextmanager
def serving(url: str, schema: str) -> Iterator[str]:
    """``kim replay`` for the tenant, then ``kim serve`` on a free port until done."""
    env = {**os.environ, "KIM_EVENT_STORE": url, "KIM_PG_SCHEMA": schema, "KIM_BUS": "memory"}
    kim = [sys.executable, "-m", "kim.cli"]
    subprocess.run([*kim, "replay", "--tenant", TENANT], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [*kim, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("kim serve did not become ready")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass
class Tenant:
    """One size's store, its server and the ids the rounds use."""

    cases: int
    events: int
    base: str
    first: uuid.UUID
    second: uuid.UUID
    times: dict[str, list[float]]


class Rounds:
    """The case manager's day, one round at a time, against one server."""

    def __init__(self, tenant: Tenant) -> None:
        settings = Settings()
        self.tenant = tenant
        self.client = httpx.Client(base_url=tenant.base, timeout=60)
        self.mine = self._token(settings, tenant.first)
        self.colleague = self._token(settings, tenant.second)
        self.n = 0

    @staticmethod
    def _token(settings: Settings, position: uuid.UUID) -> dict[str, str]:
        t = mint_token(settings, tenant=TENANT, roles=["case_manager"], position=position)
        return {"Authorization": f"Bearer {t}"}

    def _call(
        self, op: str | None, method: str, path: str, h: dict[str, str], **kw: Any
    ) -> dict[str, Any]:
        started = time.perf_counter()
        response = self.client.request(method, path, headers=h, **kw)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        if op is not None:
            self.tenant.times[op].append(elapsed)
        found = response.json()
        return found if isinstance(found, dict) else {}

    def round(self, measured: bool) -> None:
        """Register a person with consent (not timed), then the four timed operations."""
        self.n += 1
        op: Callable[[str], str | None] = (lambda name: name) if measured else (lambda _: None)
        person = self._call(None, "POST", f"{CM}/people", self.mine, json={
            "personal_data": {"name": f"Person {self.n}", "arrival_on": "2024-04-01"}
        })["events"][0]["aggregate_id"]  # fmt: skip
        self._call(None, "POST", f"{CM}/people/{person}/consents", self.mine, json={
            "purpose": "case_management", "recipient": TENANT, "given_on": "2024-05-01"
        })  # fmt: skip
        opened = self._call(op("open case"), "POST", f"{CM}/cases", self.mine, json={
            "person_id": person, "referral_source": "self_referral", "opened_on": "2024-05-02",
        })  # fmt: skip
        case = opened["events"][0]["aggregate_id"]
        self._call(op("assign"), "POST", f"{CM}/cases/{case}/assignment", self.mine, json={
            "position_id": str(self.tenant.second), "on": "2024-05-03"
        })  # fmt: skip
        self._call(op("record contact"), "POST", f"{CM}/cases/{case}/contacts", self.colleague,
                   json={"on": "2024-05-04", "channel": "in_person",
                         "life_dimensions": ["language"]})  # fmt: skip
        self._call(op("list first page"), "GET", f"{CM}/cases?limit=50", self.colleague)


def interleave(tenants: list[Tenant], ops: int, warmup: int) -> None:
    """Warm-up, then the measured rounds in turn over all sizes (a different size first in
    each round), so the machine's drift falls on every size alike."""
    rounds = [Rounds(t) for t in tenants]
    with progress_bar() as bar:
        task = bar.add_task("measure (all sizes in turn)", total=(warmup + ops) * len(rounds))
        for n in range(warmup + ops):
            for k in range(len(rounds)):
                rounds[(n + k) % len(rounds)].round(measured=n >= warmup)
                bar.advance(task)
    for r in rounds:
        r.client.close()


def run_store(kind: str, sizes: list[int], ops: int, warmup: int, pg_dsn: str) -> list[Figures]:
    workdir = Path(tempfile.mkdtemp(prefix="kim-scale-"))
    made: list[tuple[str, str]] = []
    try:
        with ExitStack() as servers:
            tenants = []
            for cases in sizes:
                schema = f"bench_scale_{uuid.uuid4().hex[:8]}"
                url = f"sqlite:///{workdir / f'store-{cases}'}" if kind == "sqlite" else pg_dsn
                made.append((url, schema))
                store = open_store(url, pg_schema=schema)
                console.print(f"[bold]{kind}, {cases:,} cases[/]: generating the history")
                events, first, second = fill(store, cases)
                settle(store)
                store.close()
                base = servers.enter_context(serving(url, schema))
                tenants.append(
                    Tenant(cases, events, base, first, second, {op: [] for op in OPERATIONS})
                )
            interleave(tenants, ops, warmup)
        return [
            Figures(
                kind,
                t.cases,
                t.events,
                {op: statistics.median(v) for op, v in t.times.items()},
                {op: _percentile(v, 0.95) for op, v in t.times.items()},
            )
            for t in tenants
        ]
    finally:
        if kind == "postgresql":
            for url, schema in made:
                cleanup = open_store(url, pg_schema=schema)
                cleanup.drop_schema()  # type: ignore[attr-defined]
                cleanup.close()
        shutil.rmtree(workdir, ignore_errors=True)


def settle(store: EventLogStore) -> None:
    """What an operator does after a bulk import: statistics (PostgreSQL), a WAL checkpoint
    (SQLite), so that no background catch-up runs during the measurement."""
    if store.kind == "postgresql":
        import psycopg

        dsn, schema = store.dsn, store.schema  # type: ignore[attr-defined]
        with psycopg.connect(dsn, autocommit=True) as conn:
            for table in ("events", "log_heads", "index_entries"):
                conn.execute(f"VACUUM ANALYZE {schema}.{table}".encode())
    else:
        import sqlite3

        for file in Path(store.path).glob("*.sqlite"):  # type: ignore[attr-defined]
            with sqlite3.connect(file) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def report(results: list[Figures]) -> None:
    for kind in dict.fromkeys(f.store for f in results):
        rows = [f for f in results if f.store == kind]
        base = rows[0]
        console.print(f"\n[bold]{kind}[/] (ms; ratio to {base.cases:,} cases in the same run)")
        console.print(
            f"{'cases':>7} {'events':>9}  "
            + "  ".join(f"{op + ' p50/p95':>26}" for op in OPERATIONS),
            soft_wrap=True,
        )
        for f in rows:
            cells = []
            for op in OPERATIONS:
                r50, r95 = f.p50[op] / base.p50[op], f.p95[op] / base.p95[op]
                cells.append(f"{f.p50[op]:6.1f}/{f.p95[op]:6.1f} ({r50:4.2f}/{r95:4.2f})")
            line = f"{f.cases:>7,} {f.events:>9,}  " + "  ".join(f"{c:>26}" for c in cells)
            console.print(line, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench scale", description=__doc__)
    parser.add_argument("--sizes", default="0,1000,10000,50000", help="cases in the history")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--ops", type=int, default=100, help="measured rounds per size")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--pg-dsn", default=os.environ.get("KIM_TEST_PG_DSN", DEFAULT_PG))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = [
        figure
        for kind in args.stores.split(",")
        for figure in run_store(kind, sizes, args.ops, args.warmup, args.pg_dsn)
    ]
    report(results)
    return 0

"""Cost against history: ``python -m bench scale``.

One tenant (a district-free city) gets 0, 1,000, 10,000 and 50,000 cases in its history,
most of them closed, generated with the domain's own aggregates and imported; its index
entries and read models are built as an import leaves them (``replace_index``,
``kim replay``). Then a real ``kim serve`` process on that store answers, over HTTP, the
commands of a case manager's day: open a case, assign it to a colleague's position, record
a contact, list the first page of cases. p50/p95 of each, and their ratio to the empty
tenant's measured in the same run: the target is at most 1.2 at 50,000 cases.
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
from collections.abc import Iterator
from contextlib import contextmanager
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
        for r in tenant_history(TENANT, cases, app, rng, closed_share=0.95, entries=entries):
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


def measure(
    base: str, first: uuid.UUID, second: uuid.UUID, ops: int, warmup: int
) -> dict[str, list[float]]:
    settings = Settings()

    def token(position: uuid.UUID) -> dict[str, str]:
        t = mint_token(settings, tenant=TENANT, roles=["case_manager"], position=position)
        return {"Authorization": f"Bearer {t}"}

    mine, colleague = token(first), token(second)
    times: dict[str, list[float]] = {op: [] for op in OPERATIONS}
    with httpx.Client(base_url=base, timeout=60) as client:

        def call(
            op: str | None, method: str, path: str, h: dict[str, str], **kw: object
        ) -> dict[str, Any]:
            started = time.perf_counter()
            response = client.request(method, path, headers=h, **kw)  # type: ignore[arg-type]
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code >= 300:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
            if op is not None:
                times[op].append(elapsed)
            found = response.json()
            body: dict[str, Any] = found if isinstance(found, dict) else {}
            return body

        with progress_bar() as bar:
            task = bar.add_task("measure", total=warmup + ops)
            for n in range(warmup + ops):
                op = (lambda name: name) if n >= warmup else (lambda name: None)
                person = call(None, "POST", f"{CM}/people", mine, json={
                    "personal_data": {"name": f"Person {n}", "arrival_on": "2024-04-01"}
                })["events"][0]["aggregate_id"]  # fmt: skip
                call(None, "POST", f"{CM}/people/{person}/consents", mine, json={
                    "purpose": "case_management", "recipient": TENANT, "given_on": "2024-05-01"
                })  # fmt: skip
                opened = call(op("open case"), "POST", f"{CM}/cases", mine, json={
                    "person_id": person, "referral_source": "self_referral",
                    "opened_on": "2024-05-02",
                })  # fmt: skip
                case = opened["events"][0]["aggregate_id"]
                call(op("assign"), "POST", f"{CM}/cases/{case}/assignment", mine, json={
                    "position_id": str(second), "on": "2024-05-03"
                })  # fmt: skip
                call(op("record contact"), "POST", f"{CM}/cases/{case}/contacts", colleague, json={
                    "on": "2024-05-04", "channel": "in_person", "life_dimensions": ["language"]
                })  # fmt: skip
                call(op("list first page"), "GET", f"{CM}/cases?limit=50", colleague)
                bar.advance(task)
    return times


def run_one(kind: str, cases: int, ops: int, warmup: int, pg_dsn: str) -> Figures:
    workdir = Path(tempfile.mkdtemp(prefix="kim-scale-"))
    schema = f"bench_scale_{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{workdir / 'store'}" if kind == "sqlite" else pg_dsn
    store = open_store(url, pg_schema=schema)
    try:
        console.print(f"[bold]{kind}, {cases:,} cases[/]: generating the history")
        events, first, second = fill(store, cases)
        store.close()
        with serving(url, schema) as base:
            times = measure(base, first, second, ops, warmup)
        return Figures(
            kind,
            cases,
            events,
            {op: statistics.median(v) for op, v in times.items()},
            {op: _percentile(v, 0.95) for op, v in times.items()},
        )
    finally:
        if kind == "postgresql":
            cleanup = open_store(url, pg_schema=schema)
            cleanup.drop_schema()  # type: ignore[attr-defined]
            cleanup.close()
        shutil.rmtree(workdir, ignore_errors=True)


def report(results: list[Figures]) -> None:
    for kind in dict.fromkeys(f.store for f in results):
        rows = [f for f in results if f.store == kind]
        base = rows[0]
        console.print(f"\n[bold]{kind}[/] (ms; ratio to {base.cases:,} cases in the same run)")
        console.print(
            f"{'cases':>7} {'events':>9}  "
            + "  ".join(f"{op + ' p50/p95':>26}" for op in OPERATIONS)
        )
        for f in rows:
            cells = []
            for op in OPERATIONS:
                r50, r95 = f.p50[op] / base.p50[op], f.p95[op] / base.p95[op]
                cells.append(f"{f.p50[op]:6.1f}/{f.p95[op]:6.1f} ({r50:4.2f}/{r95:4.2f})")
            console.print(f"{f.cases:>7,} {f.events:>9,}  " + "  ".join(f"{c:>26}" for c in cells))


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
        run_one(kind, n, args.ops, args.warmup, args.pg_dsn)
        for kind in args.stores.split(",")
        for n in sizes
    ]
    report(results)
    return 0

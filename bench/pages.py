"""Staff pages against 10,000 cases: ``python -m bench pages``.

One tenant (a district-free city) gets a history of 10,000 cases (95 % closed, 20
case-management positions), generated with the domain's own aggregates and imported as
``bench scale`` does (``bench.scale.fill``), its read models built by ``kim replay``. A real
``kim serve`` process on that store then answers, over HTTP on localhost, in turn:

- the case manager's case list ``/faelle`` (a position's first page of 50), against the
  JSON API's same list ``GET .../cases?limit=50`` as the baseline;
- a case page ``/faelle/<id>``, against ``GET .../cases/<id>``;
- the district dashboard ``/kreis`` (the city's own figures: funding, caseload per
  position, regional areas, needs by life dimension), against GraphQL's ``caseFigures`` and
  ``funding`` of the same tenant.

p50/p95 in ms as the client measures them on localhost (the server's time plus well under
a millisecond of loopback), each page's ratio to its baseline from the same run; the
target is p95 <= 100 ms for every page.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx

from bench.scale import DEFAULT_PG, TENANT, fill, serving, settle
from contexts.coordination.application import CoordinationApplication
from runtime.console import console, progress_bar
from runtime.eventstore import open_store
from runtime.eventstore.base import EventLogStore
from runtime.http.auth import mint_token
from runtime.keyring import KeyFile, create_key_file
from runtime.settings import Settings
from services.coordination.demo import ASSIST, CM, COORD, RATES

PAGES = {
    "case list": ("/faelle", "REST list of 50"),
    "case page": ("/faelle/{case}", "REST case"),
    "district dashboard": ("/kreis", "GraphQL figures"),
}
TARGET_MS = 100.0
FIGURES = """query ($t: String!, $m: String!) {
  caseFigures(tenant: $t, includeMembers: true) {
    openCases closedCases byLifeDimension { key count } caseload { positionId openCases }
  }
  funding(tenant: $t, month: $m, includeMembers: true) {
    reference grantedFte forwardedFte filledFte
  }
  regionalAreas(tenant: $t) { name openCases }
}"""


@dataclass
class Timings:
    page: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in PAGES})
    base: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in PAGES})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def notices(store: EventLogStore, today: date) -> None:
    """Two funding notices of the city running through this year (Baustein 1 and 2), so
    that the dashboard has funding to chart, as the demo's notices of Kreis Steinfurt."""
    app = CoordinationApplication(TENANT, store.recorder)
    start, end = date(today.year, 1, 1), date(today.year, 12, 31)
    for reference, baustein, grants in (
        ("KIM-B1-BENCH", 1, {COORD: "2.5", ASSIST: "0.5"}),
        ("KIM-B2-BENCH", 2, {CM: "20.0"}),
    ):
        app.issue_notice(
            grantor="Bezirksregierung Köln", reference=reference, baustein=baustein,
            period_start=start, period_end=end,
            grants={k: Decimal(v) for k, v in grants.items()}, rates={k: RATES[k] for k in grants},
            issued_on=start,
        )  # fmt: skip


def history_position(store_url: str, apart: set[uuid.UUID], schema: str) -> uuid.UUID:
    """A case-management position of the generated history (it holds 500 of the cases),
    not one of ``apart`` (the two that ``fill`` adds without cases)."""
    store = open_store(store_url, pg_schema=schema)
    try:
        for record in store.read_log(TENANT, "case_management", limit=200):
            found = uuid.UUID(str(record.originator_id))
            if "KnownPosition" in record.topic and found not in apart:
                return found
    finally:
        store.close()
    raise RuntimeError("the history has no position of its own")


def signed_in(base: str, role: str, position: uuid.UUID | None) -> httpx.Client:
    """A browser-like client signed in through the development sign-in page."""
    client = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    page = client.get("/anmelden").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if match is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    form = {"csrf_token": match.group(1), "tenant": TENANT, "role": role}
    if position is not None:
        form["position"] = str(position)
    answer = client.post("/anmelden", data=form)
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in as {role}: {answer.status_code} {answer.text[:300]}")
    return client


def timed(client: httpx.Client, method: str, path: str, **kw: object) -> tuple[float, str]:
    started = time.perf_counter()
    answer = client.request(method, path, **kw)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
    return elapsed, answer.text


def measure(base: str, position: uuid.UUID, rounds: int, warmup: int) -> Timings:
    settings = Settings()
    bearer = mint_token(settings, tenant=TENANT, roles=["case_manager"], position=position)
    figures = mint_token(settings, tenant=TENANT, roles=["district_coordinator"])
    api = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {bearer}"})
    gql = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {figures}"})
    manager = signed_in(base, "case_manager", position)
    district = signed_in(base, "district_coordinator", None)
    cm = f"/case_management/tenants/{TENANT}"
    listed = api.get(f"{cm}/cases", params={"limit": 50}).json()
    if not listed:
        raise RuntimeError("the position has no cases in the read model")
    case = str(listed[0]["id"])
    dashboard = timed(district, "GET", "/kreis")[1]
    if "KIM-B2-BENCH" not in dashboard or 'id="foerderung-monat"' not in dashboard:
        raise RuntimeError("the dashboard shows no funding: the bench would measure less")
    month = date.today().isoformat()[:7]
    figures_query = {"query": FIGURES, "variables": {"t": TENANT, "m": month}}
    answer = gql.post("/graphql", json=figures_query).json()
    if answer.get("errors") or not answer["data"]["funding"]:
        raise RuntimeError(f"the GraphQL baseline answers no funding: {answer}")
    found = Timings()
    with progress_bar() as bar:
        task = bar.add_task("pages and their baselines", total=warmup + rounds)
        for n in range(warmup + rounds):
            samples = {
                "case list": (
                    timed(manager, "GET", "/faelle")[0],
                    timed(api, "GET", f"{cm}/cases", params={"limit": 50})[0],
                ),
                "case page": (
                    timed(manager, "GET", f"/faelle/{case}")[0],
                    timed(api, "GET", f"{cm}/cases/{case}")[0],
                ),
                "district dashboard": (
                    timed(district, "GET", "/kreis")[0],
                    timed(gql, "POST", "/graphql", json=figures_query)[0],
                ),
            }
            if n >= warmup:
                for name, (page, baseline) in samples.items():
                    found.page[name].append(page)
                    found.base[name].append(baseline)
            bar.advance(task)
    for client in (api, gql, manager, district):
        client.close()
    return found


def report(found: Timings, cases: int) -> bool:
    console.print(f"\n[bold]Staff pages, {cases:,} cases in the tenant[/] (ms, localhost)")
    console.print(
        f"{'page':<20} {'p50':>7} {'p95':>7}   {'baseline':<18} {'p50':>7} {'p95':>7}"
        f"  {'ratio p95':>9}  target p95 <= {TARGET_MS:.0f} ms",
        soft_wrap=True,
    )
    ok = True
    for name, (_, baseline_name) in PAGES.items():
        page, base = found.page[name], found.base[name]
        p95, b95 = percentile(page, 0.95), percentile(base, 0.95)
        met = p95 <= TARGET_MS
        ok = ok and met
        console.print(
            f"{name:<20} {percentile(page, 0.5):7.1f} {p95:7.1f}   {baseline_name:<18}"
            f" {percentile(base, 0.5):7.1f} {b95:7.1f}  {p95 / b95:9.2f}  "
            + ("[green]met[/]" if met else "[red]missed[/]"),
            soft_wrap=True,
        )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench pages", description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000, help="cases in the history")
    parser.add_argument("--rounds", type=int, default=200, help="measured rounds")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--store", choices=("sqlite", "postgresql"), default="sqlite", help="the event store"
    )
    parser.add_argument("--pg-dsn", default=DEFAULT_PG, help="PostgreSQL (its own schema)")
    args = parser.parse_args(argv)
    # The bench is one client asking as fast as it can: the edge's rate limits stay out.
    for name in ("KIM_RATE_LIMIT", "KIM_ADDRESS_RATE_LIMIT"):
        os.environ.setdefault(name, "100000/second")
    workdir = Path(tempfile.mkdtemp(prefix="kim-pages-"))
    schema = f"bench_pages_{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{workdir / 'store'}" if args.store == "sqlite" else args.pg_dsn
    try:
        if args.store == "postgresql":  # as in production: the key file outside the database
            os.environ["KIM_KEY_FILE"] = str(create_key_file(workdir / "kek.json"))
        store = open_store(url, pg_schema=schema)
        if os.environ.get("KIM_KEY_FILE"):
            store.use_key_encryption_keys(KeyFile(os.environ["KIM_KEY_FILE"]))
        with console.status(f"generating and importing {args.cases:,} cases ({args.store})"):
            _, first, second = fill(store, args.cases)
            notices(store, date.today())
            settle(store)
        store.close()
        position = history_position(url, {first, second}, schema)
        console.print("kim replay, then kim serve on the store")
        with serving(url, schema) as base:
            console.print(f"serving at {base}")
            found = measure(base, position, args.rounds, args.warmup)
        report(found, args.cases)
    finally:
        if args.store == "postgresql":
            cleanup = open_store(url, pg_schema=schema)
            cleanup.drop_schema()  # type: ignore[attr-defined]
            cleanup.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0

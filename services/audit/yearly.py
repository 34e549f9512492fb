"""The yearly report to the political bodies (Sozialausschuss, Integrationsrat), from events.

Issue 18, point 6: for a tenant and year, by replay of the tenant's logs as of a day, like
the Verwendungsnachweis (``report``): positions and staffing per Baustein, case figures by
life dimension, access route and referral, the caseload against 1:100 per position, gaps
and service chains, meetings and resolutions of the steering group and the immigration
office's figures (Baustein 3). Counts only, never personal data; every figure carries the
ids of the events behind it.

Which logs: the tenant and the towns below it as the registry stood (case management is
done where people live), for the positions also the coordination logs of the tenants above
it (a district holds positions working in its towns), the steering log of the tenant's own
group. Each log is read once, in batches, as of the end of the as-of day (``fold``).

Reproducible as the statement is: nothing of the request is in the report (the PDF's
creation date is the end of the as-of day); as of a day that has not ended it is marked
provisional ("VORLÄUFIG").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from contexts.case_management.application import CaseManagementApplication
from contexts.coordination.application import CoordinationApplication
from contexts.immigration_office.application import ImmigrationOfficeApplication
from contexts.tenancy.application import TenancyApplication
from projections.asof import History, fold
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault
from services.audit import head as heads
from services.audit.head import Head
from services.audit.labels import EVENT_TEXTS, describe
from services.audit.pdf_layout import Column
from services.audit.report import _descendants, _directory_as_of

TITLE = "Jahresbericht Kommunales Integrationsmanagement"
ADDRESSEES = "Bericht an den Sozialausschuss und den Integrationsrat"
STEERING = "steering"


@dataclass
class Row:
    """A line of a table: its cells as written, its numbers, the events behind them."""

    key: str  # a stable code, e.g. "life_dimension:education"
    cells: list[str]
    values: dict[str, Decimal]
    events: list[str]
    title: str  # what the appendix calls the events of this line


@dataclass
class Chart:
    """A bar chart of a table's numbers: one bar per row and series."""

    title: str
    series: list[tuple[str, str]]  # (value key, legend)
    reference: tuple[Decimal, str] | None = None  # a line across the bars: value, label
    only: str | None = None  # bars only for the rows with a value of this key

    def rows(self, rows: list[Row]) -> list[Row]:
        return [r for r in rows if self.only is None or r.values.get(self.only)]


@dataclass
class Table:
    columns: list[Column]  # without the "Beleg" column the documents add
    rows: list[Row]
    caption: str | None = None
    chart: Chart | None = None
    empty: str = "Keine Einträge im Berichtsjahr."


@dataclass
class Section:
    title: str
    intro: str
    tables: list[Table]


@dataclass
class YearlyReport:
    year: int
    head: Head
    reference_day: date  # 31 December, or the as-of day if the year has not ended by then
    tenants: list[str]  # the tenants the figures count (the tenant first)
    names: dict[str, str]
    sections: list[Section] = field(default_factory=list)

    def rows(self) -> Iterator[Row]:
        for s in self.sections:
            for t in s.tables:
                yield from t.rows

    def row(self, key: str) -> Row:
        """The row with this code (tests, JSON readers)."""
        return next(r for r in self.rows() if r.key == key)

    def name(self, tenant: str) -> str:
        return self.names.get(tenant, tenant)


@dataclass(frozen=True)
class Record:
    """A steering event as its contract publishes it (``contexts/steering/contracts.py``)."""

    event_id: str
    event_type: str
    aggregate_id: str
    data: dict[str, Any]


@dataclass
class Replayed:
    """Every log the report reads, folded once as of the stand."""

    coordination: dict[str, History] = field(default_factory=dict)
    cases: dict[str, History] = field(default_factory=dict)
    office: dict[str, History] = field(default_factory=dict)
    steering: list[Record] = field(default_factory=list)
    position: int = 0  # the last position of the tenant's coordination log


Progress = Callable[[int], None]


def steering_records(
    store: EventLogStore, tenant: str, until: datetime | None, batch: int = 2000
) -> list[Record]:
    """The tenant's steering log as of ``until``, read once in batches; only the published
    fields of each event (the contract's), so the report needs nothing of the steering
    domain and no personal data can come along."""
    from contexts.steering.contracts import PUBLISHED_FIELDS

    found: list[Record] = []
    after = 0
    while records := store.read_log(tenant, STEERING, after=after, limit=batch):
        for r in records:
            if until is not None and datetime.fromisoformat(r.recorded_at) > until:
                return found
            fields = PUBLISHED_FIELDS.get(r.event_type)
            if fields is not None:
                state = json.loads(r.state)
                data = {k: state.get(k) for k in fields}
                found.append(Record(r.event_id, r.event_type, str(r.originator_id), data))
        after = records[-1].position
    return found


def logs_to_read(
    store: EventLogStore, tenant: str, covered: list[str], above: list[str]
) -> list[tuple[str, str]]:
    """(tenant, context) of every log the report reads that the store holds."""
    present = store.heads()
    wanted = [(t, "coordination") for t in [*covered, *above]]
    wanted += [(t, c) for t in covered for c in ("case_management", "immigration_office")]
    wanted.append((tenant, STEERING))
    return [w for w in wanted if present.get(w)]


def replay(
    store: EventLogStore,
    tenant: str,
    logs: list[tuple[str, str]],
    until: datetime | None,
    progress: Progress | None = None,
) -> Replayed:
    vault = StoreVault(store)
    tenancy = TenancyApplication(store.recorder)
    out = Replayed()
    heads_now = store.heads()
    for t, context in logs:
        if context == "coordination":
            out.coordination[t] = fold(
                store, CoordinationApplication(t, store.recorder), until=until
            )
        elif context == "case_management":
            app = CaseManagementApplication(t, store.recorder, vault)
            out.cases[t] = fold(store, app, until=until)
        elif context == "immigration_office":
            office = ImmigrationOfficeApplication(t, store.recorder, vault, tenancy.directory)
            out.office[t] = fold(store, office, until=until)
        else:
            out.steering = steering_records(store, t, until)
        if progress is not None:
            progress(heads_now.get((t, context), 0))
    if tenant in out.coordination:
        out.position = out.coordination[tenant].position
    return out


def stand_of(as_of: date | None) -> datetime | None:
    return datetime.combine(as_of, time.max, tzinfo=UTC) if as_of else None


def scope(
    store: EventLogStore, tenant: str, as_of: date | None
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The registry as it stood, the tenants counted (the tenant first) and those above."""
    registry = _directory_as_of(store, TenancyApplication(store.recorder), stand_of(as_of))
    covered = [tenant]
    if tenant in registry:
        covered += _descendants(registry, tenant)
    above: list[str] = []
    parent = registry[tenant].parent if tenant in registry else None
    while parent is not None and parent not in above and parent in registry:
        above.append(parent)
        parent = registry[parent].parent
    return registry, covered, above


def prepare(
    store: EventLogStore,
    tenant: str,
    year: int,
    *,
    as_of: date | None = None,
    today: date | None = None,
    progress: Callable[[int, list[tuple[str, str]]], Progress | None] | None = None,
) -> YearlyReport:
    """The report of ``tenant`` and ``year`` as of the end of ``as_of`` (None: as of now).

    ``progress``: given the number of events to replay and the logs, returns what to call
    with the events of each log replayed (the CLI's progress bar).
    """
    from services.audit.yearly_sections import sections

    today = today or heads.current_day()
    until = stand_of(as_of)
    registry, covered, above = scope(store, tenant, as_of)
    logs = logs_to_read(store, tenant, covered, above)
    present = store.heads()
    advance = progress(sum(present.get(w, 0) for w in logs), logs) if progress else None
    replayed = replay(store, tenant, logs, until, advance)
    end = date(year, 12, 31)
    reference_day = min(end, as_of) if as_of else min(end, today)
    names = {k: t.name for k, t in registry.items()}
    info = registry.get(tenant)
    head = Head(
        tenant=tenant,
        position=replayed.position,
        name=info.name if info else None,
        ags=info.ags if info else None,
        as_of=as_of,
        stand=until,
        provisional=as_of is None or as_of >= today,
        today=today,
        covered=covered,
        names=names,
    )
    report = YearlyReport(year, head, reference_day, covered, names)
    report.sections = [make(report, replayed) for make in sections()]
    wanted = {e for row in report.rows() for e in row.events}
    report.head = replace(head, descriptions=descriptions(replayed, wanted))
    return report


def descriptions(replayed: Replayed, wanted: set[str]) -> dict[str, str]:
    """Event id -> what the appendix says about it, for the events the figures name (codes
    and dates, no personal data)."""
    from services.audit.yearly_labels import describe_event

    found: dict[str, str] = {}
    for group in (replayed.coordination, replayed.cases, replayed.office):
        for history in group.values():
            for pairs in history.evidence.values():
                for event_id, event in pairs:
                    if event_id in wanted:
                        known = type(event).__qualname__ in EVENT_TEXTS
                        found[event_id] = describe(event) if known else describe_event(event)
    for r in replayed.steering:
        if r.event_id in wanted:
            found[r.event_id] = describe_event(r)
    return found


def file_name(tenant: str, year: int, as_of: date | None, provisional: bool) -> str:
    name = f"jahresbericht-{tenant}-{year}"
    if as_of is not None:
        name += f"-stand-{as_of.isoformat()}"
    return name + ("-vorlaeufig" if provisional else "")

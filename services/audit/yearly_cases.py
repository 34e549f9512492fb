"""Sections 1-3 of the yearly report: positions and staffing, cases, caseload against 1:100.

Positions come from the coordination logs read (the tenant's, its towns' and those above
it): a position counts when a tenant of the report holds it or it works in one, unless all
its staffing ended before the year. Cases come from the towns' case-management logs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from contexts.case_management.domain import Case
from contexts.coordination.positions import Position
from contexts.coordination.staff_costs import staffed_fte_in
from projections.asof import History
from services.audit.labels import BAUSTEINE, CLOSURES, DIMENSIONS, SERVICES, day, fte, type_label
from services.audit.narrative import Narrative, count_cases, event_ids
from services.audit.yearly import Chart, Replayed, Row, Section, Table, YearlyReport
from services.audit.yearly_labels import SOURCES, count
from services.audit.yearly_sections import counted, counts_columns, in_year, iso, unique

TARGET = Decimal(100)  # cases per FTE (Fördergrundsätze: 1:100)
STAFF_EVENTS = ("Created", "StaffingStarted", "StaffingEnded")
STATUSES = ("proposed", "accepted", "rejected", "completed")


@dataclass(frozen=True)
class Held:
    """A position of the report with the tenant whose log holds it."""

    holder: str
    history: History
    position: Position

    @property
    def events(self) -> list[str]:
        return event_ids(self.history, self.position.id, *STAFF_EVENTS)


def held_positions(report: YearlyReport, replayed: Replayed) -> list[Held]:
    covered = set(report.tenants)
    first = date(report.year, 1, 1)
    found = []
    for holder, history in replayed.coordination.items():
        for p in history.of_type(Position):
            if holder not in covered and p.work_tenant not in covered:
                continue
            if p.staffing and all(s.end is not None and s.end < first for s in p.staffing):
                continue
            found.append(Held(holder, history, p))
    return sorted(found, key=lambda h: (h.position.baustein, h.position.title, str(h.position.id)))


def positions(report: YearlyReport, replayed: Replayed) -> Section:
    """1. Positions and staffing: FTE per Baustein, each position."""
    day_r, first = report.reference_day, date(report.year, 1, 1)
    by_baustein: dict[int, list[Held]] = defaultdict(list)
    rows = []
    for h in held_positions(report, replayed):
        p = h.position
        by_baustein[p.baustein].append(h)
        filled, mean = p.staffed_fte_on(day_r), _mean(p, first, day_r)
        rows.append(
            Row(
                f"position:{p.id}",
                [
                    p.title,
                    type_label(p.position_type),
                    report.name(h.holder),
                    report.name(p.work_tenant),
                    fte(p.fte),
                    fte(filled),
                    fte(mean),
                ],
                {"fte": p.fte, "filled": filled, "mean": mean},
                h.events,
                f"Stelle {p.title}",
            )
        )
    totals = []
    for n, held in sorted(by_baustein.items()):
        values = {
            "positions": Decimal(len(held)),
            "fte": sum((h.position.fte for h in held), Decimal(0)),
            "filled": sum((h.position.staffed_fte_on(day_r) for h in held), Decimal(0)),
            "mean": sum((_mean(h.position, first, day_r) for h in held), Decimal(0)),
        }
        totals.append(
            Row(
                f"baustein:{n}",
                [
                    f"Baustein {n} – {BAUSTEINE.get(n, '')}",
                    count(len(held)),
                    fte(values["fte"]),
                    fte(values["filled"]),
                    fte(values["mean"]),
                ],
                values,
                [e for h in held for e in h.events],
                f"Stellen Baustein {n}",
            )
        )
    filled_on = f"besetzt am {day(day_r)}"
    return Section(
        "1. Stellen und Besetzung",
        "Geförderte Stellen, die ein Mandant dieses Berichts führt oder die in ihm arbeiten,"
        " in Vollzeitäquivalenten (VZÄ): bewilligter Stellenumfang, besetzt am Stichtag und"
        f" im Mittel vom 01.01. bis {day(day_r)} (nach Tagen gewichtet).",
        [
            Table(
                [
                    ("Baustein", 70, "LEFT"),
                    ("Stellen", 20, "RIGHT"),
                    ("VZÄ", 22, "RIGHT"),
                    (filled_on, 26, "RIGHT"),
                    ("VZÄ im Mittel", 22, "RIGHT"),
                ],
                totals,
                chart=Chart("VZÄ je Baustein", [("fte", "Stellenumfang"), ("filled", filled_on)]),
                empty="Keine geförderten Stellen erfasst.",
            ),
            Table(
                [
                    ("Stelle", 42, "LEFT"),
                    ("Art", 22, "LEFT"),
                    ("geführt von", 24, "LEFT"),
                    ("Arbeitsort", 20, "LEFT"),
                    ("VZÄ", 12, "RIGHT"),
                    ("besetzt", 14, "RIGHT"),
                    ("im Mittel", 14, "RIGHT"),
                ],
                rows,
                caption="Die Stellen",
                empty="Keine geförderten Stellen erfasst.",
            ),
        ],
    )


def _mean(p: Position, first: date, last: date) -> Decimal:
    """The FTE filled on average over ``first``..``last`` (by days), as printed."""
    return staffed_fte_in(p.staffing, first, last).quantize(Decimal("0.01"))


def _open_on(case: Case, day_r: date) -> bool:
    return case.opened_on <= day_r and not (case.closure and case.closure[1] <= day_r)


def cases(report: YearlyReport, replayed: Replayed) -> Section:
    """2. Cases: opened, closed, open; by life dimension, by access route, referrals."""
    year, day_r = report.year, report.reference_day
    story = Narrative(year, report.tenants)
    open_events: list[str] = []
    sources: dict[str, list[str]] = defaultdict(list)
    referrals: dict[str, dict[str, list[list[str]]]] = defaultdict(lambda: defaultdict(list))
    for history in replayed.cases.values():
        count_cases(story, history)
        for case in history.of_type(Case):
            opened = event_ids(history, case.id, "Opened")
            if _open_on(case, day_r):
                open_events += opened
            if in_year(case.opened_on, year):
                sources[case.referral_source.value] += opened
            for service, status, events in _referrals(history, case, year):
                referrals[service][status].append(events)
    figures = story.figures
    closed = [f for k, f in sorted(figures.items()) if k.startswith("cases:closed:")]
    opened_fig = figures.get("cases:opened")
    overview = [
        counted(
            "cases:opened",
            f"Fälle eröffnet {year}",
            opened_fig.count if opened_fig else 0,
            opened_fig.events if opened_fig else [],
        ),
        counted(
            "cases:closed",
            f"Fälle abgeschlossen {year}",
            sum(f.count for f in closed),
            unique(e for f in closed for e in f.events),
        ),
        counted("cases:open", f"Fälle offen am {day(day_r)}", len(open_events), open_events),
    ]
    closures = [
        counted(
            f.label,
            CLOSURES.get(f.label.split(":")[2], f.label),
            f.count,
            f.events,
            f"Abschlüsse: {CLOSURES.get(f.label.split(':')[2], f.label)}",
        )
        for f in closed
    ]
    dimensions = [
        counted(
            k,
            DIMENSIONS.get(k.split(":")[1], k),
            f.count,
            f.events,
            f"Bedarf: {DIMENSIONS.get(k.split(':')[1], k)}",
        )
        for k, f in sorted(figures.items())
        if k.startswith("life_dimension:")
    ]
    by_source = [
        counted(f"source:{s}", SOURCES.get(s, s), len(ev), ev, f"Zugang: {SOURCES.get(s, s)}")
        for s, ev in sorted(sources.items())
    ]
    one = [("count", "Fälle")]
    return Section(
        "2. Fälle im Case Management",
        f"Fälle des Jahres {year} in {', '.join(report.name(t) for t in report.tenants)}:"
        " pseudonyme Zählungen aus den Protokollen des Case Managements. Ein Fall zählt in"
        " jeder Lebensdimension, in der die Bestandsaufnahme des Jahres einen Bedarf"
        " festgestellt hat.",
        [
            Table(counts_columns("Fälle"), overview),
            Table(
                counts_columns("Abschlussgrund"),
                closures,
                caption="Abschlüsse nach Grund",
                empty="Im Berichtsjahr kein Fall abgeschlossen.",
            ),
            Table(
                counts_columns("Lebensdimension", "Fälle"),
                dimensions,
                caption="Bedarfe nach Lebensdimension",
                chart=Chart("Fälle mit Bedarf je Lebensdimension", one),
                empty="Im Berichtsjahr keine Bestandsaufnahme.",
            ),
            Table(
                counts_columns("Zugang", "Fälle"),
                by_source,
                caption="Eröffnete Fälle nach Zugang",
                chart=Chart("Eröffnete Fälle nach Zugang", one),
                empty="Im Berichtsjahr kein Fall eröffnet.",
            ),
            _referral_table(referrals),
        ],
    )


def _referrals(history: History, case: Case, year: int) -> list[tuple[str, str, list[str]]]:
    """(service, status, events) of the case's referrals proposed in ``year``."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    return [(s, st, ev) for s, st, _, ev in referrals_between(history, case, first, last)]


def referrals_between(
    history: History, case: Case, first: date, last: date
) -> list[tuple[str, str, date, list[str]]]:
    """(service, status, proposed on, events) of the case's referrals proposed from ``first``
    to ``last`` (both included); the events are the proposal's, then its answer's and
    completion's. Also the steering group's indicator (``services/steering/figures.py``)."""
    proposed = event_ids(history, case.id, "ReferralProposed")
    later: dict[int, list[str]] = defaultdict(list)
    for event_id, event in history.evidence.get(case.id, ()):
        if type(event).__name__ in ("ReferralAnswered", "ReferralCompleted"):
            later[int(getattr(event, "index", -1))].append(event_id)
    found = []
    for index, referral in enumerate(case.referrals):
        on = iso(referral["proposed_on"])
        if on is not None and first <= on <= last:
            events = proposed[index : index + 1] + later[index]
            found.append((str(referral["service"]), str(referral["status"]), on, events))
    return found


def _referral_table(referrals: dict[str, dict[str, list[list[str]]]]) -> Table:
    rows = []
    for service, by_status in sorted(referrals.items()):
        values = {s: Decimal(len(by_status.get(s, []))) for s in STATUSES}
        values["total"] = sum(values.values(), Decimal(0))
        label = SERVICES.get(service, service)
        rows.append(
            Row(
                f"referral:{service}",
                [label, *(count(int(values[s])) for s in (*STATUSES, "total"))],
                values,
                [e for s in STATUSES for events in by_status.get(s, []) for e in events],
                f"Verweisungen an {label}",
            )
        )
    return Table(
        [
            ("Verweisung an", 55, "LEFT"),
            ("vorgeschlagen", 21, "RIGHT"),
            ("angenommen", 21, "RIGHT"),
            ("abgelehnt", 21, "RIGHT"),
            ("abgeschlossen", 21, "RIGHT"),
            ("gesamt", 16, "RIGHT"),
        ],
        rows,
        caption="Verweisungen an Regeldienste (im Berichtsjahr vorgeschlagen, Stand am Stichtag)",
        chart=Chart("Verweisungen je Dienst", [("total", "Verweisungen")]),
        empty="Im Berichtsjahr keine Verweisung vorgeschlagen.",
    )


def _assigned_on(history: History, case: Case, day_r: date) -> tuple[str | None, list[str]]:
    """The position a case was assigned to on ``day_r`` and the event that assigned it."""
    found: tuple[str | None, list[str]] = (None, [])
    for event_id, event in history.evidence.get(case.id, ()):
        if type(event).__name__ == "Assigned":
            on = iso(getattr(event, "on", None))
            if on is not None and on <= day_r:
                found = (str(getattr(event, "position_id", "")), [event_id])
    return found


def caseload(report: YearlyReport, replayed: Replayed) -> Section:
    """3. Open cases per case-management position on the reference day, against 1:100."""
    day_r = report.reference_day
    load: dict[str | None, list[str]] = defaultdict(list)
    cases_of: dict[str | None, int] = defaultdict(int)
    for history in replayed.cases.values():
        for case in history.of_type(Case):
            if _open_on(case, day_r):
                position, assigned = _assigned_on(history, case, day_r)
                load[position] += event_ids(history, case.id, "Opened") + assigned
                cases_of[position] += 1
    rows = []
    for h in held_positions(report, replayed):
        p = h.position
        if p.position_type.value != "case_management":
            continue
        n = cases_of.pop(str(p.id), 0)
        rows.append(
            _load_row(
                str(p.id), p.title, report.name(p.work_tenant), p.fte, n, h.events + load[str(p.id)]
            )
        )
    for position_id, n in sorted(cases_of.items(), key=lambda kv: str(kv[0])):
        label = "ohne Stelle" if position_id is None else f"Stelle {_short(position_id)}"
        key = "unassigned" if position_id is None else position_id
        rows.append(_load_row(key, label, "–", Decimal(0), n, load[position_id]))
    return Section(
        "3. Fallzahl je Stelle (Zielwert 1:100)",
        f"Offene Fälle am {day(day_r)} je Stelle des Case Managements, gegen den Zielwert von"
        " 100 Fällen je Vollzeitstelle (Stellenumfang in VZÄ).",
        [
            Table(
                [
                    ("Stelle", 58, "LEFT"),
                    ("Arbeitsort", 22, "LEFT"),
                    ("VZÄ", 14, "RIGHT"),
                    ("offene Fälle", 18, "RIGHT"),
                    ("je VZÄ", 16, "RIGHT"),
                    ("Zielwert", 16, "RIGHT"),
                    ("Auslastung", 16, "RIGHT"),
                ],
                rows,
                chart=Chart(
                    "Offene Fälle je VZÄ",
                    [("per_fte", "Fälle je VZÄ")],
                    reference=(TARGET, "Zielwert 100"),
                    only="fte",
                ),
                empty="Keine Stelle des Case Managements und kein offener Fall.",
            )
        ],
    )


def _short(position_id: Any) -> str:
    return str(UUID(str(position_id)))[:8] if position_id else "?"


def _load_row(key: str, title: str, work: str, size: Decimal, n: int, events: list[str]) -> Row:
    per = (Decimal(n) / size).quantize(Decimal("0.1")) if size else Decimal(0)
    target = TARGET * size
    share = f"{(Decimal(n) * 100 / target).quantize(Decimal('1'))} %" if target else "–"
    if not size:
        cells = [title, work, "–", count(n), "–", "–", "–"]
    else:
        cells = [title, work, fte(size), count(n), f"{per}".replace(".", ","),
                 count(int(target)), share]  # fmt: skip
    return Row(
        f"caseload:{key}",
        cells,
        {"fte": size, "open": Decimal(n), "per_fte": per, "target": target},
        unique(events),
        f"Fallzahl {title}",
    )

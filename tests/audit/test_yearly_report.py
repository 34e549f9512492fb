"""The yearly report to the political bodies (issue 18, point 6): its figures add up against
the events written (``yearly_scenario``), every figure names its events, Markdown and PDF
carry the German headings.

Expected figures are computed from what the scenario wrote, on top of the report made
before it was written (the demo's own events stay as they are).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from runtime.platform import Platform
from services.audit.yearly import YearlyReport, prepare
from services.audit.yearly_md import to_markdown
from services.audit.yearly_pdf import to_pdf
from tests.audit.pdf_text import text
from tests.audit.yearly_scenario import CASES, GAPS, MEMBERS, TOWN, YEAR, Inputs, write_year

HEADINGS = (
    "1. Stellen und Besetzung",
    "2. Fälle im Case Management",
    "3. Fallzahl je Stelle (Zielwert 1:100)",
    "4. Versorgungslücken und Dienstleistungsketten",
    "5. Lenkungsgruppe: Sitzungen und Beschlüsse",
    "6. Baustein 3: Ausländer- und Einbürgerungsbehörde",
    "Anlage: Ereignisse",
)
LATER = datetime.now(UTC).date() + timedelta(days=400)  # a report made long after the events


def value(report: YearlyReport, key: str, what: str = "count") -> Decimal:
    rows = [r for r in report.rows() if r.key == key]
    return rows[0].values[what] if rows else Decimal(0)


def store_ids(platform: Platform) -> set[str]:
    return {
        r.event_id
        for (tenant, context) in platform.store.heads()
        for r in platform.store.read_log(tenant, context)
    }


def test_the_figures_add_up_against_the_events_written(platform: Platform) -> None:
    before = prepare(platform.store, TOWN, YEAR, today=LATER)
    inputs = write_year(platform)
    report = prepare(platform.store, TOWN, YEAR, today=LATER)
    assert report.reference_day == date(YEAR, 12, 31)

    def delta(key: str, what: str = "count") -> Decimal:
        return value(report, key, what) - value(before, key, what)

    of_year = [c for c in CASES if c.opened_on.year == YEAR]
    assert delta("cases:opened") == len(of_year)
    assert delta("cases:closed") == sum(1 for c in CASES if c.closed and c.closed[1].year == YEAR)
    still_open = [c for c in of_year if not (c.closed and c.closed[1] <= report.reference_day)]
    assert delta("cases:open") == len(still_open)
    for dimension, n in Counter(d for c in of_year for d in c.needs).items():
        assert delta(f"life_dimension:{dimension}") == n, dimension
    for source, n in Counter(c.source for c in of_year).items():
        assert delta(f"source:{source}") == n, source
    referrals = [r for c in of_year for r in c.referrals]
    for service in {s for s, _, _ in referrals}:
        mine = [r for r in referrals if r[0] == service]
        assert delta(f"referral:{service}", "total") == len(mine)
        assert delta(f"referral:{service}", "completed") == sum(1 for r in mine if r[2])
        assert delta(f"referral:{service}", "rejected") == sum(1 for r in mine if r[1] is False)
        assert delta(f"referral:{service}", "proposed") == sum(1 for r in mine if r[1] is None)
    _caseload(report, before, inputs)
    for dimension, n in Counter(d for d, on in GAPS if on.year == YEAR).items():
        assert delta(f"gap:{dimension}") == n, dimension
    topic = report.row(f"topic:{inputs.topic}")
    assert topic.cells[2:] == ["Analyse", "1 von 2", "02.05.2021"]
    _steering(report, before, inputs)
    # Baustein 3: two applications of 2021 on § 10 StAG (one withdrawn, one open), one on
    # § 25b refused.
    assert [delta("office:basis:stag_10", w) for w in ("applied", "withdrawn", "open")] == [2, 1, 1]
    assert delta("office:basis:aufenthg_25b", "refused") == 1
    assert delta("office:kind:naturalisation", "opened") == 2
    assert delta("office:kind:residence_consolidation", "refused") == 1
    # Every figure names events of the store, and the ones written here are named.
    ids = store_ids(platform)
    named = {e for row in report.rows() for e in row.events}
    assert named <= ids
    written = ids - {x for r in before.rows() for x in r.events}
    assert set(report.row("cases:opened").events) <= written
    assert len(report.row("cases:opened").events) == len(of_year)  # an Opened event each
    assert all(report.head.descriptions.get(e) for e in named)


def _caseload(report: YearlyReport, before: YearlyReport, inputs: Inputs) -> None:
    """The demo's 1.9 FTE position: the open cases assigned to it against 1:100."""
    key = f"caseload:{inputs.position}"
    assigned = [
        c for c in CASES if c.assigned and c.opened_on <= report.reference_day and not c.closed
    ]
    n = value(before, key, "open") + len(assigned)
    assert value(report, key, "open") == n
    assert value(report, key, "fte") == Decimal("1.9")
    assert value(report, key, "target") == Decimal(190)
    assert value(report, key, "per_fte") == (n / Decimal("1.9")).quantize(Decimal("0.1"))
    unassigned = [c for c in CASES if not c.assigned and c.opened_on.year == YEAR]
    assert value(report, "caseload:unassigned", "open") - value(
        before, "caseload:unassigned", "open"
    ) == len(unassigned)


def _steering(report: YearlyReport, before: YearlyReport, inputs: Inputs) -> None:
    def delta(key: str) -> Decimal:
        return value(report, key) - value(before, key)

    # One meeting of 2021 (the one of 2022 is not counted), one resolution passed and
    # evaluated, one rejected.
    assert [delta(k) for k in ("steering:meetings", "steering:passed", "steering:rejected")] == [
        1,
        1,
        1,
    ]
    meeting = report.row(f"meeting:{inputs.meeting}")
    assert meeting.cells == ["10.06.2021", "2. Sitzung 2021", "7 von 9", "ja", "1"]
    kita = report.row(f"resolution:{inputs.resolutions['kita']}")
    assert kita.cells[2:] == [
        "6/1/0",
        "evaluiert",
        "1 von 2",
        "Kita-Plätze vermittelt: vorher 3, nachher 7",
    ]
    assert report.row(f"resolution:{inputs.resolutions['rejected']}").cells[3] == "abgelehnt"
    assert delta("steering:status:evaluated") == 1
    members = [
        m for m in MEMBERS if m[2] is None or date.fromisoformat(m[2]) >= report.reference_day
    ]
    assert delta("steering:members") == len(members)
    assert delta("steering:voting") == sum(1 for m in members if m[1])


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
def test_positions_and_staffing_per_baustein_from_the_demo(platform: Platform) -> None:
    """The demo's position of "Lernen fördern" in Rheine: 1.9 FTE, 1.0 from 1 September
    2021 and 0.9 from 1 October; the Baustein rows add up the positions' rows."""
    report = prepare(platform.store, TOWN, YEAR, today=LATER)
    position = next(r for r in report.rows() if r.cells[0].startswith("Case Management Lernen"))
    days = Decimal((date(2021, 12, 31) - date(2021, 1, 1)).days + 1)
    mean = ((Decimal("1.0") * 122 + Decimal("0.9") * 92) / days).quantize(Decimal("0.01"))
    assert position.values == {"fte": Decimal("1.9"), "filled": Decimal("1.9"), "mean": mean}
    rows = [r for r in report.rows() if r.key.startswith("position:")]
    for n in (1, 2):
        mine = [r for r in rows if report.row(f"baustein:{n}").events and r.events[0] in
                report.row(f"baustein:{n}").events]  # fmt: skip
        for what in ("fte", "filled", "mean"):
            assert value(report, f"baustein:{n}", what) == sum(r.values[what] for r in mine)
        assert value(report, f"baustein:{n}", "positions") == len(mine)


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
def test_markdown_and_pdf_carry_the_german_headings_and_every_event(platform: Platform) -> None:
    write_year(platform)
    today = datetime.now(UTC).date()  # the events were recorded today: a stand of today
    report = prepare(platform.store, TOWN, YEAR, as_of=today, today=LATER)
    md = to_markdown(report)
    for heading in HEADINGS:
        assert f"## {heading}" in md
    opened = int(value(report, "cases:opened"))
    assert f"| Fälle eröffnet 2021 | {opened} | [A" in md
    named = {e for row in report.rows() for e in row.events}
    assert all(f"`{e}`" in md for e in named)
    assert "VORLÄUFIG" not in md
    pdf = text(to_pdf(report))
    for heading in HEADINGS:
        assert heading in pdf
    assert "Jahresbericht Kommunales Integrationsmanagement 2021" in pdf
    assert "Zielwert 100" in pdf  # the caseload chart's reference line
    assert "…" not in pdf  # a long label beside two bars takes two lines, not cut short
    assert all(e in pdf for e in named)
    # The members' mark names the voting members' (their events are among its own), and the
    # appendix says in German what each event was.
    assert set(report.row("steering:voting").events) < set(report.row("steering:members").events)
    assert "Die Ereignisse von [A" in pdf
    assert "Mitglied aufgenommen (" in md
    assert not re.search(r"` [A-Z][a-z]+[A-Z]", md)  # no event's class name in its place
    # Nothing personal: no name given to the people written, no sealed text.
    for shown in (md, pdf):
        assert "Person 0" not in shown
        assert "kimv1:" not in shown


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
def test_a_tenant_without_a_steering_group_says_so(platform: Platform) -> None:
    report = prepare(platform.store, "emsdetten", YEAR, today=LATER)
    section = next(s for s in report.sections if s.title.startswith("5."))
    assert "keine Lenkungsgruppe erfasst" in section.intro
    md = to_markdown(report)
    assert "_Im Berichtsjahr keine Sitzung der Lenkungsgruppe erfasst._" in md

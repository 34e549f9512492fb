"""Section 6 of the yearly report: the immigration office's figures (Baustein 3).

Procedures of the offices in the report's tenants by kind and legal basis: opened,
applications received, decisions (granted, refused, withdrawn) in the year and applications
open on the reference day; referrals into case management. A procedure taken over from
another office counts its opening and application there, and a decision the other office
made counts there too (as the read model counts them, ``projections/immigration_office``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from contexts.immigration_office.domain import Procedure
from projections.asof import History
from services.audit.labels import day
from services.audit.narrative import event_ids
from services.audit.yearly import Chart, Replayed, Row, Section, Table, YearlyReport
from services.audit.yearly_labels import BASES, KINDS, OFFICE_REFERRALS, count
from services.audit.yearly_sections import counted, counts_columns, in_year, iso, unique

WHAT = ("opened", "applied", "granted", "refused", "withdrawn", "open")
COLUMNS = ("eröffnet", "Anträge", "bewilligt", "abgelehnt", "zurückgen.", "offen")
SERIES = [("granted", "bewilligt"), ("refused", "abgelehnt"), ("withdrawn", "zurückgenommen")]
EVENTS = ("Opened", "TakenOver", "ApplicationReceived", "Granted", "Refused", "Withdrawn")


@dataclass
class Tally:
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WHAT, 0))
    events: list[str] = field(default_factory=list)

    def add(self, what: str, events: list[str]) -> None:
        self.values[what] += 1
        self.events += events


def _count(p: Procedure, history: History, year: int, day_r: date, tally: Tally) -> None:
    taken = p.taken_over
    ids = event_ids(history, p.id, *EVENTS)
    if not taken and in_year(p.opened_on, year):
        tally.add("opened", ids)
    if not taken and in_year(p.applied_on, year):
        tally.add("applied", ids)
    decided = p.decided_on
    if taken and decided is not None and decided.isoformat() == taken.get("decided_on"):
        decided = None  # the office that decided it counts it
    if in_year(decided, year) and p.outcome in ("granted", "refused", "withdrawn"):
        tally.add(str(p.outcome), ids)
    if (
        p.applied_on is not None
        and p.applied_on <= day_r
        and not (p.decided_on is not None and p.decided_on <= day_r)
        and not (p.closed_on is not None and p.closed_on <= day_r)
    ):
        tally.add("open", ids)


def _row(key: str, label: str, tally: Tally, title: str) -> Row:
    return Row(
        key,
        [label, *(count(tally.values[w]) for w in WHAT)],
        {w: Decimal(tally.values[w]) for w in WHAT},
        unique(tally.events),
        title,
    )


def office(report: YearlyReport, replayed: Replayed) -> Section:
    """6. Baustein 3: procedures by kind and legal basis, referrals into case management."""
    year, day_r = report.year, report.reference_day
    kinds: dict[str, Tally] = defaultdict(Tally)
    bases: dict[str, Tally] = defaultdict(Tally)
    referrals: dict[str, list[list[str]]] = defaultdict(list)
    for history in replayed.office.values():
        for p in history.of_type(Procedure):
            _count(p, history, year, day_r, kinds[p.kind.value])
            _count(p, history, year, day_r, bases[p.legal_basis.value])
            for r in p.referrals:
                if in_year(iso(r.get("on")), year):
                    referrals[str(r.get("status"))].append(_referral_events(history, p, r))
    by_kind = [
        _row(f"office:kind:{k}", KINDS.get(k, k), t, f"Verfahren {KINDS.get(k, k)}")
        for k, t in sorted(kinds.items())
        if any(t.values.values())
    ]
    by_basis = [
        _row(f"office:basis:{b}", BASES.get(b, b), t, f"Verfahren {BASES.get(b, b)}")
        for b, t in sorted(bases.items())
        if any(t.values.values())
    ]
    by_answer = [
        counted(
            f"office:referral:{s}",
            OFFICE_REFERRALS.get(s, s),
            len(found),
            unique(e for events in found for e in events),
            f"Verweisungen ins Case Management: {OFFICE_REFERRALS.get(s, s)}",
        )
        for s, found in sorted(referrals.items())
    ]
    columns = [(c, 18.0, "RIGHT") for c in COLUMNS]
    intro = (
        f"Verfahren der Ausländer- und Einbürgerungsbehörden in {report.name(report.tenants[0])}"
        f" und den Mandanten darunter: im Jahr {year} eröffnet, Anträge eingegangen,"
        f" Entscheidungen; offen am {day(day_r)}: Anträge ohne Entscheidung."
    )
    if not replayed.office:
        intro += " Bis zum Stichtag ist keine Behörde mit Verfahren erfasst."
    return Section(
        "6. Baustein 3: Ausländer- und Einbürgerungsbehörde",
        intro,
        [
            Table(
                [("Verfahrensart", 52, "LEFT"), *columns],
                by_kind,
                caption="Verfahren nach Art",
                chart=Chart(
                    "Entscheidungen je Verfahrensart",
                    SERIES,
                ),
                empty="Im Berichtsjahr keine Verfahren.",
            ),
            Table(
                [("Rechtsgrundlage", 52, "LEFT"), *columns],
                by_basis,
                caption="Verfahren nach Rechtsgrundlage",
                empty="Im Berichtsjahr keine Verfahren.",
            ),
            Table(
                counts_columns("Antwort des Case Managements", "Verweisungen"),
                by_answer,
                caption="Verweisungen ins Case Management (im Berichtsjahr)",
                empty="Im Berichtsjahr keine Verweisung ins Case Management.",
            ),
        ],
    )


def _referral_events(history: History, p: Procedure, referral: dict[str, Any]) -> list[str]:
    """The events of one referral of the procedure: made and answered."""
    return [
        event_id
        for event_id, event in history.evidence.get(p.id, ())
        if type(event).__name__ in ("ReferredToCaseManagement", "ReferralAnswered")
        and getattr(event, "referral_id", None) == referral.get("referral_id")
    ]

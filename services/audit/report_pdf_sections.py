"""The numbered sections of the PDF statement: rates, the figures of the Baustein, staff
costs and their cover, positions, contracts, the months and the narrative statistics.

Each section registers the marks of its figures before it is drawn (``keep`` draws twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from contexts.coordination.statement import Line, Statement
from services.audit.head import Head
from services.audit.labels import (
    AMOUNT_RULES,
    LABELS,
    MONTHS,
    RULES,
    day,
    euro,
    exact,
    fte,
    story_label,
    type_label,
)
from services.audit.narrative import Narrative
from services.audit.pdf_layout import Cell, Column, keep, note, ref, section, table
from services.audit.report_pdf_marks import Mark, Marks

if TYPE_CHECKING:
    from fpdf import FPDF

MARK_TITLES = {
    "recognised_staff_cost": "Eigene Stellen",
    "forwarded": "Weiterleitungsverträge",
    "staff_cost": "Personalkosten, Eigen- und Drittmittel aller Stellen",
    "own_funds": "Personalkosten, Eigen- und Drittmittel aller Stellen",
    "third_party": "Personalkosten, Eigen- und Drittmittel aller Stellen",
}

RATE_COLUMNS: tuple[Column, ...] = (
    ("Stellenart", 50, "LEFT"),
    ("VZÄ", 16, "RIGHT"),
    ("Satz je VZÄ und Jahr (€)", 34, "RIGHT"),
    ("gültig ab", 22, "LEFT"),
    ("Bescheid", 42, "LEFT"),
    ("Beleg", 14, "LEFT"),
)
AMOUNT_COLUMNS: tuple[Column, ...] = (
    ("Posten", 128, "LEFT"),
    ("Betrag (€)", 32, "RIGHT"),
    ("Beleg", 18, "LEFT"),
)
IDENTITY_COLUMNS: tuple[Column, ...] = (
    ("", 8, "CENTER"),
    ("Posten", 120, "LEFT"),
    ("Betrag (€)", 32, "RIGHT"),
    ("Beleg", 18, "LEFT"),
)
POSITION_COLUMNS: tuple[Column, ...] = (
    ("Stelle", 35, "LEFT"),
    ("VZÄ", 9, "RIGHT"),
    ("finanziert durch", 22, "LEFT"),
    ("Monate besetzt", 16, "RIGHT"),
    ("Obergrenze", 18, "RIGHT"),
    ("Ist-Kosten", 18, "RIGHT"),
    ("Zuwendung", 18, "RIGHT"),
    ("Eigen-\nmittel", 16, "RIGHT"),
    ("Dritt-\nmittel", 16, "RIGHT"),
    ("Beleg", 10, "LEFT"),
)
CONTRACT_COLUMNS: tuple[Column, ...] = (
    ("Empfänger", 34, "LEFT"),
    ("Regel", 21, "LEFT"),
    ("VZÄ", 9, "RIGHT"),
    ("Betrag p. a.", 18, "RIGHT"),
    ("Monate", 12, "RIGHT"),
    ("Grenze", 18, "RIGHT"),
    ("Summe Stellen", 18, "RIGHT"),
    ("Kürzung", 16, "RIGHT"),
    ("Zuwendung", 18, "RIGHT"),
    ("Beleg", 14, "LEFT"),
)
STORY_COLUMNS: tuple[Column, ...] = (
    ("Kennzahl", 128, "LEFT"),
    ("Anzahl", 32, "RIGHT"),
    ("Beleg", 18, "LEFT"),
)


@dataclass
class Sheet:
    """What the sections draw on: the document, the statement and its head, the marks."""

    pdf: FPDF
    s: Statement
    head: Head
    marks: Marks
    notice_mark: Mark | None = None
    totals: dict[str, Line] = field(init=False)

    def __post_init__(self) -> None:
        self.totals = {t.label: t for t in self.s.totals}

    def total(self, label: str) -> Cell:
        """The mark of a total."""
        title = MARK_TITLES.get(label, LABELS.get(label, label))
        return ref(self.marks(title, self.totals[label].events, "total"))

    def amount(self, label: str) -> str:
        return euro(self.totals[label].value)


def rates(sheet: Sheet) -> None:
    """1. The positions granted and their rates."""
    body: list[list[Cell]] = [
        [
            type_label(r.position_type),
            fte(r.fte),
            euro(r.rate),
            day(r.effective_from),
            r.reference,
            ref(sheet.notice_mark),
        ]
        for r in sheet.s.rates
    ]
    keep(
        sheet.pdf,
        "1. Bewilligte Stellen und Sätze",
        partial(table, sheet.pdf, RATE_COLUMNS, body),
    )


def summary(sheet: Sheet) -> None:
    """2. Granted, used, unused, and the other funds of the staff costs."""
    s, total, amount = sheet.s, sheet.total, sheet.amount
    body: list[list[Cell]] = [["A. Zuwendung", "", ""]]
    for g in s.granted:
        body.append([f"   {LABELS.get(g.label, g.label)}", euro(g.value), ref(sheet.notice_mark)])
    body += [
        ["   Bewilligt insgesamt", amount("granted"), total("granted")],
        ["B. Verwendung der Zuwendung", "", ""],
        [
            "   für eigene Stellen (anerkannte Personalkosten, Abschnitt 4)",
            amount("recognised_staff_cost"),
            total("recognised_staff_cost"),
        ],
        [
            "   weitergeleitet an Dritte (Weiterleitungsverträge, Abschnitt 5)",
            amount("forwarded"),
            total("forwarded"),
        ],
        [
            "   Sachkosten (wie bewilligt; Sachausgaben werden nicht erfasst)",
            amount("material_costs"),
            total("material_costs"),
        ],
        ["   Verwendet insgesamt", amount("used"), "Summe B"],
        ["C. Nicht verwendet – zurückzuzahlen (A – B)", amount("unused"), "A – B"],
        ["D. nachrichtlich: weitere Mittel für Personalkosten", "", ""],
        ["   Eigenmittel", amount("own_funds"), total("own_funds")],
        ["   Drittmittel", amount("third_party"), total("third_party")],
    ]
    n = len(s.granted)
    strong = {0, n + 1, n + 2, n + 6, n + 7, n + 8}
    keep(
        sheet.pdf,
        f"2. Zahlenmäßiger Nachweis Baustein {s.baustein} für {s.year}",
        partial(table, sheet.pdf, AMOUNT_COLUMNS, body, bold=strong, size=8),
    )


def cover(sheet: Sheet) -> None:
    """3. The staff costs and what covers them."""
    total, amount = sheet.total, sheet.amount
    body: list[list[Cell]] = [
        [
            "",
            "Personalkosten (Ist, eigene und geförderte Stellen)",
            amount("staff_cost"),
            total("staff_cost"),
        ],
        [
            "=",
            "Zuwendung für Personal (eigene Stellen und weitergeleitet)",
            amount("staff_grant_use"),
            "aus B",
        ],
        ["+", "Eigenmittel", amount("own_funds"), total("own_funds")],
        ["+", "Drittmittel", amount("third_party"), total("third_party")],
        [
            "+",
            "ungedeckt (kein Eintrag erklärt die Differenz; negativ, wo eine Pauschale die"
            " Kosten übersteigt)",
            amount("uncovered"),
            "Differenz",
        ],
    ]
    keep(
        sheet.pdf,
        "3. Personalkosten und ihre Deckung",
        partial(table, sheet.pdf, IDENTITY_COLUMNS, body, bold={0}, size=8),
    )


def positions(sheet: Sheet) -> None:
    """4. The positions: cap, actual cost, grant use, other funds."""
    pdf, s, head, marks = sheet.pdf, sheet.s, sheet.head, sheet.marks
    section(pdf, "4. Stellen", room=35)
    if not s.positions:
        note(pdf, "Keine Stellen aus diesem Bescheid im Nachweisjahr.")
        return
    body: list[list[Cell]] = []
    for p in s.positions:
        funded = "Bescheid" if p.contract_id is None else head.recipient(p.funded_by)
        vacant = f"\n({p.vacant_months} unbesetzt)" if p.vacant_months else ""
        body.append(
            [
                f"{p.title} ({type_label(p.position_type)})",
                fte(p.fte),
                funded,
                exact(p.months_filled) + vacant,
                euro(p.cap),
                euro(p.actual_cost),
                "Pauschale¹" if p.grant_use is None else euro(p.grant_use),
                euro(p.own_funds),
                euro(p.third_party),
                ref(marks(f"Stelle {p.title}", p.events, "position")),
            ]
        )
    table(pdf, POSITION_COLUMNS, body, size=7)
    note(
        pdf,
        "Obergrenze: Satz je VZÄ × besetzte VZÄ × Monatsanteil / 12, summiert über die"
        f" Monate des Jahres ({RULES[s.vacancy_rule]}). Zuwendung: Ist-Kosten, höchstens"
        " die Obergrenze. ¹ Stelle unter einem pauschalen Weiterleitungsvertrag: die"
        " Zuwendung ist die Pauschale des Vertrags (Abschnitt 5).",
    )


def contracts(sheet: Sheet) -> None:
    """5. The forwarding contracts: limit, positions' use, reduction, grant use."""
    pdf, s, head, marks = sheet.pdf, sheet.s, sheet.head, sheet.marks
    section(pdf, "5. Weiterleitungsverträge", room=35)
    if not s.contracts:
        note(pdf, "Keine Weiterleitungsverträge aus diesem Bescheid im Nachweisjahr.")
        return
    body: list[list[Cell]] = []
    for c in s.contracts:
        recipient = head.recipient(c.recipient)
        body.append(
            [
                recipient,
                AMOUNT_RULES.get(c.amount_rule, c.amount_rule),
                fte(c.fte),
                euro(c.amount_per_year),
                exact(c.months),
                euro(c.limit),
                "–" if c.amount_rule == "flat" else euro(c.positions_use),
                euro(c.reduction),
                euro(c.grant_use),
                ref(marks(f"Weiterleitung an {recipient}", c.events, "contract")),
            ]
        )
    table(pdf, CONTRACT_COLUMNS, body, size=7)
    note(
        pdf,
        "Grenze: Betrag p. a. × Monate / 12. Pauschale: weitergeleitet wird die Grenze,"
        " was immer die Kosten sind. Ist-Kosten bis Höchstbetrag: die Summe der Zuwendung"
        " der Stellen des Vertrags, gekürzt auf die Grenze.",
    )


def months(sheet: Sheet) -> None:
    """6. The FTE granted, forwarded and filled month by month."""
    columns, lines = _months(sheet.s, sheet.marks)
    keep(
        sheet.pdf,
        f"6. Stellen je Monat {sheet.s.year} (VZÄ)",
        partial(table, sheet.pdf, columns, lines, size=6.5),
    )


def statistics(sheet: Sheet, story: Narrative) -> None:
    """7. The narrative statistics (Sachbericht)."""
    figures: list[list[Cell]] = [
        [story_label(key), str(f.count), ref(sheet.marks(story_label(key), f.events, "story"))]
        for key, f in sorted(story.figures.items())
    ]
    keep(
        sheet.pdf,
        "7. Statistik zum Sachbericht",
        partial(_story, sheet.pdf, sheet.s, sheet.head, story, figures),
    )


def _months(s: Statement, marks: Marks) -> tuple[list[Column], list[list[Cell]]]:
    """The months in one table of twelve columns; a mark per month."""
    names = MONTHS[: len(s.months)]
    lines: list[list[Cell]] = [
        ["bewilligt", *(exact(m.granted_fte) for m in s.months)],
        ["weitergeleitet", *(exact(m.forwarded_fte) for m in s.months)],
        ["besetzt", *(exact(m.filled_fte) for m in s.months)],
    ]
    beleg: list[Cell] = ["Beleg"]
    used_in: dict[str, list[str]] = {}
    for name, m in zip(names, s.months, strict=True):
        mark = marks("Besetzungen", m.events, "month")
        beleg.append(ref(mark) if mark else "")
        if mark is not None:
            used_in.setdefault(mark.mark, []).append(name)
    for entry in marks.entries:
        if entry.mark in used_in:
            found = used_in[entry.mark]
            span = found[0] if len(found) == 1 else f"{found[0]}–{found[-1]}"
            entry.title = f"Besetzungen der Stellen, {span} {s.year} (Abschnitt 6)"
    columns = [("", 22.0, "LEFT"), *((name, 13.0, "RIGHT") for name in names)]
    return columns, [*lines, beleg]


def _story(
    pdf: FPDF, s: Statement, head: Head, story: Narrative, figures: list[list[Cell]]
) -> None:
    note(
        pdf,
        f"Fälle und Versorgungslücken {s.year} von: {', '.join(story.tenants)}."
        " Pseudonyme Zählungen aus den Protokollen der Mandanten.",
    )
    if head.missing:
        note(pdf, f"Fehlende Mandanten: {', '.join(head.missing)} – deren Zahlen fehlen.")
    if figures:
        table(pdf, STORY_COLUMNS, figures, size=8)
    else:
        note(pdf, "Im Nachweisjahr keine Fälle und keine Versorgungslücken erfasst.")

"""The marks [A n] of the PDF and the appendix they point to ("Anlage: Ereignisse").

Every figure of the statement carries a mark: the events it rests on, listed with their
full ids in the appendix. A mark whose events include those of smaller marks names them
and lists only the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from services.audit.head import Head
from services.audit.pdf_layout import FONT, MONO, note

if TYPE_CHECKING:
    from fpdf import FPDF


@dataclass
class Mark:
    """A reference mark [A n]: the events a figure rests on, listed in the appendix."""

    mark: str
    title: str
    events: list[str]
    group: str  # notice, position, contract, total, month, story
    link: int = 0
    parts: list[str] = field(default_factory=list)  # marks whose events are among these
    rest: list[str] = field(default_factory=list)  # the events no part names

    @property
    def number(self) -> int:
        return int(self.mark[1:])


COMPOSED = {
    "contract": {"position"},
    "total": {"notice", "position", "contract", "total"},
    "month": {"month"},
    "yearly": {"yearly"},  # the yearly report: any line's mark names the smaller ones
}
"""Which marks name the marks of which groups instead of repeating their events."""


class Marks:
    """Marks in reading order; the same events get the same mark."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self.entries: list[Mark] = []
        self._by_events: dict[tuple[str, ...], Mark] = {}

    def __call__(self, title: str, events: Sequence[str], group: str) -> Mark | None:
        if not events:
            return None
        key = tuple(dict.fromkeys(events))
        if key not in self._by_events:
            number = len(self.entries) + 1
            entry = Mark(f"A{number}", title, list(key), group, self.pdf.add_link(page=1))
            self.entries.append(entry)
            self._by_events[key] = entry
        return self._by_events[key]

    def resolve(self) -> None:
        """A total, contract or month mark names the smaller marks its events include and
        lists only the events they leave."""
        for entry in self.entries:
            groups = COMPOSED.get(entry.group, set())
            wanted = set(entry.events)
            smaller = sorted(
                (e for e in self.entries if e.group in groups and set(e.events) < wanted),
                key=lambda e: (-len(e.events), e.number),
            )
            covered: set[str] = set()
            parts = []
            for candidate in smaller:
                if not set(candidate.events) <= covered:
                    parts.append(candidate)
                    covered |= set(candidate.events)
            entry.parts = [p.mark for p in sorted(parts, key=lambda e: e.number)]
            entry.rest = [e for e in entry.events if e not in covered]


def appendix(pdf: FPDF, marks: Marks, head: Head, *, where: str = "im Nachweis") -> None:
    """The appendix on a page of its own: a paragraph a mark, an event a line."""
    marks.resolve()
    pdf.add_page()
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 7, "Anlage: Ereignisse", new_x="LMARGIN", new_y="NEXT")
    note(
        pdf,
        f"Jede Marke [A n] {where} verweist hierher: die vollständigen IDs der Ereignisse,"
        " auf denen der Wert beruht, in der Reihenfolge des Protokolls. Eine Marke, deren"
        " Ereignisse die anderer Marken einschließen, nennt diese und listet nur die übrigen.",
        size=7.5,
    )
    pdf.ln(2)
    for entry in marks.entries:
        _entry(pdf, entry, head)


def _entry(pdf: FPDF, entry: Mark, head: Head) -> None:
    """A mark: its title and count, the marks it names, and its other events."""
    if pdf.get_y() + 12 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.set_link(entry.link, y=pdf.get_y(), page=pdf.page_no())
    pdf.set_font(FONT, "B", 8)
    count = len(entry.events)
    pdf.multi_cell(
        0,
        4.2,
        f"[{entry.mark}]  {entry.title} – {count} Ereignis{'se' if count > 1 else ''}",
        align="L",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if entry.parts:
        pdf.set_font(FONT, size=7.5)
        named = ", ".join(f"[{p}]" for p in entry.parts)
        pdf.set_x(pdf.l_margin + 4)
        pdf.multi_cell(
            0,
            3.8,
            f"Die Ereignisse von {named}" + (" sowie:" if entry.rest else "."),
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    for event_id in entry.rest:
        if pdf.get_y() + 3.6 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_x(pdf.l_margin + 4)
        pdf.set_font(MONO, size=7.5)
        pdf.cell(60, 3.6, event_id)
        pdf.set_font(FONT, size=7)
        pdf.multi_cell(
            0,
            3.6,
            head.descriptions.get(event_id, ""),
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(1.2)

"""The yearly report as Markdown: the head, the sections' tables with a mark [A n] per line,
and the appendix listing the events behind every mark (the same marks as in the PDF)."""

from __future__ import annotations

from services.audit.head import stand_text
from services.audit.labels import PROVISIONAL
from services.audit.yearly import ADDRESSEES, TITLE, Row, Table, YearlyReport


class MarkNumbers:
    """Marks [A n] in reading order; the same events get the same mark (as ``Marks``)."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, list[str]]] = []  # mark, title, events
        self._by_events: dict[tuple[str, ...], str] = {}

    def __call__(self, title: str, events: list[str]) -> str | None:
        if not events:
            return None
        key = tuple(dict.fromkeys(events))
        if key not in self._by_events:
            mark = f"A{len(self.entries) + 1}"
            self.entries.append((mark, title, list(key)))
            self._by_events[key] = mark
        return self._by_events[key]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def head_lines(report: YearlyReport) -> list[tuple[str, str]]:
    """The head block: who, which year, as of when, whose figures; shared with the PDF."""
    head = report.head
    who = head.grantee() + f" (Mandant {head.tenant}" + (f", AGS {head.ags})" if head.ags else ")")
    if head.name is None:
        who += "; am Stichtag nicht im Mandantenverzeichnis"
    return [
        ("Mandant", who),
        ("Berichtsjahr", f"01.01.{report.year} – 31.12.{report.year}"),
        ("Stichtag (Stand)", stand_text(head)),
        ("Zahlen von", ", ".join(report.name(t) for t in report.tenants)),
        (
            "Grundlage",
            "ausschließlich die Ereignisse der Protokolle bis zum Stichtag, pseudonyme"
            " Zählungen ohne personenbezogene Angaben; jede Zeile nennt mit ihrer Marke [A n]"
            " die Ereignisse, auf denen sie beruht (Anlage)",
        ),
    ]


def _table(table: Table, marks: MarkNumbers) -> list[str]:
    lines = []
    if table.caption:
        lines += [f"**{table.caption}**", ""]
    if not table.rows:
        return [*lines, f"_{table.empty}_", ""]
    headings = [h.replace("\n", " ") for h, _, _ in table.columns] + ["Beleg"]
    aligns = ["---:" if a == "RIGHT" else "---" for _, _, a in table.columns] + ["---"]
    lines += ["| " + " | ".join(headings) + " |", "|" + "|".join(aligns) + "|"]
    for row in table.rows:
        lines.append("| " + " | ".join([*(_cell(c) for c in row.cells), _ref(row, marks)]) + " |")
    return [*lines, ""]


def _ref(row: Row, marks: MarkNumbers) -> str:
    mark = marks(row.title, row.events)
    return f"[{mark}](#{mark.lower()})" if mark else "–"


def to_markdown(report: YearlyReport) -> str:
    head = report.head
    marks = MarkNumbers()
    lines = [f"# {TITLE} {report.year}", "", f"**{head.grantee()}** · {ADDRESSEES}", ""]
    if head.provisional:
        lines += [
            f"> **{PROVISIONAL}.** Der Stichtag ist noch nicht vorbei: später aufgezeichnete"
            " Ereignisse können die Zahlen noch ändern.",
            "",
        ]
    lines += ["| Angabe | |", "|---|---|"]
    lines += [f"| {label} | {_cell(value)} |" for label, value in head_lines(report)]
    lines.append("")
    for section in report.sections:
        lines += [f"## {section.title}", "", section.intro, ""]
        for table in section.tables:
            lines += _table(table, marks)
    lines += ["## Anlage: Ereignisse", ""]
    lines += [
        "Jede Marke [A n] verweist hierher: die vollständigen IDs der Ereignisse, auf denen die"
        " Zeile beruht, in der Reihenfolge der Protokolle.",
        "",
    ]
    for mark, title, events in marks.entries:
        n = len(events)
        lines += [
            f'<a id="{mark.lower()}"></a>',
            f"**[{mark}] {_cell(title)}** – {n} Ereignis{'se' if n > 1 else ''}",
            "",
        ]
        lines += [f"- `{e}` {head.descriptions.get(e, '')}".rstrip() for e in events]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"

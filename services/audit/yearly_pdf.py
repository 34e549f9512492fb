"""The yearly report as PDF (fpdf2, A4 portrait): title and head block, the sections with
a bar chart where a reader would rather look than read (its numbers in the table below it),
every line a mark [A n] pointing to the appendix of events (``report_pdf_marks``).

Built from the blocks of the statement's PDF (``pdf_layout``); nothing in it depends on
when it is made: the creation date is the end of the as-of day (``Head.creation_date``).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from services.audit.labels import PROVISIONAL
from services.audit.pdf_layout import FONT, Cell, keep, new_pdf, note, ref, section, table
from services.audit.report_pdf_marks import Marks, appendix
from services.audit.yearly import ADDRESSEES, TITLE, Table, YearlyReport
from services.audit.yearly_chart import bar_chart, chart_height, has_bars
from services.audit.yearly_md import head_lines

if TYPE_CHECKING:
    from fpdf import FPDF

BELEG = ("Beleg", 12.0, "LEFT")
LONG = 24  # a table of more rows may break across pages


def safe(text: str) -> str:
    """Text as the core font writes it (cp1252): a character beyond it becomes "?" (titles
    and names come from users; the PDF must not fail on them)."""
    return text.encode("cp1252", "replace").decode("cp1252")


def to_pdf(report: YearlyReport) -> bytes:
    head = replace(
        report.head,
        name=safe(report.head.name) if report.head.name else None,
        descriptions={k: safe(v) for k, v in report.head.descriptions.items()},
    )
    report = replace(report, head=head, names={k: safe(v) for k, v in report.names.items()})
    pdf = new_pdf(
        title=f"{TITLE} {report.year}: {head.grantee()}",
        running=f"{TITLE} {report.year} · {head.grantee()}",
        author=head.grantee(),
        subject=f"{ADDRESSEES}; Stand {head.as_of.isoformat() if head.as_of else 'heute'}",
        created=head.creation_date,
        banner=PROVISIONAL if head.provisional else None,
    )
    marks = Marks(pdf)
    _title(pdf, report)
    for s in report.sections:
        section(pdf, s.title, room=_room(s.tables[0]) if s.tables else 30)
        note(pdf, safe(s.intro), size=7.5)
        pdf.ln(1)
        for t in s.tables:
            _table(pdf, t, marks)
    _closing(pdf)
    appendix(pdf, marks, head, where="im Bericht")
    return bytes(pdf.output())


def _title(pdf: FPDF, report: YearlyReport) -> None:
    from fpdf.fonts import FontFace

    head = report.head
    pdf.add_page()
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 7, f"{TITLE} {report.year}", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, head.grantee(), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    pdf.cell(
        0, 5, f"Kommunales Integrationsmanagement NRW · {ADDRESSEES}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(3)
    if head.provisional:
        _provisional(pdf)
    pdf.set_font(FONT, size=8.5)
    with pdf.table(
        col_widths=(40, 138),
        width=pdf.epw,
        text_align=("LEFT", "LEFT"),
        line_height=4.2,
        first_row_as_headings=False,
        borders_layout="HORIZONTAL_LINES",
        align="LEFT",
        padding=(1.0, 1.0),
        v_align="TOP",
    ) as grid:
        for label, value in head_lines(report):
            row = grid.row()
            row.cell(label, style=FontFace(emphasis="BOLD"))
            row.cell(safe(value))
    pdf.ln(2)
    _contents(pdf, report)


def _provisional(pdf: FPDF) -> None:
    """The provisional mark, framed in red above the head block (as the statement's)."""
    pdf.set_draw_color(170, 0, 0)
    pdf.set_text_color(170, 0, 0)
    pdf.set_font(FONT, "B", 8.5)
    pdf.multi_cell(
        0, 4.4,
        f"{PROVISIONAL}. Der Stichtag ist noch nicht vorbei (oder es ist keiner angegeben):"
        " später aufgezeichnete Ereignisse können die Zahlen noch ändern.",
        border=1, padding=2, align="L", new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    pdf.ln(1.5)
    pdf.set_text_color(0)
    pdf.set_draw_color(0)


def _contents(pdf: FPDF, report: YearlyReport) -> None:
    pdf.set_font(FONT, "B", 9)
    pdf.cell(0, 6, "Inhalt", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8.5)
    for s in report.sections:
        pdf.cell(0, 4.6, s.title, new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 4.6, "Anlage: Ereignisse", new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, t: Table, marks: Marks) -> None:
    """Caption, chart and table together on one page where they fit on one."""
    body: list[list[Cell]] = [
        [*(safe(c) for c in row.cells), ref(marks(safe(row.title), row.events, "yearly"))]
        for row in t.rows
    ]
    columns = [*t.columns, BELEG]

    def draw() -> None:
        if t.caption:
            pdf.set_font(FONT, "B", 8.5)
            pdf.cell(0, 5, t.caption, new_x="LMARGIN", new_y="NEXT")
        if not t.rows:
            note(pdf, t.empty)
            pdf.ln(1.5)
            return
        if t.chart is not None and has_bars(t.chart, t.rows):
            bar_chart(pdf, t.chart, t.rows, titled=not t.caption)
        table(pdf, columns, body, size=7.5)
        pdf.ln(1.5)

    if len(t.rows) > LONG:
        if t.chart is not None and pdf.get_y() + chart_height(t.chart, t.rows) > (
            pdf.page_break_trigger
        ):
            pdf.add_page()
        draw()
    else:
        keep(pdf, None, draw)


def _room(t: Table) -> float:
    """What the heading, the intro and the first table need, to stay on one page."""
    chart = chart_height(t.chart, t.rows) if t.chart is not None else 0.0
    return 30 + chart + 5.5 * min(len(t.rows), LONG)


def _closing(pdf: FPDF) -> None:
    keep(
        pdf,
        "Hinweis zur Herkunft der Zahlen",
        partial(
            note,
            pdf,
            "Alle Zahlen dieses Berichts sind aus den Ereignisprotokollen der Plattform bis zum"
            " Stichtag berechnet; derselbe Bericht zum selben Stichtag ist Byte für Byte gleich."
            " Jede Zeile nennt mit ihrer Marke [A n] die Ereignisse, auf denen sie beruht"
            " (Anlage); die Hash-Ketten der Protokolle sind mit 'kim audit verify' prüfbar."
            " Der Bericht enthält keine personenbezogenen Daten.",
            7.5,
        ),
    )

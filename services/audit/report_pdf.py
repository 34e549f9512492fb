"""The Verwendungsnachweis as PDF (fpdf2): the document an auditor files (A4 portrait).

The title and head block, the numbered sections (``report_pdf_sections``), the
confirmation and the appendix of the events behind every mark (``report_pdf_marks``).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from contexts.coordination.statement import Statement
from services.audit import report_pdf_sections as sections
from services.audit.head import Head, as_head, no_directory, stand_text
from services.audit.labels import BAUSTEINE, PROVISIONAL, RULES, TITLE, day, exact
from services.audit.narrative import Narrative
from services.audit.pdf_layout import FONT, keep, new_pdf
from services.audit.report_pdf_marks import Mark, Marks, appendix
from services.audit.report_pdf_sections import Sheet

if TYPE_CHECKING:
    from fpdf import FPDF


def to_pdf(
    s: Statement,
    tenant: str | Head,
    position: int | None = None,
    story: Narrative | None = None,
) -> bytes:
    """The statement as the document an auditor files (A4 portrait).

    Head block, rates, the summary of the Baustein, the staff-cost identity, positions,
    contracts, the months, the narrative statistics, confirmation; every figure a mark
    [A n] pointing to "Anlage: Ereignisse" with the full event ids. Nothing in it depends
    on when it is made: the creation date is the as-of day's (see ``Head.creation_date``).
    """
    head = as_head(tenant, position)
    pdf = _new_pdf(s, head)
    marks = Marks(pdf)
    notice_events = s.granted[0].events if s.granted else []
    notice_mark = marks(f"Bescheid {s.reference}", notice_events, "notice")
    sheet = Sheet(pdf, s, head, marks, notice_mark)
    _title(sheet)
    sections.rates(sheet)
    sections.summary(sheet)
    sections.cover(sheet)
    sections.positions(sheet)
    sections.contracts(sheet)
    sections.months(sheet)
    if story is not None:
        sections.statistics(sheet, story)
    keep(pdf, "Bestätigung", partial(_confirmation, pdf))
    appendix(pdf, marks, head)
    return bytes(pdf.output())


def _new_pdf(s: Statement, head: Head) -> FPDF:
    return new_pdf(
        title=f"{TITLE} {s.year}: {head.grantee()}, Bescheid {s.reference}",
        running=f"{TITLE} {s.year} · {head.grantee()} · Bescheid {s.reference}",
        author=head.grantee(),
        subject=f"Baustein {s.baustein}, Stand Protokollposition {head.position}",
        created=head.creation_date,
        banner=PROVISIONAL if head.provisional else None,
    )


def _title(sheet: Sheet) -> None:
    """The first page's title, the warnings and the head block."""
    pdf, s = sheet.pdf, sheet.s
    pdf.add_page()
    pdf.set_font(FONT, "B", 15)
    pdf.cell(0, 8, f"{TITLE} {s.year}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    subtitle = (
        f"Kommunales Integrationsmanagement NRW · Baustein {s.baustein}"
        f" ({BAUSTEINE.get(s.baustein, '')}) · Bescheid {s.reference}"
    )
    pdf.multi_cell(0, 5, subtitle, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _boxes(pdf, sheet.head)
    _head_block(pdf, s, sheet.head, sheet.notice_mark)


def _head_block(pdf: FPDF, s: Statement, head: Head, notice_mark: Mark | None) -> None:
    from fpdf.fonts import FontFace

    identity = head.grantee()
    if head.name is None:
        identity += " (Name nicht im Datenbestand)"
    key = f"Mandant {head.tenant}" + (f", AGS {head.ags}" if head.ags else "")
    amendments = [r for r in s.references if r != s.reference]
    stand = stand_text(head) + f"; Protokollposition {head.position} (Koordination {head.tenant})"
    fields: list[tuple[str, str, float]] = [
        ("Zuwendungsempfänger", f"{identity}\n{key}", 0),
        ("Anschrift", "", 13),
        ("Ansprechperson, Telefon, E-Mail", "", 9),
        ("Zuwendungsgeber", s.grantor, 0),
        ("Förderprogramm", "Kommunales Integrationsmanagement (KIM) Nordrhein-Westfalen", 0),
        (
            "Bescheid",
            s.reference
            + (f"; Änderungsbescheide in Kraft: {', '.join(amendments)}" if amendments else "")
            + (f" [{notice_mark.mark}]" if notice_mark else ""),
            0,
        ),
        ("Baustein", f"{s.baustein} – {BAUSTEINE.get(s.baustein, '')}", 0),
        ("Bewilligungszeitraum", f"{day(s.period.start)} – {day(s.period.end)}", 0),
        (
            "Nachweiszeitraum",
            f"01.01.{s.year} – 31.12.{s.year}; {exact(s.months_in_period)} Monate davon"
            " im Bewilligungszeitraum",
            0,
        ),
        ("Stichtag (Stand)", stand, 0),
        ("Regel für unbesetzte Monate", RULES[s.vacancy_rule], 0),
    ]
    pdf.set_font(FONT, size=8.5)
    with pdf.table(
        col_widths=(52, 126),
        width=pdf.epw,
        text_align=("LEFT", "LEFT"),
        line_height=4.2,
        first_row_as_headings=False,
        borders_layout="HORIZONTAL_LINES",
        align="LEFT",
        padding=(1.0, 1.0),
        v_align="TOP",
    ) as table:
        for label, value, height in fields:
            row = table.row(min_height=height or None)
            row.cell(label, style=FontFace(emphasis="BOLD"))
            row.cell(value)


def _boxes(pdf: FPDF, head: Head) -> None:
    """Provisional and missing towns, framed in red above everything else."""
    texts = []
    if head.provisional:
        texts.append(
            f"{PROVISIONAL}. Der Stichtag ist noch nicht vorbei (oder die angefragte"
            " Protokollposition noch nicht erreicht): später aufgezeichnete Ereignisse können"
            " die Zahlen noch ändern."
        )
    if head.missing:
        texts.append(
            f"Fehlende Mandanten: {', '.join(head.missing)} – deren Zahlen fehlen. Der"
            " Datenbestand enthält keine Protokolle dieser Mitgliedsstädte (etwa ein"
            " Prüfexport nur des Zuwendungsempfängers); die Statistik zum Sachbericht zählt"
            " sie nicht mit."
        )
    if not head.directory_known:
        texts.append(f"Das Mandantenverzeichnis ist {no_directory(head)}.")
    for text in texts:
        pdf.set_draw_color(170, 0, 0)
        pdf.set_text_color(170, 0, 0)
        pdf.set_font(FONT, "B", 8.5)
        pdf.multi_cell(0, 4.4, text, border=1, padding=2, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    pdf.set_text_color(0)
    pdf.set_draw_color(0)


def _confirmation(pdf: FPDF) -> None:
    pdf.set_font(FONT, size=8)
    pdf.multi_cell(
        0,
        4,
        "Es wird bestätigt, dass die allgemeinen und besonderen Nebenbestimmungen des"
        " Zuwendungsbescheides beachtet wurden, die Ausgaben notwendig waren, wirtschaftlich"
        " und sparsam verfahren worden ist und die Angaben mit den Büchern und gegebenenfalls"
        " den Belegen übereinstimmen. Jeder Wert dieses Nachweises nennt mit seiner Marke"
        " [A n] die Ereignisse, auf denen er beruht (Anlage); die Hash-Ketten der Protokolle"
        " sind mit 'kim audit verify' prüfbar.",
        align="L",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(12)
    y = pdf.get_y()
    half = (pdf.epw - 10) / 2
    pdf.set_draw_color(0)
    pdf.line(pdf.l_margin, y, pdf.l_margin + half, y)
    pdf.line(pdf.l_margin + half + 10, y, pdf.w - pdf.r_margin, y)
    pdf.set_font(FONT, size=7)
    pdf.cell(half + 10, 4, "Ort, Datum")
    pdf.cell(
        half, 4, "Rechtsverbindliche Unterschrift, Name, Funktion", new_x="LMARGIN", new_y="NEXT"
    )

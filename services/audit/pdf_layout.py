"""PDF building blocks (fpdf2): a new A4 document, sections, blocks kept on one page, notes
and tables whose cells link to where their marks are explained.

fpdf2 is imported only when a PDF is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from fpdf import FPDF

FONT = "Helvetica"
MONO = "Courier"
SMALL = 7.5
GREY = (225, 225, 225)
LIGHT = (245, 245, 245)


class Target(Protocol):
    """What a cell links to: a mark shown in the cell and the link to its explanation."""

    @property
    def mark(self) -> str: ...

    @property
    def link(self) -> int: ...


Cell = tuple[str, Target | None] | str


Column = tuple[str, float, str]
"""heading, width (parts of the page width), alignment"""


def new_pdf(
    *, title: str, running: str, author: str, subject: str, created: datetime, banner: str | None
) -> FPDF:
    """An A4 portrait document: ``banner`` in red atop every page (if any), ``running`` and
    the page number in the footer."""
    from fpdf import FPDF

    class StatementPDF(FPDF):
        def header(self) -> None:
            if banner is not None:
                self.set_xy(self.l_margin, 7)
                self.set_font(FONT, "B", 8)
                self.set_text_color(170, 0, 0)
                self.cell(0, 4, banner, align="R")
                self.set_text_color(0)
                self.set_y(self.t_margin)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_draw_color(160)
            self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
            self.set_font(FONT, size=7)
            self.set_text_color(80)
            self.cell(self.epw * 0.8, 6, running)
            self.cell(self.epw * 0.2, 6, f"Seite {self.page_no()} von {{nb}}", align="R")
            self.set_text_color(0)

    pdf = StatementPDF(orientation="P", unit="mm", format="A4")
    # Helvetica is a core font in WinAnsi (cp1252): umlauts, ß, "–" and "€" render.
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_creation_date(created)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_subject(subject)
    pdf.set_creator("KIM-Plattform")
    pdf.set_margins(16, 15, 16)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.alias_nb_pages()
    return pdf


def section(pdf: FPDF, title: str, room: float = 30) -> None:
    if pdf.get_y() + room > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FONT, "B", 10.5)
    pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(0)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1.5)
    pdf.set_font(FONT, size=SMALL)


def keep(pdf: FPDF, title: str | None, draw: Callable[[], None]) -> None:
    """A section (heading and ``draw``) on one page: on the next one if it would break here.

    A dry run first (fpdf2 restores its state after it); the marks the block names must
    exist before, so the dry run registers nothing.
    """

    def block() -> None:
        if title is not None:
            section(pdf, title)
        draw()

    with pdf.offset_rendering() as probe:
        block()
    if probe.page_break_triggered:
        pdf.add_page()
    block()


def note(pdf: FPDF, text: str, size: float = 7) -> None:
    pdf.set_font(FONT, "I", size)
    pdf.multi_cell(0, 3.4, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=SMALL)


def table(
    pdf: FPDF,
    columns: Sequence[Column],
    body: Iterable[Sequence[Cell]],
    *,
    bold: Iterable[int] = (),
    size: float = SMALL,
) -> None:
    """A table with a grey heading row (repeated on a new page); marks link to the appendix."""
    from fpdf.fonts import FontFace

    strong = set(bold)
    pdf.set_font(FONT, size=size)
    with pdf.table(
        col_widths=tuple(width for _, width, _ in columns),
        width=pdf.epw,
        text_align=tuple(align for _, _, align in columns),
        line_height=size * 0.47,
        headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
        borders_layout="HORIZONTAL_LINES",
        align="LEFT",
        padding=(0.8, 1.0),
        v_align="TOP",
    ) as grid:
        grid.row([heading for heading, _, _ in columns])
        for index, cells in enumerate(body):
            style = FontFace(emphasis="BOLD", fill_color=LIGHT) if index in strong else None
            row = grid.row(style=style)
            for cell in cells:
                if isinstance(cell, tuple):
                    text, mark = cell
                    if mark is None:
                        row.cell(text)
                    else:
                        row.cell(f"{text} [{mark.mark}]" if text else mark.mark, link=mark.link)
                else:
                    row.cell(cell)
    pdf.ln(1)


def ref(mark: Target | None) -> Cell:
    return ("", mark) if mark is not None else "–"

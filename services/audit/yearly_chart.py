"""Horizontal bar charts drawn with fpdf2's own lines and rectangles (no image, no font
beyond the core one), so a chart is as reproducible to the byte as the text around it.

A bar per row of the table and series, the row's label on the left, the value at the end
of the bar; a reference line (the 1:100 target) across the bars where the chart has one.
The numbers are also in the table below the chart.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from services.audit.labels import fte
from services.audit.pdf_layout import FONT
from services.audit.yearly import Chart, Row
from services.audit.yearly_labels import count

if TYPE_CHECKING:
    from fpdf import FPDF

COLOURS = ((31, 84, 140), (230, 140, 40), (90, 150, 80))
REFERENCE = (190, 30, 30)
LABEL_WIDTH = 64.0
BAR = 3.6


def _text(value: Decimal, integral: bool) -> str:
    return count(int(value)) if integral else fte(value)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _lines(pdf: FPDF, text: str, width: float, most: int) -> list[str]:
    """The label in up to ``most`` lines, broken between words; the last cut short if need be."""
    words, lines = text.split(), list[str]()
    while words and len(lines) < most - 1:
        line = words.pop(0)
        while words and pdf.get_string_width(f"{line} {words[0]}") <= width:
            line += " " + words.pop(0)
        if not words:
            return [*lines, _fit(pdf, line, width)]
        lines.append(_fit(pdf, line, width))
    return [*lines, _fit(pdf, " ".join(words), width)] if words else lines


def has_bars(chart: Chart, rows: list[Row]) -> bool:
    """Whether any bar of the chart is longer than nothing."""
    return any(row.values.get(key) for row in chart.rows(rows) for key, _ in chart.series)


def chart_height(chart: Chart, rows: list[Row], titled: bool = True) -> float:
    legend = 6.0 if len(chart.series) > 1 or chart.reference else 0.0
    bars = len(chart.rows(rows)) * (BAR * len(chart.series) + 2.2)
    return (8.0 if titled else 2.0) + bars + legend + 3.0


def bar_chart(pdf: FPDF, chart: Chart, rows: list[Row], *, titled: bool = True) -> None:
    """The chart of ``rows`` at the current position, full width; its title unless the
    table's caption above says it already (``titled``)."""
    rows = chart.rows(rows)
    keys = [key for key, _ in chart.series]
    numbers = [row.values.get(key, Decimal(0)) for row in rows for key in keys]
    integral = all(n == n.to_integral_value() for n in numbers)
    top = max([*numbers, chart.reference[0] if chart.reference else Decimal(0), Decimal(1)])
    x0 = pdf.l_margin + LABEL_WIDTH + 2
    area = pdf.epw - LABEL_WIDTH - 2 - 14
    y = pdf.get_y() + 1
    if titled:
        pdf.set_font(FONT, "B", 8.5)
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(0, 5, chart.title)
        y += 6
    y += 1
    first = y
    pdf.set_draw_color(150)
    pdf.set_line_width(0.2)
    for row in rows:
        pdf.set_font(FONT, size=7.5)
        pdf.set_text_color(0)
        label_height = BAR * len(keys)
        label = row.cells[0].encode("cp1252", "replace").decode("cp1252")
        lines = _lines(pdf, label, LABEL_WIDTH, 2 if len(keys) > 1 else 1)
        for n, line in enumerate(lines):  # two lines beside two bars, else one cut short
            pdf.set_xy(pdf.l_margin, y + (label_height - 3.4 * len(lines)) / 2 + 3.4 * n)
            pdf.cell(LABEL_WIDTH, 3.4, line, align="R")
        for index, key in enumerate(keys):
            value = row.values.get(key, Decimal(0))
            width = float(Decimal(str(area)) * value / top) if top else 0.0
            pdf.set_fill_color(*COLOURS[index % len(COLOURS)])
            if width > 0:
                pdf.rect(x0, y, width, BAR - 0.6, style="F")
            pdf.set_font(FONT, size=6.5)
            pdf.set_xy(x0 + width + 1, y - 0.2)
            pdf.cell(14, BAR, _text(value, integral))
            y += BAR
        y += 2.2
    pdf.line(x0, first - 1, x0, y - 1.2)
    if chart.reference is not None:
        value = chart.reference[0]
        x = x0 + float(Decimal(str(area)) * value / top)
        pdf.set_draw_color(*REFERENCE)
        pdf.set_line_width(0.4)
        with pdf.local_context():
            pdf.set_dash_pattern(dash=1.2, gap=0.8)
            pdf.line(x, first - 2, x, y - 1.2)
        pdf.set_line_width(0.2)
    y = _legend(pdf, chart, y)
    pdf.set_text_color(0)
    pdf.set_draw_color(0)
    pdf.set_fill_color(255)  # tables drawn after the chart fill with the current colour
    pdf.set_xy(pdf.l_margin, y + 1)


def _legend(pdf: FPDF, chart: Chart, y: float) -> float:
    if len(chart.series) < 2 and chart.reference is None:
        return y
    x = pdf.l_margin + LABEL_WIDTH + 2
    pdf.set_font(FONT, size=7)
    for index, (_, name) in enumerate(chart.series):
        pdf.set_fill_color(*COLOURS[index % len(COLOURS)])
        pdf.rect(x, y + 1, 3, 3, style="F")
        pdf.set_xy(x + 4, y + 0.5)
        width = pdf.get_string_width(name) + 2
        pdf.cell(width, 4, name)
        x += width + 8
    if chart.reference is not None:
        pdf.set_draw_color(*REFERENCE)
        pdf.set_line_width(0.4)
        pdf.line(x, y + 2.5, x + 5, y + 2.5)
        pdf.set_line_width(0.2)
        pdf.set_xy(x + 6, y + 0.5)
        pdf.cell(0, 4, chart.reference[1])
    return y + 6

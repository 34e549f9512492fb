"""Server-rendered SVG charts for the staff pages: pure functions, no JavaScript.

Every chart is a ``Chart``: the SVG (``role="img"``, a ``<title>`` and a ``<desc>``, text
labels on its axes and legend) and the same numbers as an HTML table, rendered together by
``Chart.figure()``. Colour never carries meaning alone: each series has its own fill pattern
(bars) or marker and dash (lines) and its name in the legend; every colour reaches 4.5:1
against white (WCAG 2.1 AA for text, more than the 3:1 asked of graphics).

``bar_chart`` draws grouped or stacked bars per category (a notice, a month, a life
dimension); ``line_chart`` in ``charts_line.py`` draws lines or steps per month.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640
HEIGHT = 320
MARGIN_LEFT = 64
MARGIN_RIGHT = 16
MARGIN_TOP = 16
AXIS_LABEL_SPACE = 44
LEGEND_ROW = 22
TEXT_COLOUR = "#1b1b1b"
GRID_COLOUR = "#767676"
PALETTE = ("#1d4f91", "#a64300", "#2b6a2f", "#6b2c91", "#8a1538", "#005f6b")
"""Series colours; each has at least 4.5:1 contrast against white (tests/web/test_charts.py)."""
PATTERNS = ("solid", "stripes", "dots", "cross", "horizontal", "checks")
"""The fill pattern of each series, in order: the legend names it as well as the colour."""
MONTHS_DE = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)


@dataclass(frozen=True)
class Series:
    """One named row of numbers, one value per category (month, notice, ...)."""

    label: str
    values: Sequence[float]


@dataclass(frozen=True)
class Chart:
    """A chart's SVG and its numbers as a table; render both with ``figure()``."""

    svg: Markup
    table: Markup
    caption: str

    def figure(self) -> Markup:
        return Markup('<figure class="chart"><figcaption>{}</figcaption>{}{}</figure>').format(
            self.caption, self.svg, self.table
        )


def trusted(markup: str) -> Markup:
    """Markup built here, in which every text from outside went through ``escape``."""
    return Markup(markup)  # noqa: S704 - all text in it is escaped where it is put in


def format_number(value: float) -> str:
    """German notation: ``1.234`` for integers, ``1.234,5`` otherwise."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    text = f"{value:,.1f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def month_label(month: str, *, short: bool = False) -> str:
    """``"2026-03"`` as ``"März 2026"`` (``short``: ``"Mär 26"``); other text as it is."""
    year, _, number = month.partition("-")
    if not (year.isdigit() and number.isdigit() and 1 <= int(number) <= 12):
        return month
    name = MONTHS_DE[int(number) - 1]
    return f"{name[:3]} {year[2:]}" if short else f"{name} {year}"


def nice_ticks(maximum: float, count: int = 5, *, whole: bool = False) -> list[float]:
    """Round axis ticks from 0 to at least ``maximum`` (1, 2, 2.5 or 5 times a power of 10);
    ``whole``: whole numbers only (for counts)."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if power >= 1 or whole:
        step = max(math.ceil(step), 1)
    ticks = [0.0]
    while ticks[-1] < maximum:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def pattern_defs(chart_id: str, count: int) -> str:
    """One ``<pattern>`` per series: colour plus a texture of its own."""
    parts = []
    for i in range(count):
        colour, kind = PALETTE[i % len(PALETTE)], PATTERNS[i % len(PATTERNS)]
        pid = f"{chart_id}-p{i}"
        back = f'<rect width="8" height="8" fill="{colour}"/>'
        marks = {
            "solid": "",
            "stripes": '<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="#fff" '
            'stroke-width="1.5"/>',
            "dots": '<circle cx="4" cy="4" r="1.6" fill="#fff"/>',
            "cross": '<path d="M0,0 l8,8 M8,0 l-8,8" stroke="#fff" stroke-width="1.2"/>',
            "horizontal": '<path d="M0,4 h8" stroke="#fff" stroke-width="1.5"/>',
            "checks": '<rect width="4" height="4" fill="#fff" fill-opacity="0.6"/>'
            '<rect x="4" y="4" width="4" height="4" fill="#fff" fill-opacity="0.6"/>',
        }[kind]
        parts.append(
            f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f"{back}{marks}</pattern>"
        )
    return "<defs>" + "".join(parts) + "</defs>"


def svg_open(chart_id: str, title: str, desc: str, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" id="{escape(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'font-family="sans-serif" font-size="12" fill="{TEXT_COLOUR}">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
    )


def y_axis(ticks: list[float], plot_bottom: float, scale: float, unit: str) -> str:
    """Grid lines and labelled ticks; ``unit`` names what is counted, beside the axis."""
    parts = []
    for tick in ticks:
        y = plot_bottom - tick * scale
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID_COLOUR}" stroke-width="{1 if tick == 0 else 0.4}"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{format_number(tick)}</text>"
        )
    if unit:
        parts.append(
            f'<text x="12" y="{(MARGIN_TOP + plot_bottom) / 2:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 12 {(MARGIN_TOP + plot_bottom) / 2:.1f})">'
            f"{escape(unit)}</text>"
        )
    return "".join(parts)


def category_labels(labels: Sequence[str], centres: Sequence[float], y: float) -> str:
    """The categories under the x axis, slanted when there are many."""
    slant = len(labels) > 6
    parts = []
    for label, x in zip(labels, centres, strict=True):
        if slant:
            parts.append(
                f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="end" '
                f'transform="rotate(-35 {x:.1f} {y:.1f})">{escape(label)}</text>'
            )
        else:
            parts.append(
                f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{escape(label)}</text>'
            )
    return "".join(parts)


def legend(
    chart_id: str,
    series: Sequence[Series],
    top: float,
    marker: Callable[[int, float, float], str] | None = None,
) -> str:
    """Swatch (its fill pattern, or its ``marker``) and name of each series, under the plot."""
    parts = [f'<g class="legend" transform="translate({MARGIN_LEFT},{top:.1f})">']
    x, y = 0.0, 0.0
    for i, s in enumerate(series):
        width = 28 + 7 * len(s.label)
        if x and x + width > WIDTH - MARGIN_LEFT - MARGIN_RIGHT:
            x, y = 0.0, y + LEGEND_ROW
        if marker is None:
            mark = (
                f'<rect x="{x:.1f}" y="{y:.1f}" width="16" height="12" '
                f'fill="url(#{chart_id}-p{i})" stroke="{TEXT_COLOUR}" stroke-width="0.5"/>'
            )
        else:
            mark = marker(i, x + 8, y + 6)
        parts.append(f'{mark}<text x="{x + 22:.1f}" y="{y + 11:.1f}">{escape(s.label)}</text>')
        x += width
    parts.append("</g>")
    return "".join(parts)


def legend_height(series: Sequence[Series]) -> int:
    rows, x = 1, 0
    for s in series:
        width = 28 + 7 * len(s.label)
        if x and x + width > WIDTH - MARGIN_LEFT - MARGIN_RIGHT:
            rows, x = rows + 1, 0
        x += width
    return rows * LEGEND_ROW


def data_table(
    caption: str,
    category_header: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    total: bool = False,
) -> Markup:
    """The chart's numbers: a row per category, a column per series (and their sum)."""
    col = '<th class="kern-table__header" scope="col">'
    num = '<td class="kern-table__cell kern-table__cell--numeric">'
    head = "".join(f"{col}{escape(s.label)}</th>" for s in series)
    if total:
        head += f"{col}Summe</th>"
    rows = []
    for i, category in enumerate(categories):
        cells = "".join(f"{num}{format_number(s.values[i])}</td>" for s in series)
        if total:
            cells += f"{num}{format_number(sum(s.values[i] for s in series))}</td>"
        rows.append(
            f'<tr class="kern-table__row"><th class="kern-table__cell" scope="row">'
            f"{escape(category)}</th>{cells}</tr>"
        )
    return trusted(
        f'<table class="kern-table kern-table--small chart-table">'
        f'<caption class="kern-title">{escape(caption)}</caption>'
        f'<thead class="kern-table__header"><tr class="kern-table__row">'
        f"{col}{escape(category_header)}</th>{head}</tr></thead>"
        f'<tbody class="kern-table__body">{"".join(rows)}</tbody></table>'
    )


def check_series(categories: Sequence[str], series: Sequence[Series]) -> None:
    if not series:
        raise ValueError("a chart needs at least one series")
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(
                f"series {s.label!r} has {len(s.values)} values for {len(categories)} categories"
            )
        if any(v < 0 or not math.isfinite(v) for v in s.values):
            raise ValueError(f"series {s.label!r} has a negative or infinite value")


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = False,
    unit: str = "",
    category_header: str = "Kategorie",
    whole: bool = False,
) -> Chart:
    """Bars per category, side by side (grouped) or on top of each other (``stacked``).

    ``chart_id`` must be unique in the page (its patterns' ids derive from it). Grouped
    bars are labelled with their value where there is room; stacked bars with their total.
    ``whole``: the values are counts (axis ticks in whole numbers).
    """
    check_series(categories, series)
    legend_space = legend_height(series)
    height = HEIGHT + legend_space
    plot_bottom = HEIGHT - AXIS_LABEL_SPACE
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    peak = max(totals) if stacked else max((max(s.values, default=0) for s in series), default=0)
    ticks = nice_ticks(peak, whole=whole)
    scale = (plot_bottom - MARGIN_TOP) / ticks[-1]
    band = plot_width / max(len(categories), 1)
    parts = [svg_open(chart_id, title, desc, height), pattern_defs(chart_id, len(series))]
    parts.append(y_axis(ticks, plot_bottom, scale, unit))
    centres = []
    for i, category in enumerate(categories):
        left = MARGIN_LEFT + i * band + band * 0.12
        inner = band * 0.76
        centres.append(left + inner / 2)
        if stacked:
            base = float(plot_bottom)
            for j, s in enumerate(series):
                h = s.values[i] * scale
                parts.append(
                    _bar(chart_id, j, left, base - h, inner, h, s.label, category, s.values[i])
                )
                base -= h
            parts.append(
                f'<text x="{left + inner / 2:.1f}" y="{base - 4:.1f}" text-anchor="middle">'
                f"{format_number(totals[i])}</text>"
            )
            continue
        width = inner / len(series)
        for j, s in enumerate(series):
            h = s.values[i] * scale
            x = left + j * width
            parts.append(
                _bar(chart_id, j, x, plot_bottom - h, width, h, s.label, category, s.values[i])
            )
            if width >= 18:
                parts.append(
                    f'<text x="{x + width / 2:.1f}" y="{plot_bottom - h - 4:.1f}" '
                    f'text-anchor="middle" font-size="10">{format_number(s.values[i])}</text>'
                )
    parts.append(category_labels(categories, centres, plot_bottom + 16))
    parts.append(legend(chart_id, series, HEIGHT - 4))
    parts.append("</svg>")
    table = data_table(f"Zahlen zu: {title}", category_header, categories, series, total=stacked)
    return Chart(trusted("".join(parts)), table, title)


def _bar(
    chart_id: str,
    index: int,
    x: float,
    y: float,
    width: float,
    height: float,
    label: str,
    category: str,
    value: float,
) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="url(#{chart_id}-p{index})" stroke="{TEXT_COLOUR}" stroke-width="0.5">'
        f"<title>{escape(label)}, {escape(category)}: {format_number(value)}</title></rect>"
    )

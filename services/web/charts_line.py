"""Line and step charts per month (see ``services/web/charts.py`` for the conventions).

Each series has its own colour, dash pattern and point marker (circle, square, triangle,
diamond, ...), its name in the legend and its last value written at the end of its line, so
that no series is told apart by colour alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from html import escape

from services.web.charts import (
    AXIS_LABEL_SPACE,
    HEIGHT,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    PALETTE,
    WIDTH,
    Chart,
    Series,
    category_labels,
    check_series,
    data_table,
    format_number,
    legend,
    legend_height,
    nice_ticks,
    svg_open,
    trusted,
    y_axis,
)

DASHES = ("", "6 3", "2 3", "8 3 2 3", "10 4", "1 2")
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "bar")


def marker(index: int, x: float, y: float) -> str:
    """The point marker of series ``index`` centred on (x, y)."""
    colour, kind = PALETTE[index % len(PALETTE)], MARKERS[index % len(MARKERS)]
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
    if kind == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if kind == "triangle":
        return (
            f'<path d="M{x:.1f},{y - 5:.1f} L{x + 5:.1f},{y + 4:.1f} L{x - 5:.1f},{y + 4:.1f} Z" '
            f'fill="{colour}"/>'
        )
    if kind == "diamond":
        return (
            f'<path d="M{x:.1f},{y - 5:.1f} L{x + 5:.1f},{y:.1f} L{x:.1f},{y + 5:.1f} '
            f'L{x - 5:.1f},{y:.1f} Z" fill="{colour}"/>'
        )
    if kind == "cross":
        return (
            f'<path d="M{x - 4:.1f},{y - 4:.1f} L{x + 4:.1f},{y + 4:.1f} M{x + 4:.1f},'
            f'{y - 4:.1f} L{x - 4:.1f},{y + 4:.1f}" stroke="{colour}" stroke-width="2.5"/>'
        )
    return f'<rect x="{x - 1.5:.1f}" y="{y - 5:.1f}" width="3" height="10" fill="{colour}"/>'


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    months: Sequence[str],
    series: Sequence[Series],
    *,
    step: bool = False,
    unit: str = "",
    category_header: str = "Monat",
) -> Chart:
    """A line per series over ``months`` (labels as given, e.g. ``month_label(...)``).

    ``step``: the value holds until the next month (a count that changes at events, such
    as positions filled), drawn as horizontal then vertical segments.
    """
    check_series(months, series)
    legend_space = legend_height(series)
    height = HEIGHT + legend_space
    plot_bottom = HEIGHT - AXIS_LABEL_SPACE
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT - 36  # room for the end labels
    ticks = nice_ticks(max((max(s.values, default=0) for s in series), default=0))
    scale = (plot_bottom - MARGIN_TOP) / ticks[-1]
    band = plot_width / max(len(months), 1)
    xs = [MARGIN_LEFT + band * (i + 0.5) for i in range(len(months))]
    parts = [svg_open(chart_id, title, desc, height), y_axis(ticks, plot_bottom, scale, unit)]
    for j, s in enumerate(series):
        points = [(x, plot_bottom - v * scale) for x, v in zip(xs, s.values, strict=True)]
        path = _path(points, step)
        colour = PALETTE[j % len(PALETTE)]
        dash = DASHES[j % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<g class="series"><title>{escape(s.label)}</title>'
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
        )
        for (x, y), month, value in zip(points, months, s.values, strict=True):
            parts.append(
                f"<g>{marker(j, x, y)}<title>{escape(s.label)}, {escape(month)}: "
                f"{format_number(value)}</title></g>"
            )
        if points:
            x, y = points[-1]
            parts.append(
                f'<text x="{x + 8:.1f}" y="{y + 4:.1f}">{format_number(s.values[-1])}</text>'
            )
        parts.append("</g>")
    parts.append(category_labels(months, xs, plot_bottom + 16))
    parts.append(legend(chart_id, series, HEIGHT - 4, marker))
    parts.append("</svg>")
    table = data_table(f"Zahlen zu: {title}", category_header, months, series)
    return Chart(trusted("".join(parts)), table, title)


def _path(points: Sequence[tuple[float, float]], step: bool) -> str:
    if not points:
        return ""
    d = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for (_, y0), (x1, y1) in itertools.pairwise(points):
        if step:
            d.append(f"H{x1:.1f}")
            if y1 != y0:
                d.append(f"V{y1:.1f}")
        else:
            d.append(f"L{x1:.1f},{y1:.1f}")
    return " ".join(d)

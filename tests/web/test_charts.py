"""The server-rendered charts: accessible SVG plus the same numbers as a table."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from services.web.charts import (
    PALETTE,
    PATTERNS,
    TEXT_COLOUR,
    Series,
    bar_chart,
    format_number,
    month_label,
    nice_ticks,
)
from services.web.charts_line import line_chart

SVG = "{http://www.w3.org/2000/svg}"


def _xml(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 - markup these tests made themselves


def _contrast(colour: str, background: str = "#ffffff") -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(colour), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _bars(svg: str) -> dict[str, float]:
    """Each bar's tooltip text and its drawn height."""
    root = _xml(svg)
    return {
        rect.find(f"{SVG}title").text or "": float(rect.get("height", "0"))  # type: ignore[union-attr]
        for rect in root.iter(f"{SVG}rect")
        if rect.find(f"{SVG}title") is not None
    }


FUNDING = [
    Series("bewilligt", [10, 20, 0]),
    Series("weitergeleitet", [5, 20, 4]),
    Series("besetzt", [2.5, 10, 1]),
]
MONTHS = ["Jan 26", "Feb 26", "Mär 26"]


def test_a_bar_chart_is_an_image_named_by_its_title_and_description() -> None:
    chart = bar_chart("funding", "Förderung je Monat", "Stellen nach Stand", MONTHS, FUNDING)
    root = _xml(str(chart.svg))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "funding-title funding-desc"
    assert root.find(f"{SVG}title").text == "Förderung je Monat"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "Stellen nach Stand"  # type: ignore[union-attr]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Jan 26", "Feb 26", "Mär 26", "bewilligt", "weitergeleitet", "besetzt"} <= set(texts)


def test_grouped_bars_are_as_high_as_their_values_and_each_series_has_its_own_pattern() -> None:
    chart = bar_chart("f", "Förderung", "d", MONTHS, FUNDING)
    bars = _bars(str(chart.svg))
    assert len(bars) == 9
    assert bars["weitergeleitet, Feb 26: 20"] == pytest.approx(2 * bars["bewilligt, Jan 26: 10"])
    assert bars["besetzt, Jan 26: 2,5"] == pytest.approx(bars["bewilligt, Jan 26: 10"] / 4)
    assert bars["bewilligt, Mär 26: 0"] == 0
    fills = re.findall(r'<pattern id="(f-p\d)"', str(chart.svg))
    assert fills == ["f-p0", "f-p1", "f-p2"]
    assert len(set(PATTERNS)) == len(PATTERNS)


def test_stacked_bars_add_up_and_the_table_says_the_sum() -> None:
    chart = bar_chart("s", "Fälle", "d", MONTHS, FUNDING, stacked=True, category_header="Monat")
    bars = _bars(str(chart.svg))
    feb = sum(h for label, h in bars.items() if "Feb 26" in label)
    jan = sum(h for label, h in bars.items() if "Jan 26" in label)
    assert feb / jan == pytest.approx(50 / 17.5)
    table = _xml(str(chart.table))
    header = [th.text for th in table.iter("th") if th.get("scope") == "col"]
    assert header == ["Monat", "bewilligt", "weitergeleitet", "besetzt", "Summe"]
    rows = {
        tr.find("th").text: [td.text for td in tr.iter("td")]  # type: ignore[union-attr]
        for tr in table.iter("tr")
        if tr.find("th") is not None and tr.find("th").get("scope") == "row"  # type: ignore[union-attr]
    }
    assert rows == {
        "Jan 26": ["10", "5", "2,5", "17,5"],
        "Feb 26": ["20", "20", "10", "50"],
        "Mär 26": ["0", "4", "1", "5"],
    }
    assert "Summe" not in str(bar_chart("g", "Fälle", "d", MONTHS, FUNDING).table)


def test_a_figure_holds_the_chart_and_its_table() -> None:
    chart = bar_chart("x", "Fälle je Lebensbereich", "d", ["Arbeit"], [Series("offen", [3])])
    html = str(chart.figure())
    assert html.startswith('<figure class="chart"><figcaption>Fälle je Lebensbereich')
    assert "<svg" in html
    assert '<caption class="kern-title">Zahlen zu: Fälle je Lebensbereich</caption>' in html


def test_labels_from_outside_are_escaped() -> None:
    evil = '<script>alert("x")</script>'
    chart = bar_chart("e", evil, evil, [evil], [Series(evil, [1])])
    line = line_chart("l", evil, evil, [evil], [Series(evil, [1])])
    for markup in (chart.svg, chart.table, chart.figure(), line.svg, line.table):
        assert "<script>" not in str(markup)
    _xml(str(chart.svg))
    _xml(str(line.svg))


def test_colours_reach_aa_contrast_against_white() -> None:
    assert _contrast(TEXT_COLOUR) >= 4.5
    for colour in PALETTE:
        assert _contrast(colour) >= 4.5, colour


def test_a_step_chart_holds_each_value_until_the_next_month_and_marks_series_by_shape() -> None:
    filled = [Series("besetzt", [1, 1, 3]), Series("bewilligt", [2, 4, 4])]
    chart = line_chart("steps", "Stellen", "d", MONTHS, filled, step=True)
    root = _xml(str(chart.svg))
    paths = [
        p.get("d", "")
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "series"
        for p in g.findall(f"{SVG}path")
    ]
    assert len(paths) == 2
    assert all(re.fullmatch(r"M[\d.]+,[\d.]+( [HV][\d.]+)+", d) for d in paths)
    assert "V" not in paths[0].split("H")[1]  # 1 → 1: no vertical segment
    # Markers differ by shape, not only colour: circles for the first series, squares next.
    series = [g for g in root.iter(f"{SVG}g") if g.get("class") == "series"]
    assert len(list(series[0].iter(f"{SVG}circle"))) == 3
    assert len(list(series[1].iter(f"{SVG}rect"))) == 3
    assert paths != [p.replace("H", "L") for p in paths]
    line = line_chart("lines", "Stellen", "d", MONTHS, filled)
    assert " L" in str(line.svg)
    texts = [t.text for t in _xml(str(line.svg)).iter(f"{SVG}text")]
    assert "3" in texts  # the last values, at the end of each line
    assert "4" in texts


def test_series_and_categories_must_fit_together() -> None:
    with pytest.raises(ValueError, match="2 values for 3 categories"):
        bar_chart("b", "t", "d", MONTHS, [Series("a", [1, 2])])
    with pytest.raises(ValueError, match="negative"):
        line_chart("b", "t", "d", MONTHS, [Series("a", [1, -2, 3])])
    with pytest.raises(ValueError, match="at least one series"):
        bar_chart("b", "t", "d", MONTHS, [])


def test_numbers_ticks_and_months_in_german() -> None:
    assert format_number(1234) == "1.234"
    assert format_number(1234.5) == "1.234,5"
    assert month_label("2026-03") == "März 2026"
    assert month_label("2026-12", short=True) == "Dez 26"
    assert month_label("ohne Monat") == "ohne Monat"
    assert nice_ticks(0) == [0.0, 1.0]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(100)[-1] == 100
    assert nice_ticks(3)[-1] >= 3
    assert nice_ticks(1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(1, whole=True) == [0, 1]
    assert nice_ticks(3, whole=True) == [0, 1, 2, 3]

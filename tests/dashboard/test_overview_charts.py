"""The Overview chart builders: pure frame -> alt.Chart, checked on what the chart draws.

Each chart is rendered to SVG by Vega itself (vl_convert, which the report already uses for its
PNG charts), and the drawn marks are read back: where each bar, point and line vertex sits, its
colour, and the tooltip text Vega gives it. So a test fails when the builder plots the wrong
column, stops stacking, aggregates wrongly, or colours by the wrong field, not only when the
spec's text changes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl
import pytest
import vl_convert as vlc

from dashboard import charts

D1, D2, D3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)


@dataclass(frozen=True)
class Mark:
    kind: str  # Vega's aria role description: bar, point, line mark, area mark
    label: str  # Vega's tooltip text for the mark
    d: str
    transform: str
    fill: str


def _marks(chart) -> tuple[list[Mark], list[str]]:
    """The data marks of a rendered chart, and the axis descriptions."""
    svg = vlc.vegalite_to_svg(chart.to_dict())
    marks = []
    for tag in re.findall(r"<path [^>]*aria-roledescription=[^>]*>", svg):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        marks.append(
            Mark(
                attrs["aria-roledescription"],
                attrs.get("aria-label", ""),
                attrs.get("d", ""),
                attrs.get("transform", ""),
                attrs.get("fill", ""),
            )
        )
    axes = re.findall(r'aria-label="([XY]-axis[^"]*)"', svg)
    return marks, axes


def _bar(mark: Mark) -> tuple[float, float]:
    """(top, height) of a bar drawn as M x,y h w v h h -w Z."""
    top, height = re.fullmatch(
        r"M[-\d.e]+,([-\d.e]+)h[-\d.e]+v([-\d.e]+)h[-\d.e]+Z", mark.d
    ).groups()
    return float(top), float(height)


def _y(mark: Mark) -> float:
    return float(re.fullmatch(r"translate\(([-\d.e]+),([-\d.e]+)\)", mark.transform).group(2))


def test_volume_by_model_stacks_each_days_events_coloured_by_model():
    frame = pl.DataFrame(
        {
            "day": [D1, D1, D1, D2],
            "model": ["a", "b", "a", "a"],
            "events": [3, 4, 5, 6],
        }
    )
    marks, axes = _marks(charts.volume_by_model(frame))
    bars = [m for m in marks if m.kind == "bar"]
    assert sorted(m.label for m in bars) == [
        "day: Nov 01; events: 3; model: a",
        "day: Nov 01; events: 4; model: b",
        "day: Nov 01; events: 5; model: a",
        "day: Nov 02; events: 6; model: a",
    ]
    # One colour per model.
    fills = {m.label.rsplit("model: ", 1)[1]: set() for m in bars}
    for m in bars:
        fills[m.label.rsplit("model: ", 1)[1]].add(m.fill)
    assert all(len(f) == 1 for f in fills.values()) and fills["a"] != fills["b"]
    # Heights are proportional to events, and a day's bars sit on top of each other from the
    # axis up: the day's column is its sum (12 on Nov 01, 6 on Nov 02).
    per_event = {_bar(m)[1] / int(m.label.split("events: ")[1].split(";")[0]) for m in bars}
    assert max(per_event) == pytest.approx(min(per_event))
    scale = per_event.pop()
    day_bottoms = set()
    for day, total in (("Nov 01", 12), ("Nov 02", 6)):
        spans = sorted(_bar(m) for m in bars if m.label.startswith(f"day: {day};"))
        for (top, height), (next_top, _) in zip(spans, spans[1:], strict=False):
            assert top + height == pytest.approx(next_top)  # stacked, no gap, no overlap
        bottom = spans[-1][0] + spans[-1][1]
        assert bottom - spans[0][0] == pytest.approx(total * scale)
        day_bottoms.add(round(bottom, 6))
    assert len(day_bottoms) == 1  # every day's column stands on the same axis
    assert any("values from 0 to 12" in a for a in axes), axes


def test_error_rate_plots_the_rate_column_per_day_as_a_percentage():
    frame = pl.DataFrame(
        {
            "day": [D1, D2, D3],
            "events": [10, 40, 20],
            "errors": [1, 1, 1],
            "error_rate": [0.1, 0.025, 0.05],
            "cost_usd": [1.5, 3.0, 0.75],
            "tokens": [1000, 2000, 500],
        }
    )
    marks, axes = _marks(charts.error_rate(frame))
    points = sorted((m for m in marks if m.kind == "point"), key=lambda m: m.label)
    assert [m.label for m in points] == [
        "day: Nov 01; error rate: 10.000000%; error_rate: 10.00%; errors: 1; events: 10",
        "day: Nov 02; error rate: 2.500000%; error_rate: 2.50%; errors: 1; events: 40",
        "day: Nov 03; error rate: 5.000000%; error_rate: 5.00%; errors: 1; events: 20",
    ]
    # Heights above the axis in proportion to the rate: 10% : 2.5% : 5%.
    zero = _y(points[0]) + (_y(points[1]) - _y(points[0])) / (1 - 0.025 / 0.1)
    heights = [zero - _y(p) for p in points]
    assert heights[2] / heights[0] == pytest.approx(0.5)
    assert heights[1] / heights[0] == pytest.approx(0.25)
    assert [m.kind for m in marks].count("line mark") == 1
    assert any("'error rate'" in a and "0% to 10%" in a for a in axes), axes


def test_cost_per_day_draws_each_days_cost_in_dollars():
    frame = pl.DataFrame(
        {
            "day": [D1, D2, D3],
            "cost_usd": [1.5, 3.0, 0.75],
            "tokens": [1000, 2000, 500],
        }
    )
    marks, axes = _marks(charts.cost_per_day(frame))
    (line,) = [m for m in marks if m.kind == "line mark"]
    ys = [float(v) for v in re.findall(r"[ML][-\d.e]+,([-\d.e]+)", line.d)]
    (area,) = [m for m in marks if m.kind == "area mark"]
    floor = max(float(v) for v in re.findall(r"[ML][-\d.e]+,([-\d.e]+)", area.d))
    heights = [floor - y for y in ys]
    assert len(heights) == 3
    assert [h / heights[1] for h in heights] == pytest.approx([0.5, 1.0, 0.25])
    assert "cost_usd: $1.50; tokens: 1,000" in line.label
    assert any("'cost (USD)'" in a and "$0.00 to $3.00" in a for a in axes), axes

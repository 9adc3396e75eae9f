"""The Overview chart builders: pure frame -> alt.Chart, checked on their Vega-Lite specs."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard import charts


def _spec(chart) -> dict:
    return chart.to_dict()


def test_volume_by_model_stacks_events_by_model():
    frame = pl.DataFrame(
        {
            "day": [dt.date(2026, 11, 1), dt.date(2026, 11, 1), dt.date(2026, 11, 2)],
            "model": ["a", "b", "a"],
            "events": [3, 4, 5],
        }
    )
    spec = _spec(charts.volume_by_model(frame))
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["color"]["field"] == "model"
    assert spec["encoding"]["y"]["aggregate"] == "sum"
    rows = next(iter(spec["datasets"].values()))
    assert sorted(r["events"] for r in rows) == [3, 4, 5]


def test_error_rate_and_cost_read_the_daily_frame():
    frame = pl.DataFrame(
        {
            "day": [dt.date(2026, 11, 1)],
            "events": [10],
            "errors": [1],
            "error_rate": [0.1],
            "cost_usd": [1.5],
            "tokens": [1000],
        }
    )
    err = _spec(charts.error_rate(frame))
    assert err["encoding"]["y"]["field"] == "error_rate"
    assert err["encoding"]["y"]["axis"]["format"] == "%"
    cost = _spec(charts.cost_per_day(frame))
    assert cost["encoding"]["y"]["field"] == "cost_usd"
    assert next(iter(cost["datasets"].values()))[0]["cost_usd"] == 1.5

"""The trends chart builder: first-appearance labels on one day are stacked, not overprinted."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.charts_trends import trend_chart


def _series() -> pl.DataFrame:
    days = [dt.date(2026, 9, 7), dt.date(2026, 9, 14)]
    return pl.DataFrame({
        "bucket": days, "split": ["all", "all"], "value": [0.1, 0.2], "lo": [0.05, 0.1],
        "hi": [0.2, 0.3], "n": [100, 120], "thin": [False, False],
    })  # fmt: skip


def _label_layer(spec: dict) -> dict:
    layers = [layer for layer in spec["layer"] if layer.get("mark", {}).get("type") == "text"]
    assert len(layers) == 1
    return layers[0]


def test_labels_of_one_day_get_their_own_rows():
    first = dt.datetime(2026, 9, 7, 9, 0, tzinfo=dt.UTC)
    markers = pl.DataFrame({
        "what": ["model", "prompt_version", "model"],
        "value": ["gpt-4o-mini", "v1", "gpt-4.1-mini"],
        "first_ts": [first, first, first + dt.timedelta(days=7)],
        "first_day": [first.date(), first.date(), first.date() + dt.timedelta(days=7)],
    })  # fmt: skip
    chart = trend_chart(_series(), markers, metric_label="rate", is_rate=True, granularity="week")
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    text = _label_layer(spec)
    assert text["encoding"]["y"]["field"] == "label_y" and text["encoding"]["y"]["scale"] is None
    rows = spec["datasets"][text["data"]["name"]]
    by_label = {r["label"]: r["label_y"] for r in rows}
    assert by_label["prompt version: v1"] != by_label["model: gpt-4o-mini"]
    assert by_label["model: gpt-4.1-mini"] == 8  # alone on its day: the first row

"""Chart builders of the Evaluators page: pure functions, polars frame in, alt.Chart out.

As on the trends page, each point carries its interval and n in the tooltip, and a week with
too few items is drawn hollow with no interval bar.
"""

from __future__ import annotations

import altair as alt
import polars as pl

_HEIGHT = 220


def interval_chart(
    frame: pl.DataFrame, *, value_title: str, fmt: str, min_n: int, y_domain=None
) -> alt.LayerChart:
    """Points per week with their interval bars (frame: week, value, lo, hi, n)."""
    data = frame.with_columns((pl.col("n") < min_n).alias("thin"))
    x = alt.X("week:O", title="ISO week")
    y_scale = alt.Scale(domain=y_domain) if y_domain else alt.Undefined
    tooltip = [
        alt.Tooltip("week:O", title="week"),
        alt.Tooltip("value:Q", title=value_title, format=fmt),
        alt.Tooltip("lo:Q", title="95% low", format=fmt),
        alt.Tooltip("hi:Q", title="95% high", format=fmt),
        alt.Tooltip("n:Q", title="n", format=","),
    ]
    base = alt.Chart(data, height=_HEIGHT).encode(x=x)
    bars = base.transform_filter("!datum.thin").mark_rule(opacity=0.6).encode(
        y=alt.Y("lo:Q", title=value_title, axis=alt.Axis(format=fmt), scale=y_scale), y2="hi:Q"
    )
    line = base.mark_line(strokeWidth=1.5).encode(y=alt.Y("value:Q", scale=y_scale))
    solid = base.transform_filter("!datum.thin").mark_point(size=60, filled=True).encode(
        y="value:Q", tooltip=tooltip
    )
    hollow = base.transform_filter("datum.thin").mark_point(
        size=60, filled=False, opacity=0.5, shape="triangle"
    ).encode(y="value:Q", tooltip=tooltip)
    return alt.layer(bars, line, solid, hollow)

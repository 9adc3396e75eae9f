"""Chart builders of the Feedback trends page: pure functions, polars frame in, alt.Chart out.

Honesty is drawn, not footnoted: each point carries its interval band, and a bucket with fewer
events than the minimum n is drawn hollow and faint with no band, so a wild swing on ten votes
never looks like a trend. Vertical rules mark where a model or prompt version first appears,
which is where a change usually starts.
"""

from __future__ import annotations

import altair as alt
import polars as pl

POINT_SELECTION = "trends_point"


def trend_chart(
    series: pl.DataFrame, markers: pl.DataFrame, *, metric_label: str, is_rate: bool,
    granularity: str,
) -> alt.LayerChart:
    """Line + interval band per split value, thin buckets hollow, first-appearance rules.

    Clicking a point selects (bucket, split); the page opens the explorer on it.
    """
    data = series.with_columns(
        pl.col("bucket").cast(pl.Date),
        pl.when(pl.col("thin")).then(pl.lit("thin (too few events)"))
        .otherwise(pl.lit("enough events")).alias("support"),
        pl.when(pl.col("thin")).then(None).otherwise(pl.col("lo")).alias("band_lo"),
        pl.when(pl.col("thin")).then(None).otherwise(pl.col("hi")).alias("band_hi"),
    )
    fmt = ".1%" if is_rate else ",.3~f"
    x = alt.X("bucket:T", title="week starting" if granularity == "week" else "day",
              axis=alt.Axis(format="%b %d"))
    color = alt.Color("split:N", title=None, legend=alt.Legend(orient="bottom", symbolOpacity=1))
    tooltip = [
        alt.Tooltip("bucket:T", title=granularity, format="%Y-%m-%d"),
        alt.Tooltip("split:N", title="segment"),
        alt.Tooltip("value:Q", title=metric_label, format=fmt),
        alt.Tooltip("lo:Q", title="interval low", format=fmt),
        alt.Tooltip("hi:Q", title="interval high", format=fmt),
        alt.Tooltip("n:Q", title="n", format=","),
        alt.Tooltip("support:N", title="support"),
    ]
    select = alt.selection_point(name=POINT_SELECTION, fields=["bucket", "split"], on="click")
    base = alt.Chart(data).encode(x=x, color=color)
    band = base.mark_area(opacity=0.15).encode(
        y=alt.Y("band_lo:Q", title=metric_label, axis=alt.Axis(format=fmt)), y2="band_hi:Q"
    )
    # With weekly buckets a band spans few points, so each interval is also drawn as a bar.
    bars = base.transform_filter("!datum.thin").mark_rule(opacity=0.6).encode(
        y="band_lo:Q", y2="band_hi:Q")
    line = base.mark_line(strokeWidth=1.5).encode(y="value:Q")
    solid = base.transform_filter("!datum.thin").mark_point(size=50, filled=True).encode(
        y="value:Q")
    hollow = base.transform_filter("datum.thin").mark_point(
        size=50, filled=False, opacity=0.5, shape="triangle").encode(y="value:Q")
    # One nearly invisible, larger layer carries the tooltip and the click selection for
    # every point, so thin and solid points are both clickable under one selection name.
    hits = base.mark_point(size=220, opacity=0.01, filled=True).encode(
        y="value:Q", tooltip=tooltip).add_params(select)
    layers: list[alt.Chart] = [band, bars, line, solid, hollow, hits]
    if not markers.is_empty():
        marks = markers.with_columns(
            pl.col("first_day").cast(pl.Date),
            (pl.col("what").str.replace("_", " ") + ": " + pl.col("value")).alias("label"),
        ).with_columns(
            # Labels of things that first appear on the same day are stacked, not overprinted.
            (8 + 12 * pl.int_range(pl.len()).over("first_day")).alias("label_y"),
        )
        rule = alt.Chart(marks).mark_rule(strokeDash=[4, 3], color="#888").encode(
            x="first_day:T",
            tooltip=[alt.Tooltip("label:N", title="first appears"),
                     alt.Tooltip("first_ts:T", title="at", format="%Y-%m-%d %H:%M")],
        )
        text = alt.Chart(marks).mark_text(align="left", dx=3, dy=-4, angle=0, fontSize=10,
                                          color="#555").encode(
            x="first_day:T", y=alt.Y("label_y:Q", scale=None, axis=None), text="label:N")
        layers += [rule, text]
    return alt.layer(*layers).properties(height=320)


def sources_chart(shares: pl.DataFrame) -> alt.Chart:
    """Share of this week's feedback rows by who gave it (user, reviewer, LLM judge, code)."""
    return alt.Chart(shares).mark_bar().encode(
        x=alt.X("share:Q", title="share of feedback", axis=alt.Axis(format="%")),
        y=alt.Y("source:N", title=None, sort="-x"),
        tooltip=[alt.Tooltip("source:N"), alt.Tooltip("rows:Q", format=","),
                 alt.Tooltip("share:Q", format=".1%")],
    ).properties(height=200)

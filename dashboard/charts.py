"""Chart builders for the Overview page: pure functions, polars frame in, alt.Chart out.

Kept apart from the page so they can be tested without Streamlit and reused by the report.
"""

from __future__ import annotations

import altair as alt
import polars as pl

_HEIGHT = 220


def volume_by_model(frame: pl.DataFrame) -> alt.Chart:
    """Stacked bars of events per day, one colour per model (frame: day, model, events)."""
    return (
        alt.Chart(frame, height=_HEIGHT)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=None, axis=alt.Axis(format="%b %d")),
            y=alt.Y("sum(events):Q", title="events"),
            color=alt.Color(
                "model:N", title=None, legend=alt.Legend(orient="bottom", columns=2, labelLimit=260)
            ),
            tooltip=[
                alt.Tooltip("day:T", format="%Y-%m-%d"),
                "model:N",
                alt.Tooltip("events:Q", format=","),
            ],
        )
    )


def error_rate(frame: pl.DataFrame) -> alt.Chart:
    """Daily error rate; errors and events in the tooltip (frame from queries.overview.daily)."""
    return (
        alt.Chart(frame, height=_HEIGHT)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=None, axis=alt.Axis(format="%b %d")),
            y=alt.Y("error_rate:Q", title="error rate", axis=alt.Axis(format="%")),
            tooltip=[
                alt.Tooltip("day:T", format="%Y-%m-%d"),
                alt.Tooltip("error_rate:Q", format=".2%"),
                alt.Tooltip("errors:Q", format=","),
                alt.Tooltip("events:Q", format=","),
            ],
        )
    )


def cost_per_day(frame: pl.DataFrame) -> alt.Chart:
    """Daily cost in USD (frame: day, cost_usd, tokens)."""
    return (
        alt.Chart(frame, height=_HEIGHT)
        # points too: a single day (a first import, a day of live traffic) has no area
        .mark_area(opacity=0.6, line=True, point=True)
        .encode(
            x=alt.X("day:T", title=None, axis=alt.Axis(format="%b %d")),
            y=alt.Y("cost_usd:Q", title="cost (USD)", axis=alt.Axis(format="$,.2f")),
            tooltip=[
                alt.Tooltip("day:T", format="%Y-%m-%d"),
                alt.Tooltip("cost_usd:Q", format="$,.2f"),
                alt.Tooltip("tokens:Q", format=","),
            ],
        )
    )

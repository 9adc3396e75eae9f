"""Chart builders of the drift page: frame in, alt.Chart out, nothing else."""

from __future__ import annotations

import altair as alt
import polars as pl

# The feedback colouring, in legend order: negatives stand out, no vote recedes.
FEEDBACK_COLOURS = {"negative": "#d62728", "thumbs up": "#1f77b4", "no vote / signal": "#c7c7c7"}
COLOR_TITLES = {"cluster": "Cluster", "window": "Window", "model": "Model",
                "feedback": "Feedback"}


def map_chart(points: pl.DataFrame, color_by: str, height: int = 560) -> alt.Chart:
    """The UMAP point cloud; hover shows the event's text (as data, rendered by Vega as text)."""
    n_colors = points["colour"].n_unique() if points.height else 0
    scale = alt.Scale(scheme="category20") if n_colors > 10 else alt.Scale(scheme="tableau10")
    if color_by == "feedback":
        # Negatives are what a reviewer looks for: strong red, drawn last (on top) and larger;
        # events without a vote recede in light grey.
        scale = alt.Scale(domain=list(FEEDBACK_COLOURS), range=list(FEEDBACK_COLOURS.values()))
        rank = {v: i for i, v in enumerate(reversed(list(FEEDBACK_COLOURS)))}
        points = points.with_columns(
            pl.col("colour").replace_strict(rank, default=0, return_dtype=pl.Int32).alias("_z")
        ).sort("_z")
    legend = alt.Legend(title=COLOR_TITLES.get(color_by, color_by), symbolLimit=40,
                        labelLimit=220) if n_colors <= 40 else None
    size = (
        alt.Size("colour:N", scale=alt.Scale(domain=list(FEEDBACK_COLOURS), range=[30, 14, 7]),
                 legend=None)
        if color_by == "feedback" else alt.value(9)
    )
    return (
        alt.Chart(points)
        .mark_circle(opacity=0.6)
        .encode(
            size=size,
            x=alt.X("x:Q", axis=None),
            y=alt.Y("y:Q", axis=None),
            color=alt.Color("colour:N", scale=scale, legend=legend),
            tooltip=[
                alt.Tooltip("text:N", title="Input"),
                alt.Tooltip("cluster:N", title="Cluster"),
                alt.Tooltip("model:N", title="Model"),
                alt.Tooltip("day:N", title="Day"),
            ],
        )
        .properties(height=height)
        .interactive()
    )


def share_chart(shares: pl.DataFrame, highlight: list[int], height: int = 300) -> alt.Chart:
    """Weekly share of the chosen clusters (the rest left out so small shares stay readable)."""
    data = shares.filter(pl.col("cluster_id").is_in(highlight)).with_columns(
        pl.format("#{} {}", pl.col("cluster_id"), pl.col("label")).alias("series")
    ).sort("week")
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title="Week (Monday, UTC)"),
            y=alt.Y("share:Q", title="Share of events", axis=alt.Axis(format="%")),
            color=alt.Color("series:N", title="Cluster", legend=alt.Legend(labelLimit=260)),
            tooltip=["series:N", alt.Tooltip("week:T"), alt.Tooltip("share:Q", format=".1%"),
                     "n:Q"],
        )
        .properties(height=height)
    )


def model_quality_chart(quality: pl.DataFrame, height: int = 220) -> alt.Chart:
    """Thumbs-up rate per model and window inside one cluster, with Wilson intervals."""
    data = quality.filter(pl.col("n_votes") > 0).with_columns(
        pl.format("{} · {}", pl.col("window"), pl.col("model")).alias("group")
    )
    base = alt.Chart(data).encode(y=alt.Y("group:N", title=None, sort=None))
    bars = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("up_lo:Q", title="Thumbs-up rate (95% interval)", scale=alt.Scale(domain=[0, 1])),
        x2="up_hi:Q",
    )
    dots = base.mark_point(filled=True, size=60).encode(
        x="up_rate:Q",
        tooltip=["window:N", "model:N", "n_votes:Q", alt.Tooltip("up_rate:Q", format=".1%"),
                 alt.Tooltip("up_lo:Q", format=".1%"), alt.Tooltip("up_hi:Q", format=".1%")],
    )
    return (bars + dots).properties(height=height)

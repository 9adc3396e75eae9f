"""Trend series: one metric per day or week, optionally split, each bucket with n and interval.

DuckDB groups `trend_facts` by bucket and split value; Python adds the interval bands
(models.stats, vectorised) and marks thin buckets (n under the minimum), which charts draw as
such instead of as a confident point.
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from models import stats
from models.filters import EventFilter
from models.trends import (
    GRANULARITIES,
    SPLITS,
    TAG_SQL,
    USER_SEGMENT_SQL,
    facts_where,
    metric,
)


def _split_source(split: str) -> tuple[str, str, str]:
    """(FROM clause, split expression, split id expression) for an allow-listed split key."""
    if split not in SPLITS:
        raise KeyError(f"unknown split {split!r}")
    if split == "tag":
        return "trend_facts t", TAG_SQL, "NULL::BIGINT"
    if split == "user_segment":
        return "trend_facts t", USER_SEGMENT_SQL, "NULL::BIGINT"
    if split == "cluster":
        return (
            "trend_facts t JOIN cluster_members m ON m.event_id = t.event_id"
            " LEFT JOIN clusters c ON c.cluster_id = m.cluster_id",
            "coalesce(c.label, 'cluster ' || m.cluster_id::VARCHAR)",
            "m.cluster_id::BIGINT",
        )
    return "trend_facts t", SPLITS[split][1], "NULL::BIGINT"


def series_counts(
    con: duckdb.DuckDBPyConnection, flt: EventFilter, metric_key: str, granularity: str,
    split: str,
) -> pl.DataFrame:
    """Per bucket and split value: n and x (rates) or n, mean, sd (means and scores)."""
    m = metric(metric_key)
    bucket = GRANULARITIES[granularity]
    source, split_sql, split_id = _split_source(split)
    where, params = facts_where(flt)
    if m.kind == "rate":
        agg = (f"count(*) FILTER (WHERE {m.den}) AS n, "
               f"count(*) FILTER (WHERE {m.num} AND {m.den}) AS x, "
               "NULL::DOUBLE AS mean, NULL::DOUBLE AS sd")
        value_col = "NULL"
    elif m.kind == "mean":
        agg = "count(v) AS n, NULL::BIGINT AS x, avg(v) AS mean, stddev_samp(v) AS sd"
        value_col = m.num
    else:
        agg = "count(v) AS n, NULL::BIGINT AS x, avg(v) AS mean, stddev_samp(v) AS sd"
        value_col = "f.value"
        _, fb_source, fb_name = metric_key.split(":", 2)
        source += " JOIN feedback f ON f.event_id = t.event_id AND f.kind = 'score'" \
                  " AND f.source = ? AND f.name = ?"
        params = [fb_source, fb_name, *params]
    flags = "t.has_vote, t.thumbs_up, t.negative, t.is_error, t.explicit, t.regenerated," \
            " t.copied, t.edited, t.heavy_edit, t.corrected"
    sql = f"""
        WITH rows AS (
            SELECT {bucket} AS bucket, {split_sql} AS split, {split_id} AS split_id,
                {value_col} AS v, {flags}
            FROM {source}
            WHERE {where}
        )
        SELECT bucket, split, split_id, {agg}
        FROM rows t
        GROUP BY ALL ORDER BY bucket, split
    """
    return con.sql(sql, params=params).pl()


def with_intervals(
    counts: pl.DataFrame, kind: str, *, level: float = 0.95, min_n: int = stats.MIN_N
) -> pl.DataFrame:
    """Add value, lo, hi and thin (n < min_n) to series counts."""
    if counts.is_empty():
        return counts.with_columns(
            pl.lit(None, pl.Float64).alias("value"), pl.lit(None, pl.Float64).alias("lo"),
            pl.lit(None, pl.Float64).alias("hi"), pl.lit(False).alias("thin"),
        )
    n = counts["n"].to_numpy().astype(float)
    if kind == "rate":
        x = counts["x"].fill_null(0).to_numpy().astype(float)
        value = np.where(n > 0, x / np.where(n > 0, n, 1.0), np.nan)
        lo, hi = stats.wilson_bounds(x, n, level)
    else:
        value = counts["mean"].fill_null(np.nan).to_numpy().astype(float)
        lo, hi = stats.t_bounds(n, value, counts["sd"].fill_null(np.nan).to_numpy(), level)
    return counts.with_columns(
        pl.Series("value", value).fill_nan(None),
        pl.Series("lo", lo).fill_nan(None),
        pl.Series("hi", hi).fill_nan(None),
        pl.Series("thin", n < min_n),
    )

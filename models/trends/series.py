"""Trend series: one metric per day or week, optionally split, each bucket with n and interval.

DuckDB groups `trend_facts` by bucket and split value; Python adds the interval bands
(models.stats, vectorised) and marks thin buckets (n under the minimum), which charts draw as
such instead of as a confident point.
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from ingest.feedback_sql import CURRENT_VERSION_SQL
from models import stats
from models.filters import EventFilter
from models.trends.core import (
    GRANULARITIES,
    SPLITS,
    TAG_SQL,
    USER_SEGMENT_SQL,
    facts_where,
    metric,
)


def _split_source(split: str) -> tuple[str, str, str]:
    """(FROM clause, split expression, split id expression) for an allow-listed split key.

    The tag split groups by the whole tag list here and is unnested after aggregation.
    """
    if split not in SPLITS:
        raise KeyError(f"unknown split {split!r}")
    if split == "tag":
        return "trend_facts t", "t.tags", "NULL::BIGINT"
    if split == "user_segment":
        return "trend_facts t", USER_SEGMENT_SQL, "NULL::BIGINT"
    if split == "cluster":
        return (
            "trend_facts t JOIN cluster_members m ON m.event_id = t.event_id"
            " LEFT JOIN clusters c ON c.cluster_id = m.cluster_id",
            "coalesce(c.llm_name, c.label, 'cluster ' || m.cluster_id::VARCHAR)",
            "m.cluster_id::BIGINT",
        )
    return "trend_facts t", SPLITS[split][1], "NULL::BIGINT"


def series_counts(
    con: duckdb.DuckDBPyConnection, flt: EventFilter, metric_key: str, granularity: str,
    split: str,
) -> pl.DataFrame:
    """Per bucket and split value: n and x (rates) or n, mean, sd (means and scores).

    Sums (n, x, sum, sum of squares) are taken first per bucket and split key, then combined,
    so the tag split unnests a few thousand aggregated rows rather than every event's tags.
    """
    m = metric(metric_key)
    bucket = GRANULARITIES[granularity]
    source, split_sql, split_id = _split_source(split)
    where, params = facts_where(flt)
    if m.kind == "rate":
        sums = (f"count(*) FILTER (WHERE {m.den}) AS n, "
                f"count(*) FILTER (WHERE ({m.num}) AND {m.den}) AS x, "
                "NULL::DOUBLE AS s1, NULL::DOUBLE AS s2")
    else:
        value = m.num if m.kind == "mean" else "f.value"
        sums = (f"count({value}) AS n, NULL::BIGINT AS x, sum({value}) AS s1, "
                f"sum({value} * {value}) AS s2")
    if m.kind == "score":
        _, fb_source, fb_name = metric_key.split(":", 2)
        source += (" JOIN feedback f ON f.event_id = t.event_id AND f.kind = 'score'"
                   f" AND f.source = ? AND f.name = ? AND {CURRENT_VERSION_SQL}")
        params = [fb_source, fb_name, *params]
    key = TAG_SQL.replace("t.tags", "split") if split == "tag" else "split"
    # Grouping by a list compares lists; grouping by its 64-bit hash (a collision among a few
    # hundred distinct tag lists is ~1e-14 likely) halves the cost of the tag split.
    group = f"1, hash({split_sql})" if split == "tag" else "1, 2, 3"
    pick = "any_value" if split == "tag" else ""
    # Rows outside the denominator (e.g. events without a vote) count nowhere: skip them early.
    if m.kind == "rate" and m.den != "TRUE":
        where = f"({where}) AND {m.den}"
    sql = f"""
        WITH agg AS (
            SELECT {bucket} AS bucket, {pick}({split_sql}) AS split,
                {pick}({split_id}) AS split_id, {sums}
            FROM {source}
            WHERE {where}
            GROUP BY {group}
        ),
        keyed AS (SELECT bucket, {key} AS split, split_id, n, x, s1, s2 FROM agg)
        SELECT bucket, split, split_id, sum(n)::BIGINT AS n, sum(x)::BIGINT AS x,
            sum(s1) / nullif(sum(n), 0) AS mean,
            CASE WHEN sum(n) > 1 THEN sqrt(greatest(
                (sum(s2) - sum(s1) * sum(s1) / sum(n)) / (sum(n) - 1), 0)) END AS sd
        FROM keyed
        GROUP BY bucket, split, split_id ORDER BY bucket, split
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

"""Quality inside clusters, and per model within a cluster, with intervals.

This is what tells a regression from input drift: "quality dropped inside a stable cluster after
the model switch" shows as a lower thumbs-up rate (or more negative signals) for the new model in
a cluster whose share did not move, while input drift shows as a new or growing cluster. DuckDB
aggregates per cluster (and model, and window); models/stats.py adds Wilson and t intervals and
the Fisher / Welch tests, with Benjamini-Hochberg across clusters.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl

from models import stats
from models.drift.statistics import Window
from models.filters import NEGATIVE_SQL, EventFilter, where_sql

_BASE = """
WITH ev AS (
    SELECT e.event_id, e.model, e.ts, e.status, e.cost_usd, e.latency_ms, m.cluster_id{extra}
    FROM events e JOIN cluster_members m USING (event_id)
    WHERE {where}
), fb AS (
    SELECT f.event_id,
           arg_max(f.value, f.ts) FILTER (WHERE f.name = 'thumbs') AS thumb,
           bool_or({negative}) AS negative,
           avg(f.value) FILTER (WHERE f.kind = 'score' AND f.source = 'llm_judge') AS judge
    FROM feedback f WHERE f.event_id IN (SELECT event_id FROM ev)
    GROUP BY f.event_id
)
SELECT {keys},
       count(*) AS n,
       count(fb.thumb) AS n_votes,
       count(*) FILTER (WHERE fb.thumb >= 0.5) AS n_up,
       count(*) FILTER (WHERE fb.negative) AS n_negative,
       count(fb.judge) AS n_judged,
       avg(fb.judge) AS judge_mean,
       stddev_samp(fb.judge) AS judge_sd,
       count(*) FILTER (WHERE ev.status = 'error') AS n_error,
       avg(ev.cost_usd) AS cost_mean,
       avg(ev.latency_ms) AS latency_mean,
       stddev_samp(ev.latency_ms) AS latency_sd
FROM ev LEFT JOIN fb USING (event_id)
{window_where}
GROUP BY ALL
ORDER BY ALL
"""


def _with_intervals(df: pl.DataFrame) -> pl.DataFrame:
    if df.height == 0:
        return df
    out = {}
    for name, x, n in (
        ("up", "n_up", "n_votes"), ("negative", "n_negative", "n"), ("error", "n_error", "n"),
    ):
        xs, ns = df[x].to_numpy().astype(float), df[n].to_numpy().astype(float)
        lo, hi = stats.wilson_bounds(xs, ns)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{name}_rate"] = np.where(ns > 0, xs / np.where(ns > 0, ns, 1), np.nan)
        out[f"{name}_lo"], out[f"{name}_hi"] = lo, hi
    for name, n, mean, sd in (
        ("judge", "n_judged", "judge_mean", "judge_sd"),
        ("latency", "n", "latency_mean", "latency_sd"),
    ):
        lo, hi = stats.t_bounds(
            df[n].to_numpy(), df[mean].fill_null(np.nan).to_numpy(),
            df[sd].fill_null(np.nan).to_numpy(),
        )
        out[f"{name}_lo"], out[f"{name}_hi"] = lo, hi
    return df.with_columns(
        [pl.Series(k, v, dtype=pl.Float64).fill_nan(None) for k, v in out.items()]
    )


def cluster_quality(
    con: duckdb.DuckDBPyConnection, flt: EventFilter | None = None, *, by_model: bool = False
) -> pl.DataFrame:
    """Per cluster (and model): n, thumbs-up rate, negative-signal rate, judge score, error rate,
    cost and latency, each rate/mean with a 95% interval."""
    where, params = where_sql(flt or EventFilter())
    keys = "ev.cluster_id, ev.model" if by_model else "ev.cluster_id"
    sql = _BASE.format(extra="", where=where, negative=NEGATIVE_SQL, keys=keys, window_where="")
    return _with_intervals(con.sql(sql, params=params).pl())


def _bounds(w: Window) -> list[dt.datetime]:
    return [
        dt.datetime.combine(w.start, dt.time(), dt.UTC),
        dt.datetime.combine(w.end + dt.timedelta(days=1), dt.time(), dt.UTC),
    ]


def window_quality(
    con: duckdb.DuckDBPyConnection, reference: Window, current: Window,
    flt: EventFilter | None = None, *, by_model: bool = False,
) -> pl.DataFrame:
    """Like cluster_quality, split into the two windows (column `window`)."""
    where, params = where_sql(flt or EventFilter())
    extra = (", CASE WHEN e.ts >= ? AND e.ts < ? THEN 'reference' "
             "WHEN e.ts >= ? AND e.ts < ? THEN 'current' END AS win")
    keys = "ev.cluster_id, ev.win AS window" + (", ev.model" if by_model else "")
    sql = _BASE.format(extra=extra, where=where, negative=NEGATIVE_SQL, keys=keys,
                       window_where="WHERE ev.win IS NOT NULL")
    return _with_intervals(
        con.sql(sql, params=_bounds(reference) + _bounds(current) + params).pl()
    )


def quality_change(
    con: duckdb.DuckDBPyConnection, reference: Window, current: Window,
    flt: EventFilter | None = None, *, alpha: float = stats.DEFAULT_ALPHA,
) -> pl.DataFrame:
    """Per cluster, current against reference: thumbs-up rate and negative-signal rate changes
    (Fisher, Newcombe interval) and judge score change (Welch), BH-adjusted across clusters.

    `quality_drop` is the fall in thumbs-up rate (positive = worse now); NaN without votes.
    """
    w = window_quality(con, reference, current, flt)
    rows = []
    for cid in sorted(set(w["cluster_id"].to_list())):
        part = {r["window"]: r for r in w.filter(pl.col("cluster_id") == cid).iter_rows(named=True)}
        ref, cur = part.get("reference"), part.get("current")
        if ref is None or cur is None:
            rows.append({"cluster_id": cid})
            continue
        up = stats.compare_proportions(cur["n_up"], cur["n_votes"], ref["n_up"], ref["n_votes"],
                                       alpha=alpha)
        neg = stats.compare_proportions(cur["n_negative"], cur["n"], ref["n_negative"], ref["n"],
                                        alpha=alpha)
        judge = stats.compare_means(cur["n_judged"], cur["judge_mean"], cur["judge_sd"],
                                    ref["n_judged"], ref["judge_mean"], ref["judge_sd"],
                                    alpha=alpha)
        rows.append({
            "cluster_id": cid,
            "up_rate_reference": ref["up_rate"], "up_rate_current": cur["up_rate"],
            "n_votes_reference": ref["n_votes"], "n_votes_current": cur["n_votes"],
            "quality_drop": -up.delta if up.delta is not None else None,
            "quality_drop_lo": -up.hi if up.hi is not None else None,
            "quality_drop_hi": -up.lo if up.lo is not None else None,
            "up_p": up.p_value,
            "negative_rate_reference": ref["negative_rate"],
            "negative_rate_current": cur["negative_rate"],
            "negative_p": neg.p_value,
            "judge_reference": ref["judge_mean"], "judge_current": cur["judge_mean"],
            "judge_p": judge.p_value,
        })
    schema = {
        "cluster_id": pl.Int64, "up_rate_reference": pl.Float64, "up_rate_current": pl.Float64,
        "n_votes_reference": pl.Int64, "n_votes_current": pl.Int64,
        "quality_drop": pl.Float64, "quality_drop_lo": pl.Float64, "quality_drop_hi": pl.Float64,
        "up_p": pl.Float64, "negative_rate_reference": pl.Float64,
        "negative_rate_current": pl.Float64, "negative_p": pl.Float64,
        "judge_reference": pl.Float64, "judge_current": pl.Float64, "judge_p": pl.Float64,
    }
    out = pl.DataFrame(rows, schema=schema)
    for col in ("up_p", "negative_p", "judge_p"):
        vals = out[col].to_list()
        idx = [i for i, v in enumerate(vals) if v is not None]
        q = [None] * len(vals)
        if idx:
            bh = stats.benjamini_hochberg([vals[i] for i in idx], alpha)
            for i, qv in zip(idx, bh.q_values, strict=True):
                q[i] = qv
        out = out.with_columns(pl.Series(col.replace("_p", "_q"), q, dtype=pl.Float64))
    return out


def events_quality(con: duckdb.DuckDBPyConnection, event_ids: list[str]) -> dict[str, object]:
    """Quality of a set of events (a new topic): events, votes, thumbs-up and negative-signal
    rates with Wilson intervals, LLM-judge mean with its t interval, error rate."""
    df = con.sql(
        f"""
        WITH ev AS (SELECT e.event_id, e.status, e.cost_usd, e.latency_ms
                    FROM events e WHERE e.event_id IN (SELECT unnest(?::VARCHAR[]))),
        fb AS (
            SELECT f.event_id,
                   arg_max(f.value, f.ts) FILTER (WHERE f.name = 'thumbs') AS thumb,
                   bool_or({NEGATIVE_SQL}) AS negative,
                   avg(f.value) FILTER (WHERE f.kind = 'score' AND f.source = 'llm_judge') AS judge
            FROM feedback f WHERE f.event_id IN (SELECT event_id FROM ev) GROUP BY f.event_id
        )
        SELECT count(*) AS n, count(fb.thumb) AS n_votes,
               count(*) FILTER (WHERE fb.thumb >= 0.5) AS n_up,
               count(*) FILTER (WHERE fb.negative) AS n_negative,
               count(fb.judge) AS n_judged, avg(fb.judge) AS judge_mean,
               stddev_samp(fb.judge) AS judge_sd,
               count(*) FILTER (WHERE ev.status = 'error') AS n_error,
               avg(ev.cost_usd) AS cost_mean, avg(ev.latency_ms) AS latency_mean,
               stddev_samp(ev.latency_ms) AS latency_sd
        FROM ev LEFT JOIN fb USING (event_id)
        """,
        params=[list(event_ids)],
    ).pl()
    return _with_intervals(df).row(0, named=True)

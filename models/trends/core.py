"""Feedback trends: the numbers the weekly review starts from, each with n, interval and verdict.

DuckDB does every aggregation over `trend_facts` (one row per event with its feedback folded in,
kept by ingest/load/derived.py); Python only runs the statistics (models.stats) on the few
aggregated counts. Metrics, split dimensions and granularities are allow-lists: a key chosen in
the UI selects a fixed SQL fragment and never becomes SQL itself. Segment analysis lives in
models/trends/moved.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from ingest.feedback_sql import CURRENT_VERSION_SQL
from models import stats
from models.filters import EventFilter, where_sql

BETTER_UP = "up"
BETTER_DOWN = "down"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: str  # 'rate' (num/den counts) or 'mean' (of a column)
    num: str  # rate: SQL boolean over trend_facts t; mean: SQL value
    den: str = "TRUE"  # rate only: which events count in the denominator
    better: str | None = None  # which direction is an improvement, None when neither
    feedback: str | None = None  # models.filters feedback choice for the numerator's events
    status: str | None = None  # or a status filter for them


RATES = {
    m.key: m
    for m in (
        Metric("thumbs_up", "Thumbs-up rate (of voted events)", "rate", "t.thumbs_up",
               "t.has_vote", BETTER_UP, feedback="thumbs_up"),
        Metric("negative", "Negative-signal rate", "rate", "t.negative", better=BETTER_DOWN,
               feedback="negative"),
        Metric("error", "Error rate", "rate", "t.is_error", better=BETTER_DOWN, status="error"),
        Metric("coverage", "Feedback coverage (explicit)", "rate", "t.explicit",
               feedback="any_explicit"),
        Metric("regenerated", "Regenerate rate", "rate", "t.regenerated", better=BETTER_DOWN,
               feedback="regenerated"),
        Metric("copied", "Copy rate", "rate", "t.copied", better=BETTER_UP),
        Metric("edited", "Edit rate", "rate", "t.edited"),
        Metric("heavy_edit", "Heavy-edit rate", "rate", "t.heavy_edit", better=BETTER_DOWN),
        Metric("corrected", "Correction rate", "rate", "t.corrected", feedback="corrected"),
    )
}
MEANS = {
    m.key: m
    for m in (
        Metric("latency", "Latency (ms)", "mean", "t.latency_ms", better=BETTER_DOWN),
        Metric("cost", "Cost per event (USD)", "mean", "t.cost_usd", better=BETTER_DOWN),
        Metric("edit_size", "Edit size (share changed)", "mean", "t.edit_size"),
        Metric("correction_size", "Correction size (share changed)", "mean",
               "t.correction_size"),
    )
}
METRICS = {**RATES, **MEANS}
# Metrics made of feedback (votes, actions, corrections): on events that carry no feedback at
# all they are not 0%, they are unmeasured. Errors, latency and cost come with the event itself.
FEEDBACK_KEYS = frozenset(k for k in METRICS if k not in ("error", "latency", "cost"))
SCORE_PREFIX = "score:"  # metric key of a judge/code score: "score:<source>:<name>"

GRANULARITIES = {"week": "t.week", "day": "t.day"}
# Split-by dimensions: key -> (label, SQL over trend_facts t). 'tag' and 'cluster' are special.
SPLITS = {
    "none": ("No split", "'all'"),
    "model": ("Model", "coalesce(t.model, '(none)')"),
    "prompt_version": ("Prompt version", "coalesce(t.prompt_version, '(none)')"),
    "tag": ("Tag", None),
    "environment": ("Environment", "coalesce(t.environment, '(none)')"),
    "user_segment": ("User segment", None),
    "cluster": ("Cluster", None),
}
USER_SEGMENT_SQL = (
    "CASE WHEN t.user_id IS NULL THEN 'anonymous' "
    "WHEN t.week = t.user_first_week THEN 'new user' ELSE 'returning user' END"
)
TAG_SQL = "unnest(CASE WHEN len(t.tags) > 0 THEN t.tags ELSE ['(no tag)'] END)"


def metric(key: str) -> Metric:
    """The metric for a key (scores included); unknown keys raise KeyError."""
    if key.startswith(SCORE_PREFIX):
        _, source, name = key.split(":", 2)
        return Metric(key, f"{name} ({source.replace('_', ' ')})", "score", name,
                      better=BETTER_UP, feedback="low_score")
    return METRICS[key]


def facts_where(flt: EventFilter) -> tuple[str, list[object]]:
    """The shared filter over `trend_facts t`; the text filter goes through `events`.

    Tags are matched with one list_contains per tag (same meaning as where_sql's
    list_has_any: any of them), which DuckDB evaluates about 8x faster at 1M events.
    """
    sql, params = where_sql(flt.with_(text=None, tags=()), "t")
    if flt.tags:
        sql += " AND (" + " OR ".join("list_contains(t.tags, ?)" for _ in flt.tags) + ")"
        params = [*params, *flt.tags]
    if flt.text:
        text_sql, text_params = where_sql(EventFilter(text=flt.text, kinds=()), "e")
        sql += f" AND t.event_id IN (SELECT e.event_id FROM events e WHERE {text_sql})"
        params = [*params, *text_params]
    return sql, params


def has_clusters(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the drift job has written clusters (the cluster split is offered only then)."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables"
        " WHERE table_name IN ('cluster_members', 'clusters')"
    ).fetchall()[0][0]
    if found < 2:
        return False
    return con.execute("SELECT EXISTS (SELECT 1 FROM cluster_members)").fetchall()[0][0]


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


@dataclass(frozen=True)
class Period:
    name: str
    start: dt.date  # inclusive
    end: dt.date  # exclusive

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)


def week_periods(week: dt.date, baseline: tuple[dt.date, dt.date] | None = None) -> list[Period]:
    """The selected week, the week before, and a baseline (default: the 4 weeks before)."""
    week = week - dt.timedelta(days=week.weekday())
    lo, hi = baseline or (week - dt.timedelta(days=28), week - dt.timedelta(days=1))
    return [
        Period("current", week, week + dt.timedelta(days=7)),
        Period("previous", week - dt.timedelta(days=7), week),
        Period("baseline", lo, hi + dt.timedelta(days=1)),
    ]


def _periods_sql(periods: list[Period]) -> tuple[str, list[object]]:
    rows = ", ".join("(?, ?, ?)" for _ in periods)
    params: list[object] = []
    for p in periods:
        params += [p.name, day_start(p.start), day_start(p.end)]
    return f"(VALUES {rows}) AS p(period, lo, hi)", params


def _rate_columns() -> str:
    # sum(flag::INT) costs DuckDB about 40% less than count(*) FILTER (WHERE flag).
    return ", ".join(
        f"coalesce(sum(({m.num} AND {m.den})::INTEGER), 0) AS {m.key}_x, "
        + (f"count(*) AS {m.key}_n" if m.den == "TRUE"
           else f"coalesce(sum(({m.den})::INTEGER), 0) AS {m.key}_n")
        for m in RATES.values()
    )


def _mean_columns() -> str:
    return ", ".join(
        f"count({m.num}) AS {m.key}_n, avg({m.num}) AS {m.key}_mean, "
        f"stddev_samp({m.num}) AS {m.key}_sd"
        for m in MEANS.values()
    )


def period_counts(
    con: duckdb.DuckDBPyConnection, flt: EventFilter, periods: list[Period]
) -> pl.DataFrame:
    """One row per period: counts for every rate, moments for every mean, latency quantiles.

    One aggregate per period joined with UNION ALL (periods may overlap: the default baseline
    holds the previous week), each with its own ts range so DuckDB skips the row groups outside
    it (trend_facts is written in ts order).
    """
    where, params = facts_where(flt)
    one = f"""
        SELECT ? AS period, count(*) AS events, {_rate_columns()}, {_mean_columns()},
            {{quantiles}},
            sum(t.cost_usd) AS cost_total,
            sum(t.fb_user) AS fb_user, sum(t.fb_reviewer) AS fb_reviewer,
            sum(t.fb_judge) AS fb_judge, sum(t.fb_code) AS fb_code
        FROM trend_facts t
        WHERE t.ts >= ? AND t.ts < ? AND {where}
    """
    # Quantiles need a sort; the page shows them for the week (and the week before) only.
    quantiles = ("quantile_cont(t.latency_ms, 0.5) AS latency_p50, "
                 "quantile_cont(t.latency_ms, 0.95) AS latency_p95")
    skipped = "NULL::DOUBLE AS latency_p50, NULL::DOUBLE AS latency_p95"
    sql = " UNION ALL ".join(
        one.replace("{quantiles}", quantiles if p.name != "baseline" else skipped)
        for p in periods
    )
    all_params: list[object] = []
    for p in periods:
        all_params += [p.name, day_start(p.start), day_start(p.end), *params]
    return con.sql(sql, params=all_params).pl()


def period_scores(
    con: duckdb.DuckDBPyConnection, flt: EventFilter, periods: list[Period]
) -> pl.DataFrame:
    """Judge and code scores per period: n, mean and sd of each (source, name)."""
    where, params = facts_where(flt)
    values, vparams = _periods_sql(periods)
    sql = f"""
        SELECT p.period, f.source, f.name, count(f.value) AS n, avg(f.value) AS mean,
            stddev_samp(f.value) AS sd
        FROM feedback f JOIN trend_facts t ON t.event_id = f.event_id
        JOIN {values} ON t.ts >= p.lo AND t.ts < p.hi
        WHERE f.kind = 'score' AND {CURRENT_VERSION_SQL} AND {where} AND t.ts >= ? AND t.ts < ?
        GROUP BY ALL ORDER BY f.source, f.name
    """
    bounds = [day_start(min(p.start for p in periods)), day_start(max(p.end for p in periods))]
    return con.sql(sql, params=vparams + params + bounds).pl()


@dataclass(frozen=True)
class HeadlineRow:
    key: str
    label: str
    kind: str
    current: stats.Estimate
    previous: stats.Estimate
    baseline: stats.Estimate
    vs_previous: stats.Comparison
    vs_baseline: stats.Comparison
    better: str | None
    x_current: int | None = None  # rate numerators, for drill-down labels

    def verdict(self, which: str = "previous") -> str:
        return judgement(self.vs_previous if which == "previous" else self.vs_baseline,
                         self.better)


def judgement(cmp: stats.Comparison, better: str | None) -> str:
    """A comparison in the meeting's words: better / worse / up / down / no change / too little."""
    if cmp.verdict in (stats.TOO_LITTLE, stats.NO_CHANGE) or better is None:
        return cmp.verdict
    return "better" if cmp.verdict == better else "worse"


def _row_by_period(frame: pl.DataFrame) -> dict[str, dict]:
    return {r["period"]: r for r in frame.iter_rows(named=True)}


def headline(
    counts: pl.DataFrame, scores: pl.DataFrame, *, alpha: float = stats.DEFAULT_ALPHA,
    min_n: int = stats.MIN_N,
) -> list[HeadlineRow]:
    """Every headline metric for current vs previous and vs baseline, from the aggregates."""
    level = 1 - alpha
    rows = _row_by_period(counts)
    empty: dict = {}
    out: list[HeadlineRow] = []
    for m in RATES.values():
        xs = {p: int((rows.get(p, empty).get(f"{m.key}_x")) or 0) for p in _NAMES}
        ns = {p: int((rows.get(p, empty).get(f"{m.key}_n")) or 0) for p in _NAMES}
        est = {p: stats.wilson(xs[p], ns[p], level) for p in _NAMES}
        out.append(HeadlineRow(
            m.key, m.label, "rate", est["current"], est["previous"], est["baseline"],
            stats.compare_proportions(xs["current"], ns["current"], xs["previous"],
                                      ns["previous"], alpha=alpha, min_n=min_n),
            stats.compare_proportions(xs["current"], ns["current"], xs["baseline"],
                                      ns["baseline"], alpha=alpha, min_n=min_n),
            m.better, xs["current"],
        ))
    for m in MEANS.values():
        moments = {p: _moments(rows.get(p, empty), m.key) for p in _NAMES}
        out.append(_mean_row(m.key, m.label, m.better, moments, alpha, min_n))
    for (source, name), group in _score_groups(scores).items():
        key = f"{SCORE_PREFIX}{source}:{name}"
        moments = {p: group.get(p, (0, None, None)) for p in _NAMES}
        out.append(_mean_row(key, metric(key).label, BETTER_UP, moments, alpha, min_n))
    return out


_NAMES = ("current", "previous", "baseline")


def _moments(row: dict, key: str) -> tuple[int, float | None, float | None]:
    return int(row.get(f"{key}_n") or 0), row.get(f"{key}_mean"), row.get(f"{key}_sd")


def _score_groups(scores: pl.DataFrame) -> dict[tuple[str, str], dict[str, tuple]]:
    groups: dict[tuple[str, str], dict[str, tuple]] = {}
    for r in scores.iter_rows(named=True):
        groups.setdefault((r["source"], r["name"]), {})[r["period"]] = (
            int(r["n"]), r["mean"], r["sd"])
    return groups


def _mean_row(key: str, label: str, better: str | None, moments: dict[str, tuple],
              alpha: float, min_n: int) -> HeadlineRow:
    level = 1 - alpha
    est = {p: stats.mean_t(*moments[p], level=level) for p in _NAMES}
    cur = moments["current"]
    return HeadlineRow(
        key, label, "mean", est["current"], est["previous"], est["baseline"],
        stats.compare_means(*cur, *moments["previous"], alpha=alpha, min_n=min_n),
        stats.compare_means(*cur, *moments["baseline"], alpha=alpha, min_n=min_n),
        better,
    )


def weeks_available(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> list[dt.date]:
    """The weeks (Mondays) that hold events under the filter, newest first."""
    where, params = facts_where(flt)
    rows = con.execute(
        f"SELECT DISTINCT t.week FROM trend_facts t WHERE {where} ORDER BY 1 DESC", params
    ).fetchall()
    return [r[0] for r in rows]


def first_appearances(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> pl.DataFrame:
    """Where a model or prompt version first appears after the data starts (chart markers)."""
    where, params = facts_where(flt)
    return con.sql(
        f"""
        WITH f AS (SELECT t.ts, t.model, t.prompt_version FROM trend_facts t WHERE {where}),
        firsts AS (
            SELECT 'model' AS what, model AS value, min(ts) AS first_ts FROM f
            WHERE model IS NOT NULL GROUP BY model
            UNION ALL
            SELECT 'prompt_version', prompt_version, min(ts) FROM f
            WHERE prompt_version IS NOT NULL GROUP BY prompt_version
        )
        SELECT what, value, first_ts, first_ts::DATE AS first_day FROM firsts
        WHERE first_ts > (SELECT min(ts) FROM f) + INTERVAL 1 DAY
        ORDER BY first_ts
        """,
        params=params,
    ).pl()

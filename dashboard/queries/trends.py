"""Every read behind the Feedback trends page; each takes the connection first and its plain,
hashable arguments, so dashboard.cache keys results on filter values and tests call them on a
temporary warehouse without Streamlit. The SQL and statistics live in models.trends.core*."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from dashboard.stored import kept
from ingest.load import derived
from models.filters import EventFilter
from models.trends import core as trends
from models.trends import moved as trends_moved
from models.trends import series as trends_series
from models.trends import weeks as trend_weeks
from models.trends.core import Period


def is_stale(con: duckdb.DuckDBPyConnection) -> bool:
    return derived.is_stale(con)


def split_options(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The split-by allow-list; 'cluster' only once the drift job has written clusters."""
    keys = [k for k in trends.SPLITS if k != "cluster"]
    return keys + ["cluster"] if trends.has_clusters(con) else keys


def score_metrics(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Metric keys of the judge and code scores present in the warehouse."""
    rows = con.execute(
        "SELECT DISTINCT source, name FROM feedback WHERE kind = 'score' ORDER BY 1, 2"
    ).fetchall()
    return [f"{trends.SCORE_PREFIX}{source}:{name}" for source, name in rows]


def weeks(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> list[dt.date]:
    return trends.weeks_available(con, flt)


def partial_weeks(con: duckdb.DuckDBPyConnection) -> dict[dt.date, str]:
    """{monday: 'partial: Mon–Tue'} for the week the log does not cover fully (if any)."""
    horizon = trend_weeks.data_horizon(con)
    if horizon is None:
        return {}
    cov = trend_weeks.coverage(horizon.date(), horizon)
    return {cov.monday: cov.note} if cov.partial else {}


def feedback_rows(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> int:
    """Events under the filter that carry any feedback at all (votes, actions, scores, …)."""
    where, params = trends.facts_where(flt)
    return int(
        con.execute(
            f"SELECT count(*) FILTER (WHERE t.any_feedback) FROM trend_facts t WHERE {where}",
            params,
        ).fetchall()[0][0]
    )


def periods(week: dt.date, baseline: tuple[dt.date, dt.date] | None) -> list[Period]:
    return trends.week_periods(week, baseline)


@kept
def headline(
    con: duckdb.DuckDBPyConnection,
    flt: EventFilter,
    week: dt.date,
    baseline: tuple[dt.date, dt.date] | None,
    alpha: float,
) -> tuple[list[trends.HeadlineRow], dict]:
    """Headline rows plus the current week's raw aggregates (quantiles, cost, sources)."""
    ps = periods(week, baseline)
    counts = trends.period_counts(con, flt, ps)
    rows = trends.headline(counts, trends.period_scores(con, flt, ps), alpha=alpha)
    by = {r["period"]: r for r in counts.iter_rows(named=True)}
    return rows, by


@kept
def series(
    con: duckdb.DuckDBPyConnection,
    flt: EventFilter,
    metric: str,
    granularity: str,
    split: str,
    alpha: float,
) -> pl.DataFrame:
    counts = trends_series.series_counts(con, flt, metric, granularity, split)
    kind = "rate" if trends.metric(metric).kind == "rate" else "mean"
    return trends_series.with_intervals(counts, kind, level=1 - alpha)


def markers(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> pl.DataFrame:
    return trends.first_appearances(con, flt)


@kept
def moved(
    con: duckdb.DuckDBPyConnection,
    flt: EventFilter,
    metric: str,
    week: dt.date,
    baseline: tuple[dt.date, dt.date] | None,
    compare: str,
    alpha: float,
) -> trends_moved.MovedResult:
    current, previous, base = periods(week, baseline)
    reference = previous if compare == "previous" else base
    counts = trends_moved.segment_counts(con, flt, metric, current, reference)
    result = trends_moved.what_moved(counts, better=trends.metric(metric).better, alpha=alpha)
    # Which flagged segment a smaller one accounts for (the weekly report's rule, same test).
    return trends_moved.explain(con, flt, metric, result, current, reference)


@kept
def corrections(
    con: duckdb.DuckDBPyConnection, flt: EventFilter, week: dt.date, limit: int = 200
) -> pl.DataFrame:
    """The week's corrections with their size of edit, largest first."""
    where, params = trends.facts_where(flt)
    current = periods(week, None)[0]
    return con.sql(
        f"""
        SELECT t.event_id, f.source, f.author, f.value AS size, f.ts AS given_at,
            left(f.correction, 300) AS correction
        FROM feedback f JOIN trend_facts t ON t.event_id = f.event_id
        WHERE f.kind = 'correction' AND {where} AND t.ts >= ? AND t.ts < ?
        ORDER BY f.value DESC NULLS LAST, f.ts DESC
        LIMIT ?
        """,
        params=[*params, trends.day_start(current.start), trends.day_start(current.end), limit],
    ).pl()


def rerun_verdicts(con: duckdb.DuckDBPyConnection, flt: EventFilter, week: dt.date) -> pl.DataFrame:
    """Playground reruns of the week's events (matching the filter) and their latest verdicts.

    Reruns are not traffic, so the rates above leave them out; this is where the evidence they
    produced shows on this page, next to the week whose failures they re-ran.
    """
    from models.filters import where_sql
    from models.rerun.store import LATEST_VERDICT_SQL

    sql, params = where_sql(flt.with_(reruns="include"), "o")
    start = dt.datetime.combine(week, dt.time(), dt.UTC)
    return con.sql(
        f"""
        WITH v AS ({LATEST_VERDICT_SQL})
        SELECT coalesce(r.model, r.model_requested) AS model,
               count(*) AS reruns,
               count(DISTINCT r.rerun_of) AS originals,
               coalesce(count_if(v.verdict = 'better'), 0) AS better,
               coalesce(count_if(v.verdict = 'same'), 0) AS same,
               coalesce(count_if(v.verdict = 'worse'), 0) AS worse,
               coalesce(count_if(v.verdict IS NULL), 0) AS no_verdict
        FROM events r
        JOIN events o ON o.event_id = r.rerun_of
        LEFT JOIN v ON v.event_id = r.event_id
        WHERE r.rerun_of IS NOT NULL AND o.ts >= ? AND o.ts < ? AND {sql}
        GROUP BY 1 ORDER BY reruns DESC, model
        """,
        params=[start, start + dt.timedelta(days=7), *params],
    ).pl()


@kept
def corrected_rates(con: duckdb.DuckDBPyConnection, week: dt.date) -> pl.DataFrame:
    """The judge-corrected fail rate of each pass/fail evaluator (latest version) in the ISO week
    starting `week`, beside its raw judge rate and the humans-only rate (models.judge_trust):
    one row per evaluator that scored events that week and has human labels on some of them."""
    from models.judge_trust import data as trust_data
    from models.judge_trust import summary as trust_summary

    iso = f"{week.isocalendar().year}-W{week.isocalendar().week:02d}"
    rows = []
    # Only rubrics humans label too: a code check nobody reviews has no corrected rate.
    reviewed = trust_data.reviewed_rubrics(con)
    versions = trust_data.evaluator_versions(con).filter(
        pl.col("latest") & (pl.col("kind") == "score") & pl.col("name").is_in(reviewed)
    )
    for r in versions.iter_rows(named=True):
        t = trust_summary.corrected_in_week(con, r["name"], r["version"], iso)
        if t.judged == 0 or t.paired == 0:
            continue
        c = t.corrected
        rows.append({
            "evaluator": trust_summary.version_label(t.name, t.version),
            "judged": t.judged,
            "human labels": t.paired,
            "judge fail rate": None if c is None else c.judge_rate,
            "judge 95% CI": _interval(c.judge_lo, c.judge_hi) if c else None,
            "humans only": None if c is None else c.human_rate,
            "humans 95% CI": _interval(c.human_lo, c.human_hi) if c else None,
            "corrected": None if c is None else c.value,
            "corrected 95% CI": _interval(c.lo, c.hi) if c else None,
            "narrower than humans-only": None if c is None else c.narrower,
            "sample": t.sampling,
            "note": t.sampling_note,
        })
    return pl.DataFrame(rows, infer_schema_length=None)


def _interval(lo: float | None, hi: float | None) -> str | None:
    return None if lo is None or hi is None else f"{lo:.1%}–{hi:.1%}"


@kept
def new_topics(con: duckdb.DuckDBPyConnection, week: dt.date, alpha: float = 0.05) -> dict | None:
    """The week's new topics as segments: the novelty test of the week against the four weeks
    before it (models.drift.report, what the Drift page and the weekly pack show), each topic
    with its size and its quality with Wilson intervals and n. None without a cluster analysis.
    This runs the test (seconds on a large warehouse): the page asks for it with a toggle."""
    from models.drift import store as analysis_store
    from models.drift.report import compute_drift
    from models.drift.statistics import Window

    if analysis_store.last_run(con) is None:
        return None
    current = Window(week, week + dt.timedelta(days=6))
    reference = Window(week - dt.timedelta(weeks=4), week - dt.timedelta(days=1))
    drift = compute_drift(con, reference, current, alpha=alpha)
    rows, links = [], []
    for t in drift.new_topics:
        q = t.quality
        rows.append({
            "topic": t.label,
            "events (est.)": t.estimated_events,
            "share of week": t.share,
            "named new (sampled)": t.n_events,
            "negative rate": q.get("negative_rate"),
            "negative 95% CI": _interval(q.get("negative_lo"), q.get("negative_hi")),
            "thumbs-up rate": q.get("up_rate"),
            "thumbs-up 95% CI": _interval(q.get("up_lo"), q.get("up_hi")),
            "votes": q.get("n_votes"),
            "cluster": t.cluster_id,
        })
        links.append({"label": t.label, "cluster_id": t.cluster_id,
                      "event_ids": tuple(t.event_ids[:300])})
    nov = drift.novelty
    return {
        "rows": pl.DataFrame(rows, infer_schema_length=None),
        "links": links,
        "p_value": None if nov is None else nov.p_value,
        "n_current": None if nov is None else nov.n_current,
        "field": drift.field,
    }

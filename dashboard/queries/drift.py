"""Every SELECT the drift page runs. Each takes the connection first and returns plain data, so
tests call them on a temporary warehouse without Streamlit. Nothing here fits a model: the map
and clusters were written by `reviewdeck analyze`; window comparisons are counting and tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import polars as pl

from dashboard.stored import kept
from models.drift import cluster_quality
from models.drift.report import DriftReport, compute_drift
from models.drift.statistics import Window
from models.filters import NEGATIVE_SQL, EventFilter, where_sql

# Colour-by choices of the map -> the SQL that gives each point its colour value.
COLOR_BY = {
    "cluster": "coalesce(c.llm_name, c.label)",
    "window": "NULL",  # set from the chosen windows, see map_points
    "model": "coalesce(e.model, '(none)')",
    "feedback": (
        "CASE WHEN neg.event_id IS NOT NULL THEN 'negative' "
        "WHEN up.event_id IS NOT NULL THEN 'thumbs up' ELSE 'no vote / signal' END"
    ),
}


def has_analysis(con: duckdb.DuckDBPyConnection) -> bool:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'analysis_runs'"
    ).fetchall()[0][0]
    if not exists:
        return False
    return bool(con.execute("SELECT EXISTS (SELECT 1 FROM cluster_members)").fetchall()[0][0])


def last_run(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    rows = con.execute(
        "SELECT r.run_id, r.finished_at, r.embedder_id, r.field, r.n_events, r.n_clusters, "
        "r.mode, d.reference_start, d.reference_end, d.current_start, d.current_end "
        "FROM analysis_runs r LEFT JOIN drift_overall d USING (run_id) "
        "ORDER BY r.run_id DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return None
    keys = (
        "run_id",
        "finished_at",
        "embedder_id",
        "field",
        "n_events",
        "n_clusters",
        "mode",
        "reference_start",
        "reference_end",
        "current_start",
        "current_end",
    )
    return dict(zip(keys, rows[0], strict=True))


def _window_bounds(w: Window) -> list[dt.datetime]:
    return [
        dt.datetime.combine(w.start, dt.time(), dt.UTC),
        dt.datetime.combine(w.end + dt.timedelta(days=1), dt.time(), dt.UTC),
    ]


@kept
def map_points(
    con: duckdb.DuckDBPyConnection,
    flt: EventFilter,
    color_by: str,
    reference: Window,
    current: Window,
    limit: int = 30_000,
) -> pl.DataFrame:
    """Map points with their colour value and hover text (input text, cut to 200 characters).

    The map holds a sample of the events (models/drift/projection.py), so this is the matching
    events that have a point, never a count of the matching events."""
    if color_by not in COLOR_BY:
        raise ValueError(f"unknown colour {color_by!r}")
    where, params = where_sql(flt)
    color = COLOR_BY[color_by]
    win_params: list[Any] = []
    if color_by == "window":
        color = (
            "CASE WHEN e.ts >= ? AND e.ts < ? THEN 'reference' "
            "WHEN e.ts >= ? AND e.ts < ? THEN 'current' ELSE 'other' END"
        )
        win_params = _window_bounds(reference) + _window_bounds(current)
    sql = f"""
        SELECT p.x, p.y, m.cluster_id, coalesce(c.llm_name, c.label) AS cluster, e.event_id,
               strftime(e.ts, '%Y-%m-%d') AS day, e.model,
               left(e.input_text, 200) AS text, {color} AS colour
        FROM map_points p
        JOIN events e USING (event_id)
        JOIN cluster_members m USING (event_id)
        JOIN clusters c ON c.cluster_id = m.cluster_id
        LEFT JOIN (SELECT DISTINCT f.event_id FROM feedback f WHERE {NEGATIVE_SQL}) neg
               ON neg.event_id = e.event_id
        LEFT JOIN (SELECT DISTINCT f.event_id FROM feedback f
                   WHERE f.name = 'thumbs' AND f.value = 1) up ON up.event_id = e.event_id
        WHERE {where}
        ORDER BY hash(e.event_id), e.event_id
        LIMIT ?
    """
    return con.sql(sql, params=win_params + params + [limit]).pl()


@kept
def drift_report(
    con: duckdb.DuckDBPyConnection, reference: Window, current: Window, alpha: float
) -> DriftReport:
    return compute_drift(con, reference, current, alpha=alpha)


@kept
def quality_by_cluster(
    con: duckdb.DuckDBPyConnection,
    reference: Window,
    current: Window,
    alpha: float,
    flt: EventFilter,
) -> pl.DataFrame:
    """Quality of each cluster in both windows and its drop (models.drift.cluster_quality)."""
    return cluster_quality.quality_change(con, reference, current, flt, alpha=alpha)


def cluster_table(report: DriftReport, quality: pl.DataFrame) -> pl.DataFrame:
    """One row per cluster: share change and status from the page's drift report (computed
    once per page run: its tests are the page's most expensive work), joined with its quality."""
    drift = pl.DataFrame(
        [
            {
                "cluster_id": c.cluster_id,
                "label": c.label,
                "keywords": ", ".join(c.keywords),
                "status": c.shift.status,
                "share_reference": c.shift.share_reference,
                "share_current": c.shift.share_current,
                "n_reference": c.shift.n_reference,
                "n_current": c.shift.n_current,
                "share_p_adj": c.shift.p_adjusted,
                "example": c.examples[0] if c.examples else "",
            }
            for c in report.clusters
        ],
        schema={
            "cluster_id": pl.Int64,
            "label": pl.Utf8,
            "keywords": pl.Utf8,
            "status": pl.Utf8,
            "share_reference": pl.Float64,
            "share_current": pl.Float64,
            "n_reference": pl.Int64,
            "n_current": pl.Int64,
            "share_p_adj": pl.Float64,
            "example": pl.Utf8,
        },
    )
    return drift.join(quality, on="cluster_id", how="left").with_columns(
        (pl.col("share_current") - pl.col("share_reference")).alias("share_change")
    )


@kept
def share_over_time(con: duckdb.DuckDBPyConnection, flt: EventFilter) -> pl.DataFrame:
    """Share of each cluster's events per week (Monday, UTC)."""
    where, params = where_sql(flt)
    sql = f"""
        WITH w AS (
            SELECT date_trunc('week', e.ts)::DATE AS week, m.cluster_id, count(*) AS n
            FROM events e JOIN cluster_members m USING (event_id)
            WHERE {where} GROUP BY ALL
        )
        SELECT w.week, w.cluster_id, coalesce(c.llm_name, c.label) AS label, w.n,
               w.n / sum(w.n) OVER (PARTITION BY w.week) AS share
        FROM w JOIN clusters c USING (cluster_id)
        ORDER BY w.week, w.cluster_id
    """
    return con.sql(sql, params=params).pl()


@kept
def cluster_quality_by_model(
    con: duckdb.DuckDBPyConnection,
    cluster_id: int,
    flt: EventFilter,
    reference: Window,
    current: Window,
) -> pl.DataFrame:
    """Quality of one cluster per model and window, with intervals."""
    return cluster_quality.window_quality(
        con, reference, current, flt.with_(cluster_id=cluster_id), by_model=True
    )


def cluster_detail(con: duckdb.DuckDBPyConnection, cluster_id: int) -> dict[str, Any] | None:
    rows = con.execute(
        "SELECT cluster_id, label, keywords, examples, llm_name, size, first_run_id "
        "FROM clusters WHERE cluster_id = ?",
        [cluster_id],
    ).fetchall()
    if not rows:
        return None
    keys = ("cluster_id", "label", "keywords", "examples", "llm_name", "size", "first_run_id")
    return dict(zip(keys, rows[0], strict=True))


def cluster_events(
    con: duckdb.DuckDBPyConnection, cluster_id: int, flt: EventFilter, limit: int = 50
) -> pl.DataFrame:
    """The cluster's most recent events (for drill-down and the playground)."""
    where, params = where_sql(flt.with_(cluster_id=cluster_id))
    return con.sql(
        f"SELECT e.event_id, e.ts, e.model, e.status, left(e.input_text, 300) AS input_text "
        f"FROM events e WHERE {where} ORDER BY e.ts DESC, e.event_id LIMIT ?",
        params=params + [limit],
    ).pl()


@kept
def events_by_id(con: duckdb.DuckDBPyConnection, event_ids: tuple[str, ...]) -> pl.DataFrame:
    """These events (a new topic's), in the given order, for the page's list."""
    return con.sql(
        "SELECT e.event_id, e.ts, e.model, e.status, left(e.input_text, 300) AS input_text "
        "FROM (SELECT unnest(?::VARCHAR[]) AS event_id, generate_subscripts(?::VARCHAR[], 1) "
        "AS pos) i JOIN events e USING (event_id) ORDER BY i.pos",
        params=[list(event_ids), list(event_ids)],
    ).pl()

"""Drift between any two windows, from the stored analysis: what `reviewdeck drift` prints.

It reads the current cluster assignment and cached vectors (no model is fitted), runs the overall
two-sample test and the per-cluster share tests of models/drift/statistics.py, and shapes the
documented JSON object: {"overall": {statistic, p_value, drifted}, "clusters": [...]}.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

from ingest.errors import ReviewdeckError
from models.drift import statistics as drf
from models.drift import store


class NoAnalysis(ReviewdeckError):
    """The warehouse has no analysis yet."""


@dataclass(frozen=True)
class ClusterDrift:
    cluster_id: int
    label: str
    keywords: list[str]
    examples: list[str]
    shift: drf.ClusterShift


@dataclass(frozen=True)
class DriftReport:
    reference: drf.Window
    current: drf.Window
    overall: drf.OverallDrift
    clusters: list[ClusterDrift]

    @property
    def drifted(self) -> bool:
        """Drift found: the overall test rejects, or any cluster is not stable."""
        return self.overall.drifted or any(c.shift.status != "stable" for c in self.clusters)


def _bounds(w: drf.Window) -> tuple[dt.datetime, dt.datetime]:
    return (
        dt.datetime.combine(w.start, dt.time(), dt.UTC),
        dt.datetime.combine(w.end + dt.timedelta(days=1), dt.time(), dt.UTC),
    )


def latest_day(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    rows = con.execute(
        "SELECT max(e.ts)::DATE FROM events e JOIN cluster_members m USING (event_id)"
    ).fetchall()
    return rows[0][0] if rows else None


def compute_drift(
    con: duckdb.DuckDBPyConnection,
    reference: drf.Window | None = None,
    current: drf.Window | None = None,
    *,
    reference_weeks: int = 4,
    alpha: float = drf.ALPHA,
    seed: int = 0,
    max_per_side: int = 1000,
    n_permutations: int = 200,
) -> DriftReport:
    """Compare two windows (default: the latest week against the `reference_weeks` before)."""
    run = store.last_run(con)
    if run is None:
        raise NoAnalysis("no analysis in this warehouse yet: run `reviewdeck analyze` first")
    if reference is None or current is None:
        last = latest_day(con)
        if last is None:
            raise NoAnalysis("the analysis holds no events: run `reviewdeck analyze` again")
        ref_d, cur_d = drf.default_windows(last, reference_weeks)
        reference, current = reference or ref_d, current or cur_d
    ref_b, cur_b = _bounds(reference), _bounds(current)
    x_ref = store.window_vectors(con, run["embedder_id"], run["field"], *ref_b, max_per_side, seed)
    x_cur = store.window_vectors(con, run["embedder_id"], run["field"], *cur_b, max_per_side, seed)
    ref_counts = store.window_counts(con, *ref_b)
    cur_counts = store.window_counts(con, *cur_b)
    info = store.active_cluster_info(con)
    ids = info["cluster_id"].to_list()
    verdict = drf.drift_verdict(
        x_ref, x_cur, ids, [ref_counts.get(c, 0) for c in ids],
        [cur_counts.get(c, 0) for c in ids], alpha=alpha, seed=seed,
        n_permutations=n_permutations, max_per_side=max_per_side,
    )
    overall, shifts = verdict.overall, verdict.clusters
    meta = {r["cluster_id"]: r for r in info.iter_rows(named=True)}
    clusters = [
        ClusterDrift(
            s.cluster_id, meta[s.cluster_id]["label"], list(meta[s.cluster_id]["keywords"] or []),
            list(meta[s.cluster_id]["examples"] or []), s,
        )
        for s in shifts
    ]
    # Most notable first: flagged clusters by adjusted p-value, then the rest by size now.
    clusters.sort(key=lambda c: (c.shift.status == "stable", c.shift.p_adjusted,
                                 -c.shift.n_current, c.cluster_id))
    return DriftReport(reference, current, overall, clusters)


def _num(v: float) -> float | None:
    return None if v != v else float(v)  # NaN (too few events) becomes null in JSON


def to_json(report: DriftReport) -> dict[str, Any]:
    """The documented object of `reviewdeck drift --json` (docs/drift.md), exactly these keys."""
    return {
        "overall": {
            "statistic": _num(report.overall.statistic),
            "p_value": _num(report.overall.p_value),
            "drifted": bool(report.overall.drifted),
        },
        "clusters": [
            {
                "cluster_id": c.cluster_id,
                "label": c.label,
                "keywords": c.keywords,
                "share_reference": c.shift.share_reference,
                "share_current": c.shift.share_current,
                "n_reference": c.shift.n_reference,
                "n_current": c.shift.n_current,
                "p_value": c.shift.p_adjusted,
                "status": c.shift.status,
                "examples": c.examples,
            }
            for c in report.clusters
        ],
    }

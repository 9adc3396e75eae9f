"""Drift between any two windows, from the stored analysis: what `reviewdeck drift` prints.

It reads the current cluster assignment and cached vectors (no model is fitted), runs the three
tests of models/drift/statistics.py (overall MMD, per-cluster shares, kNN novelty), names the new
topics the novelty test found (models/drift/topics.py) with their events, quality and cluster, and
shapes the documented JSON object: {"verdict", "overall", "novelty", "new_topics", "clusters"}.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np

from ingest.errors import ReviewdeckError
from models.drift import statistics as drf
from models.drift import store, topics
from models.drift.cluster_quality import events_quality
from models.drift.novelty import MAX_PER_SIDE, REFERENCE_RATIO, NoveltyResult


class NoAnalysis(ReviewdeckError):
    """The warehouse has no analysis yet."""


@dataclass(frozen=True)
class ClusterDrift:
    cluster_id: int
    label: str
    keywords: list[str]
    examples: list[str]
    shift: drf.ClusterShift


LLM_NAME_SHARE = 0.6  # a topic takes its cluster's LLM name when this share of it is that cluster


@dataclass(frozen=True)
class NewTopic:
    """A group of current events in territory the reference did not cover."""

    topic_id: int  # 1.. largest first, within this comparison
    label: str
    keywords: list[str]
    examples: list[str]
    event_ids: list[str]  # the flagged events of the sample, most typical first
    n_events: int  # flagged events in the sample
    share: float  # of the sampled current events
    estimated_events: int  # share x events in the current window
    cluster_id: int | None  # the cluster most of its events are in
    cluster_share: float  # the share of its events in that cluster
    quality: dict[str, Any]


@dataclass(frozen=True)
class DriftReport:
    reference: drf.Window
    current: drf.Window
    overall: drf.OverallDrift
    clusters: list[ClusterDrift]
    novelty: NoveltyResult | None = None
    new_topics: list[NewTopic] = field(default_factory=list)
    n_current_events: int = 0
    field: str = "input"  # what the analysis embedded: input, output or input+output

    @property
    def drifted(self) -> bool:
        """Drift found: any of the three tests rejects (each at its share of alpha)."""
        return (
            self.overall.drifted
            or any(c.shift.status != "stable" for c in self.clusters)
            or (self.novelty is not None and self.novelty.drifted)
        )


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
    per_side = max(max_per_side, MAX_PER_SIDE)
    _, ref_texts, x_ref, ref_groups = store.window_sample(
        con, run["embedder_id"], run["field"], *ref_b, REFERENCE_RATIO * per_side, seed)
    cur_ids, cur_texts, x_cur, cur_groups = store.window_sample(
        con, run["embedder_id"], run["field"], *cur_b, per_side, seed)
    ref_counts = store.window_counts(con, *ref_b)
    cur_counts = store.window_counts(con, *cur_b)
    info = store.active_cluster_info(con)
    ids = info["cluster_id"].to_list()
    verdict = drf.drift_verdict(
        x_ref, x_cur, ids, [ref_counts.get(c, 0) for c in ids],
        [cur_counts.get(c, 0) for c in ids], alpha=alpha, seed=seed,
        n_permutations=n_permutations, max_per_side=max_per_side, novelty_per_side=per_side,
        groups=(np.asarray(ref_groups, dtype=object), np.asarray(cur_groups, dtype=object)),
    )
    n_current = int(sum(cur_counts.values()))
    new_topics = _new_topics(con, verdict.novelty, x_cur, cur_ids, cur_texts, ref_texts,
                             n_current, seed)
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
    return DriftReport(reference, current, overall, clusters, verdict.novelty, new_topics,
                       n_current, run["field"])


def _new_topics(
    con: duckdb.DuckDBPyConnection, novelty: NoveltyResult | None, x_cur: Any,
    cur_ids: list[str], cur_texts: list[str], ref_texts: list[str], n_current: int, seed: int,
) -> list[NewTopic]:
    if novelty is None or not novelty.topics:
        return []
    rows = novelty.current_rows
    x = x_cur[rows]
    texts = [cur_texts[i] for i in rows]
    sketches = topics.sketch_topics(novelty.topics, x, texts, ref_texts, seed=seed)
    out = []
    for sk in sketches:
        typical = sk.rows[np.argsort(-(x[sk.rows] @ sk.centroid), kind="stable")]
        event_ids = [cur_ids[rows[i]] for i in typical]  # most typical first
        members = con.execute(
            "SELECT m.cluster_id, count(*), any_value(c.llm_name) FROM cluster_members m "
            "LEFT JOIN clusters c ON c.cluster_id = m.cluster_id AND c.active "
            "WHERE m.event_id IN (SELECT unnest(?::VARCHAR[])) "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1", [event_ids],
        ).fetchall()
        share = len(event_ids) / max(novelty.n_current, 1)
        # The LLM's name of the topic's own cluster (analyze --name-model), when most of the
        # topic is that cluster: names are written by the analysis, never by a page.
        label = sk.label
        if members and members[0][2] and members[0][1] >= LLM_NAME_SHARE * len(event_ids):
            label = members[0][2]
        out.append(NewTopic(
            sk.topic_id, label, sk.keywords, sk.examples, event_ids, len(event_ids), share,
            int(round(share * n_current)), int(members[0][0]) if members else None,
            members[0][1] / len(event_ids) if members else 0.0, events_quality(con, event_ids),
        ))
    return out


def _num(v: float) -> float | None:
    return None if v != v else float(v)  # NaN (too few events) becomes null in JSON


def _quality_json(q: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "n_votes", "up_rate", "up_lo", "up_hi", "negative_rate", "n_judged",
            "judge_mean", "error_rate")
    return {k: (_num(q[k]) if isinstance(q.get(k), float) else q.get(k)) for k in keys}


def to_json(report: DriftReport) -> dict[str, Any]:
    """The documented object of `reviewdeck drift --json` (docs/drift.md), exactly these keys."""
    nov = report.novelty
    return {
        "field": report.field,
        "verdict": {"drifted": bool(report.drifted),
                    "alpha_shares": dict(drf.ALPHA_SHARES)},
        "overall": {
            "statistic": _num(report.overall.statistic),
            "p_value": _num(report.overall.p_value),
            "drifted": bool(report.overall.drifted),
        },
        "novelty": None if nov is None else {
            "method": nov.method,
            "statistic": _num(nov.statistic),
            "expected": _num(nov.expected),
            "p_value": _num(nov.p_value),
            "drifted": bool(nov.drifted),
            "k": nov.k,
            "threshold": nov.threshold,
            "n_reference": nov.n_reference,
            "n_current": nov.n_current,
        },
        "new_topics": [
            {
                "topic_id": t.topic_id,
                "label": t.label,
                "keywords": t.keywords,
                "n_events": t.n_events,
                "share": t.share,
                "estimated_events": t.estimated_events,
                "cluster_id": t.cluster_id,
                "cluster_share": t.cluster_share,
                "examples": t.examples,
                "event_ids": t.event_ids,
                "quality": _quality_json(t.quality),
            }
            for t in report.new_topics
        ],
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

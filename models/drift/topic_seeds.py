"""Cluster seeds for new topics, so a small new topic gets a cluster of its own.

k-means with k growing like sqrt(n) makes a few dozen clusters; a new topic at 5% of one week is
a sliver of the whole history and merges into a neighbouring catch-all (issue 15: "a new topic
never disappears into a larger cluster"). The neighbourhood test (novelty.py) finds such topics
precisely, week by week, so each topic it finds becomes a starting centroid. k-means then keeps
it (a tight topic is nearer to its own centroid than to any catch-all), and the cluster matching
of later runs keeps its id stable, like any other cluster's.

Each analysed week is tested against the `reference_weeks` before it; a topic found again in a
later week (it is still growing) gives no second seed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from models.drift import novelty

# A seed needs a topic of at least this many sampled events: smaller groups are left to the
# Drift page's new-topic list, which names them without giving them a cluster.
MIN_SEED_EVENTS = 15
# Cosine similarity above which two topic centroids are the same topic (found in two weeks).
SAME_TOPIC = 0.9
PER_SIDE = 2000  # events sampled a side per weekly test: enough for a 5% topic (100 events)
# The reference is sampled to PER_SIDE too, not to the Drift page's twice the current side: a
# seed is a cluster of its own from then on, and the fuller reference also seeds chance rises
# of an old question (demo week 8: 'hub update stuck at 80%', 39 asks against 21-29 a week
# before), whose clusters split their neighbours (the demo's billing questions fell into two
# and the model switch's quality drop there lost its significance).
PERMUTATIONS = 100


def _monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def weekly_seeds(
    x_events: np.ndarray,
    days: np.ndarray,
    *,
    weeks: list[dt.date] | None = None,
    existing: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    reference_weeks: int = 4,
    seed: int = 0,
) -> np.ndarray:
    """Unit centroids of the new topics of each week (Mondays in `weeks`, default every week
    with `reference_weeks` of history before it), as a (m, d) array.

    `x_events` holds one unit vector per event, `days` its UTC date (datetime64[D]) and
    `groups` its session (novelty.neighbourhood_test leaves an event's own out). A topic
    whose centroid is within SAME_TOPIC of an `existing` centroid already has its cluster.
    """
    dim = x_events.shape[1] if x_events.ndim == 2 else 0
    if len(x_events) == 0:
        return np.zeros((0, dim), dtype=np.float32)
    mondays = days - ((days.astype("datetime64[D]").view("int64") - 4) % 7).astype("timedelta64[D]")
    first = mondays.min()
    if weeks is None:
        all_weeks = np.unique(mondays)
        start = first + np.timedelta64(7 * reference_weeks, "D")
        candidates = [w for w in all_weeks if w >= start]
    else:
        candidates = [np.datetime64(_monday(w), "D") for w in weeks]
    seeds: list[np.ndarray] = []
    known = np.zeros((0, dim), dtype=np.float32) if existing is None else existing
    for w in candidates:
        cur = np.flatnonzero(mondays == w)
        ref_lo = w - np.timedelta64(7 * reference_weeks, "D")
        ref = np.flatnonzero((mondays >= max(ref_lo, first)) & (mondays < w))
        if len(cur) < 2 * MIN_SEED_EVENTS or len(ref) < 2 * MIN_SEED_EVENTS:
            continue
        result = novelty.neighbourhood_test(
            x_events[ref], x_events[cur], max_per_side=PER_SIDE, max_reference=PER_SIDE,
            n_permutations=PERMUTATIONS, seed=seed,
            groups_reference=None if groups is None else groups[ref],
            groups_current=None if groups is None else groups[cur],
        )
        x_cur = x_events[cur[result.current_rows]]
        for topic in result.topics:
            if len(topic) < MIN_SEED_EVENTS:
                continue
            centroid = x_cur[topic].mean(axis=0)
            centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
            if any(float(s @ centroid) > SAME_TOPIC for s in seeds):
                continue
            if len(known) and float((known @ centroid).max()) > SAME_TOPIC:
                continue
            seeds.append(centroid.astype(np.float32))
    return np.vstack(seeds) if seeds else np.zeros((0, dim), dtype=np.float32)

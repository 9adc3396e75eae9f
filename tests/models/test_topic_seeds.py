"""Seeds for new topics (models/drift/topic_seeds.py): a tight topic that appears in one week
gets one seed near it, found again later it gets no second one, and weeks with nothing new get
none."""

from __future__ import annotations

import numpy as np

from models.drift.cluster import unit
from models.drift.topic_seeds import weekly_seeds

DIM = 32
START = np.datetime64("2026-09-07", "D")  # a Monday


def _history(rng, weeks: int, per_week: int, centres: np.ndarray):
    x, days = [], []
    for w in range(weeks):
        c = centres[rng.integers(0, len(centres), per_week)]
        x.append(c + 0.35 * rng.standard_normal((per_week, DIM)))
        days.append(START + np.timedelta64(7 * w, "D") + rng.integers(0, 7, per_week))
    return x, days


def _topic(rng, n: int, week: int, centre: np.ndarray):
    x = centre + 0.05 * rng.standard_normal((n, DIM))
    days = START + np.timedelta64(7 * week, "D") + rng.integers(0, 7, n)
    return x, days


def test_a_new_topic_gets_one_seed_near_it() -> None:
    rng = np.random.default_rng(1)
    centres = unit(rng.standard_normal((12, DIM)))
    x, days = _history(rng, 7, 600, centres)
    topic = unit(rng.standard_normal((1, DIM)))[0]
    for week in (5, 6):  # it appears in week 5 and is still there in week 6
        tx, td = _topic(rng, 60, week, topic)
        x.append(tx)
        days.append(td)
    seeds = weekly_seeds(unit(np.vstack(x)), np.concatenate(days))
    assert len(seeds) == 1, len(seeds)
    assert float(seeds[0] @ topic) > 0.95


def test_known_topics_and_quiet_weeks_get_no_seed() -> None:
    rng = np.random.default_rng(2)
    centres = unit(rng.standard_normal((12, DIM)))
    x, days = _history(rng, 7, 600, centres)
    xs, ds = unit(np.vstack(x)), np.concatenate(days)
    assert len(weekly_seeds(xs, ds)) == 0
    topic = unit(rng.standard_normal((1, DIM)))[0]
    tx, td = _topic(rng, 60, 6, topic)
    xs2, ds2 = unit(np.vstack([xs, tx])), np.concatenate([ds, td])
    # the topic already has a cluster (an earlier run seeded it): no second seed
    assert len(weekly_seeds(xs2, ds2, existing=topic[None, :].astype(np.float32))) == 0
    # and only the weeks asked for are tested
    week5 = (START + np.timedelta64(35, "D")).astype(object)
    assert len(weekly_seeds(xs2, ds2, weeks=[week5])) == 0
    assert len(weekly_seeds(xs2, ds2)) == 1

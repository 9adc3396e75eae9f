"""The map of an incremental run is a sample of the new events at the full run's rate, not every
event: old points stay where they were, reruns give the same map, a new topic still gets
points, and the map grows with the data at that rate over many runs.

The full run sees 80,000 events (80 distinct texts, so UMAP fits in seconds) against the
20,000-point minimum sample, so its rate is about a quarter and an incremental run that placed
every event would be told apart at once.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import polars as pl
import pytest

from ingest.db import connect
from models.drift import projection
from models.drift.analyze import AnalyzeOptions, run_analysis
from tests.models.analyze_data import START, copy_warehouse, insert_events, make_events

OPTS = AnalyzeOptions(k=4, embed_dim=16, map_points=20_000)
WEEK_US = 7 * 86_400 * 1_000_000


def _new_events(n: int, *, seed: int, prefix: str, weeks_after: int = 6) -> pl.DataFrame:
    """n events in the week after the base data, with the crypto topic the base never had."""
    return make_events(
        n, seed=seed, weeks=1, id_prefix=prefix, start=START + dt.timedelta(weeks=weeks_after),
        topics={"crypto": 1, "refund": 2, "password": 2, "shipping": 1},
    )


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory):
    """A warehouse whose full run sampled the map (80,000 events, 20,000 on the map)."""
    path = tmp_path_factory.mktemp("map_sample") / "w.duckdb"
    with connect(path) as con:
        insert_events(con, make_events(80_000, seed=1))
    result = run_analysis(path, OPTS)
    assert result.mode == "full"
    return path


def _map(path) -> pl.DataFrame:
    with connect(path, read_only=True) as con:
        return con.sql("SELECT event_id, x, y, fitted FROM map_points ORDER BY event_id").pl()


def _rate(path) -> float:
    with connect(path, read_only=True) as con:
        params = con.execute(
            "SELECT params FROM analysis_runs ORDER BY run_id DESC LIMIT 1"
        ).fetchall()[0][0]
    return json.loads(params)["map_rate"]


def _add_and_analyse(path, frame: pl.DataFrame):
    with connect(path) as con:
        insert_events(con, frame)
    result = run_analysis(path, OPTS)
    assert result.mode == "incremental"
    return result


def _within_binomial(got: int, n: int, rate: float, slack: int = 0) -> bool:
    """got is rate * n give or take five standard deviations (plus `slack` above)."""
    sd = math.sqrt(n * rate * (1 - rate))
    return rate * n - 5 * sd <= got <= rate * n + 5 * sd + slack


def test_the_full_run_keeps_its_sampling_rate(sampled) -> None:
    m = _map(sampled)
    assert 19_900 <= m.height <= 20_000 and m["fitted"].all()
    assert _rate(sampled) == pytest.approx(m.height / 80_000)


def test_incremental_run_places_a_sample_at_the_full_runs_rate(sampled, tmp_path) -> None:
    path = copy_warehouse(sampled, tmp_path)
    rate = _rate(path)
    before = _map(path)
    new = _new_events(4_000, seed=7, prefix="new")
    result = _add_and_analyse(path, new)
    after = _map(path)
    placed = after.join(new.select("event_id"), on="event_id", how="semi")
    assert result.n_map_points == after.height == before.height + placed.height
    assert not placed["fitted"].any()
    # About rate x new events (the floors of small strata may add a few), far from all 4,000.
    assert _within_binomial(placed.height, 4_000, rate, slack=200), (placed.height, rate)
    assert placed.height < 4_000 / 2
    assert _rate(path) == rate  # carried forward for the next run
    # Points already on the map stay exactly where they were.
    kept = after.join(before.select("event_id"), on="event_id", how="semi")
    assert kept.equals(before)
    assert np.isfinite(placed["x"].to_numpy()).all()


def test_every_new_stratum_gets_its_floor(sampled, tmp_path) -> None:
    """Each week x cluster stratum of the new events has min(20, its events) points on the map
    (counting the old points it already had), as in a full run's sample."""
    path = copy_warehouse(sampled, tmp_path)
    _add_and_analyse(path, _new_events(4_000, seed=7, prefix="new"))
    with connect(path, read_only=True) as con:
        strata = con.execute(
            "SELECT epoch_us(e.ts) // ? AS week, m.cluster_id, "
            "count(*) FILTER (WHERE e.event_id LIKE 'new%') AS n_new, "
            "count(p.event_id) FILTER (WHERE e.event_id LIKE 'new%') AS placed, "
            "count(p.event_id) FILTER (WHERE e.event_id NOT LIKE 'new%') AS had "
            "FROM events e JOIN cluster_members m USING (event_id) "
            "LEFT JOIN map_points p USING (event_id) GROUP BY ALL HAVING n_new > 0",
            [WEEK_US],
        ).fetchall()
    assert strata
    for week, cluster, n_new, placed, had in strata:
        assert placed >= min(20 - had, n_new), (week, cluster, n_new, placed, had)


def test_a_new_topic_gets_points_on_the_map(sampled, tmp_path) -> None:
    path = copy_warehouse(sampled, tmp_path)
    new = _new_events(4_000, seed=7, prefix="new")
    _add_and_analyse(path, new)
    crypto = new.filter(pl.col("topic") == "crypto").select("event_id")
    with connect(path, read_only=True) as con:
        con.register("crypto", crypto)
        by_cluster = con.execute(
            "SELECT m.cluster_id, count(*) AS n, count(p.event_id) AS on_map "
            "FROM crypto c JOIN cluster_members m USING (event_id) "
            "LEFT JOIN map_points p USING (event_id) GROUP BY 1 ORDER BY n DESC"
        ).fetchall()
        old_clusters = {r[0] for r in con.execute(
            "SELECT DISTINCT cluster_id FROM clusters WHERE first_run_id = 1"
        ).fetchall()}
    main = by_cluster[0]
    assert main[0] not in old_clusters  # the topic made a cluster of its own
    assert main[2] >= min(20, main[1])
    assert sum(r[2] for r in by_cluster) > 0


def test_the_same_warehouse_gives_the_same_map(sampled, tmp_path) -> None:
    maps = []
    for name in ("a.duckdb", "b.duckdb"):
        path = copy_warehouse(sampled, tmp_path, name)
        _add_and_analyse(path, _new_events(4_000, seed=7, prefix="new"))
        maps.append(_map(path))
    assert maps[0].equals(maps[1])
    assert maps[0].height < 20_000 + 4_000


def test_many_runs_grow_the_map_at_the_rate_not_by_one_per_event(sampled, tmp_path) -> None:
    path = copy_warehouse(sampled, tmp_path)
    rate, start = _rate(path), _map(path).height
    n_new = 0
    for i in range(4):
        _add_and_analyse(path, _new_events(1_000, seed=20 + i, prefix=f"r{i}-", weeks_after=6 + i))
        n_new += 1_000
    grown = _map(path).height - start
    # Floors are owed once per stratum, not once per run: the growth stays near the rate.
    assert _within_binomial(grown, n_new, rate, slack=400), (grown, rate)
    assert grown < n_new / 2


def test_a_map_stored_before_the_rate_was_kept_uses_fitted_over_events(sampled, tmp_path) -> None:
    """Warehouses analysed before `map_rate` was in the params (the fallback: fitted points
    over the events analysed so far, which is the full run's rate when it was the last run)."""
    path = copy_warehouse(sampled, tmp_path)
    rate = _rate(path)
    with connect(path) as con:
        params = json.loads(con.execute("SELECT params FROM analysis_runs").fetchall()[0][0])
        del params["map_rate"]
        con.execute("UPDATE analysis_runs SET params = ?", [json.dumps(params)])
    new = _new_events(4_000, seed=7, prefix="new")
    _add_and_analyse(path, new)
    assert _rate(path) == pytest.approx(rate)
    placed = _map(path).join(new.select("event_id"), on="event_id", how="semi").height
    assert _within_binomial(placed, 4_000, rate, slack=200)


def test_a_map_of_every_event_starts_sampling_once_the_data_outgrows_it(tmp_path) -> None:
    """A full run on fewer events than the sample size maps them all (rate 1); new events then go
    on at the rate a full run would take, or the map would grow by one point per event."""
    path = tmp_path / "small.duckdb"
    with connect(path) as con:
        insert_events(con, make_events(400, seed=3))
    run_analysis(path, OPTS)
    assert _rate(path) == 1.0 and _map(path).height == 400
    new = _new_events(30_000, seed=8, prefix="big")
    _add_and_analyse(path, new)
    rate = _rate(path)
    assert rate == pytest.approx(20_000 / 30_400)
    placed = _map(path).join(new.select("event_id"), on="event_id", how="semi").height
    assert _within_binomial(placed, 30_000, rate, slack=200)


# -- the sampling functions on tiny inputs ------------------------------------------------


def test_stable_uniform_is_the_same_every_time_and_spread_over_0_1() -> None:
    keys = [f"ev{i}" for i in range(10_000)]
    u = projection.stable_uniform(keys, seed=0)
    assert np.array_equal(u, projection.stable_uniform(keys, seed=0))
    assert not np.array_equal(u, projection.stable_uniform(keys, seed=1))
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.02 and abs((u < 0.25).mean() - 0.25) < 0.02
    assert projection.stable_uniform(["ev5"], seed=0)[0] == u[5]  # per key, not per batch


def test_sample_at_rate_tops_small_strata_up_to_the_floor() -> None:
    strata = np.array([1] * 30 + [2] * 5 + [3] * 40)
    u = np.linspace(0, 1, len(strata), endpoint=False)[::-1].copy()
    got = projection.sample_at_rate(strata, u, 0.0, existing=np.array([1] * 15 + [3] * 25))
    picked = strata[got]
    # stratum 1 had 15 points: 5 more; stratum 2 is smaller than the floor: all; stratum 3 full.
    assert (picked == 1).sum() == 5 and (picked == 2).sum() == 5 and (picked == 3).sum() == 0
    # ... and the top-up takes the lowest u of the stratum.
    ones = np.flatnonzero(strata == 1)
    assert set(got[strata[got] == 1]) == set(ones[np.argsort(u[ones])[:5]])


def test_sample_at_rate_takes_rows_below_the_rate_whatever_the_batches() -> None:
    rng = np.random.default_rng(0)
    strata = rng.integers(0, 3, 2_000)
    u = rng.random(2_000)
    whole = projection.sample_at_rate(strata, u, 0.1, min_per_stratum=0)
    assert np.array_equal(whole, np.flatnonzero(u < 0.1))
    a = projection.sample_at_rate(strata[:700], u[:700], 0.1, min_per_stratum=0)
    b = projection.sample_at_rate(strata[700:], u[700:], 0.1, min_per_stratum=0) + 700
    assert np.array_equal(np.concatenate([a, b]), whole)
    assert len(projection.sample_at_rate(strata, u, 1.0)) == 2_000
    assert len(projection.sample_at_rate(strata[:0], u[:0], 0.5)) == 0

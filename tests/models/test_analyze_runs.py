"""The analysis job on a real warehouse file: first run, nothing new, new events with a new topic,
stable ids, determinism, content-hash caching, embedder refits never mixing spaces, and the
results swapped in atomically."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from ingest.db import connect
from models.drift import store
from models.drift.analyze import AnalyzeOptions, run_analysis
from tests.models.analyze_data import copy_warehouse, insert_events, make_events

OPTS = AnalyzeOptions(k=4, make_map=False, embed_dim=24)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory):
    """A warehouse with 4 topics over 6 weeks, analysed once; tests copy it before changing it."""
    path = tmp_path_factory.mktemp("analyze") / "w.duckdb"
    with connect(path) as con:
        insert_events(con, make_events(1200, seed=1))
    result = run_analysis(path, OPTS)
    return path, result


def _members(path) -> pl.DataFrame:
    with connect(path, read_only=True) as con:
        return con.sql("SELECT event_id, cluster_id FROM cluster_members ORDER BY 1").pl()


def test_first_run_clusters_every_event_by_topic(analysed) -> None:
    path, result = analysed
    assert result.mode == "full" and result.n_clusters == 4 and result.n_events == 1200
    with connect(path, read_only=True) as con:
        got = con.sql(
            "SELECT m.cluster_id, e.input_text FROM cluster_members m JOIN events e USING "
            "(event_id)"
        ).pl()
        n_vectors = con.execute("SELECT count(*) FROM embeddings").fetchall()[0][0]
        n_texts = con.execute("SELECT count(DISTINCT input_text) FROM events").fetchall()[0][0]
        labels = dict(con.execute("SELECT cluster_id, label FROM clusters").fetchall())
    # One vector per distinct text, not per event.
    assert n_vectors == n_texts < 1200
    topic = {
        t: name
        for name, (tpls, _) in __import__(
            "tests.models.analyze_data", fromlist=["TOPICS"]
        ).TOPICS.items()
        for t in tpls
    }
    del topic
    # Each cluster's label names its topic's key word.
    words = {"refund", "password", "shipping", "invoice"}
    assert {w for w in words if any(w in lab for lab in labels.values())} == words
    assert got.height == 1200


def test_nothing_new_does_almost_nothing(analysed, tmp_path) -> None:
    path = copy_warehouse(analysed[0], tmp_path)
    before = _members(path)
    again = run_analysis(path, OPTS)
    assert again.mode == "nothing-new" and again.n_embedded == 0
    with connect(path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM analysis_runs").fetchall()[0][0] == 1
    assert _members(path).equals(before)


def test_new_events_keep_ids_and_a_new_topic_gets_a_new_id(analysed, tmp_path) -> None:
    path = copy_warehouse(analysed[0], tmp_path)
    before = _members(path)
    new = make_events(
        300,
        seed=7,
        topics={"crypto": 2, "refund": 1},
        id_prefix="wk7",
        start=make_events(1, seed=1)["ts"][0].replace(day=19, month=10),
    )
    with connect(path) as con:
        insert_events(con, new)
    result = run_analysis(path, OPTS)
    assert result.mode == "incremental" and result.n_new_events == 300
    after = _members(path)
    kept = before.join(after, on="event_id", suffix="_after")
    assert (kept["cluster_id"] == kept["cluster_id_after"]).mean() > 0.99
    crypto_ids = after.join(
        new.filter(pl.col("topic") == "crypto").select("event_id"), on="event_id"
    )["cluster_id"]
    top = crypto_ids.mode()[0]
    assert top not in set(before["cluster_id"].to_list())  # a new id, not an old one reused
    assert (crypto_ids == top).mean() > 0.9
    with connect(path, read_only=True) as con:
        first, label = con.execute(
            "SELECT first_run_id, label FROM clusters WHERE cluster_id = ?", [int(top)]
        ).fetchall()[0]
    assert first == 2
    assert any(w in label for w in ("bitcoin", "crypto", "pay", "usdt", "ethereum"))


def test_same_data_and_seed_give_the_same_result(analysed, tmp_path) -> None:
    path, _ = analysed
    other = tmp_path / "other.duckdb"
    with connect(other) as con:
        insert_events(con, make_events(1200, seed=1))
    run_analysis(other, OPTS)
    assert _members(other).equals(_members(path))


def test_refitting_the_embedder_never_mixes_spaces(analysed, tmp_path) -> None:
    path = copy_warehouse(analysed[0], tmp_path)
    with connect(path, read_only=True) as con:
        n_texts = con.execute("SELECT count(DISTINCT input_text) FROM events").fetchall()[0][0]
    tfidf = AnalyzeOptions(k=4, make_map=False, embed_dim=24, embedder="tfidf", seed=0, full=True)
    first = run_analysis(path, tfidf)
    before = _members(path)
    # A TF-IDF embedder refitted (16 dimensions) is another space: everything re-embedded.
    # (A refit on the same data, seed and size gives the very same model and id.)
    result = run_analysis(
        path,
        AnalyzeOptions(k=4, make_map=False, embed_dim=16, embedder="tfidf", refit_embedder=True,
                       seed=0, full=True),
    )
    with connect(path, read_only=True) as con:
        runs = con.execute("SELECT embedder_id FROM analysis_runs ORDER BY run_id").fetchall()
        cluster_spaces = con.execute(
            "SELECT DISTINCT embedder_id FROM clusters WHERE active"
        ).fetchall()
        spaces = con.execute(
            "SELECT embedder_id, count(*) FROM embeddings GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert result.n_embedded == n_texts  # every distinct text, none taken from the old space
    assert first.n_embedded == n_texts and first.embedder_id.startswith("tfidf-svd")
    assert len({runs[0][0], first.embedder_id, result.embedder_id}) == 3
    assert sorted(n for _, n in spaces) == [n_texts] * 3  # three spaces, side by side
    assert cluster_spaces == [(result.embedder_id,)]
    assert [r[0] for r in runs][-1] == result.embedder_id
    # Ids carried over by shared events even though the space changed.
    after = _members(path)
    both = before.join(after, on="event_id", suffix="_after")
    # Each cluster of the new space carries the id of the old cluster most of its events were in
    # (the two spaces split the 4 topics a little differently, so not every event keeps its id).
    modal = both.group_by("cluster_id_after").agg(pl.col("cluster_id").mode().first())
    assert (modal["cluster_id"] == modal["cluster_id_after"]).all(), modal
    assert (both["cluster_id"] == both["cluster_id_after"]).mean() > 0.75


def test_a_failed_write_leaves_the_previous_analysis_whole(analysed, tmp_path) -> None:
    path = copy_warehouse(analysed[0], tmp_path)
    before = _members(path)
    with connect(path) as con:
        run = store.last_run(con)
        bad = store.AnalysisOutput(
            run={
                "started_at": None,
                "embedder_id": run["embedder_id"],
                "field": "input",
                "seed": 0,
                "n_events": 1,
                "n_new_events": 0,
                "n_embedded": 0,
                "n_clusters": 1,
                "mode": "full",
            },
            clusters=pl.DataFrame({"cluster_id": [99]}),  # missing columns: the insert fails
            members=pl.DataFrame({"event_id": ["x"], "cluster_id": [99], "similarity": [1.0]}),
            map_points=pl.DataFrame({"event_id": [], "x": [], "y": [], "fitted": []}),
            drift_overall=None,
            drift_clusters=None,
        )
        with pytest.raises(Exception):  # noqa: B017 - any database error will do
            store.write_results(con, bad)
    assert _members(path).equals(before)
    with connect(path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM analysis_runs").fetchall()[0][0] == 1
        assert con.execute("SELECT count(*) FROM clusters WHERE active").fetchall()[0][0] == 4


def test_default_drift_table_is_stored(analysed) -> None:
    path, _ = analysed
    with connect(path, read_only=True) as con:
        overall = con.execute("SELECT p_value, drifted FROM drift_overall").fetchall()
        shares = con.execute("SELECT sum(share_current) FROM drift_clusters").fetchall()[0][0]
    assert len(overall) == 1 and 0 < overall[0][0] <= 1
    assert shares == pytest.approx(1.0)
    # unplanted data (one topic mix throughout): no overall drift at the default windows
    assert overall[0][1] is False


def test_one_small_umap_map_is_stored(tmp_path) -> None:
    """The only test that runs UMAP (numba compiles on first use, so it is slow)."""
    path = tmp_path / "map.duckdb"
    with connect(path) as con:
        insert_events(con, make_events(400, seed=3))
    result = run_analysis(path, AnalyzeOptions(k=4, embed_dim=16))
    with connect(path, read_only=True) as con:
        xy = con.sql("SELECT x, y, fitted FROM map_points").pl()
    assert result.n_map_points == xy.height == 400  # under the sample size: every event
    assert xy["fitted"].all()
    assert np.isfinite(xy["x"].to_numpy()).all() and xy["x"].std() > 0
    with connect(path) as con:
        insert_events(con, make_events(30, seed=4, id_prefix="more"))
    run_analysis(path, AnalyzeOptions(k=4, embed_dim=16))
    with connect(path, read_only=True) as con:
        n, placed = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT fitted) FROM map_points"
        ).fetchall()[0]
    assert (n, placed) == (430, 30)  # new events placed on the old map, not refitted

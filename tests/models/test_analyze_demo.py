"""The planted truths of the demo data, found by the analysis (read from the truths sidecar):
the week-9 topic is a new or growing cluster, the week-7 model switch is a quality drop inside a
stable cluster, and windows with nothing planted flag nothing."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from ingest.demo.generate import generate
from models.drift.analyze import AnalyzeOptions, run_analysis
from models.drift.cluster_quality import quality_change
from models.drift.report import compute_drift
from models.drift.statistics import Window

pytestmark = pytest.mark.slow
END = dt.date(2026, 11, 22)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("demo_drift")
    log, db = folder / "demo.jsonl", folder / "demo.duckdb"
    result = generate(log, events=50_000, weeks=12, seed=0, end_date=END)
    out = CliRunner().invoke(app, ["ingest", str(log), "--db", str(db), "--quiet"])
    assert out.exit_code == 0, out.output
    run_analysis(db, AnalyzeOptions(make_map=False))
    return db, result.truths


def _week(truths: dict, n: int) -> Window:
    w = truths["calendar"][n - 1]
    start = dt.date.fromisoformat(w["start"][:10])
    return Window(start, start + dt.timedelta(days=6))


def _span(truths: dict, first: int, last: int) -> Window:
    return Window(_week(truths, first).start, _week(truths, last).end)


def _tag_share(con, tag: str) -> pl.DataFrame:
    return con.sql(
        "SELECT m.cluster_id, count(*) AS n, avg(list_contains(e.tags, ?)::INT) AS share "
        "FROM cluster_members m JOIN events e USING (event_id) GROUP BY 1",
        params=[tag],
    ).pl()


def test_new_topic_is_a_new_or_growing_cluster(demo) -> None:
    db, truths = demo
    planted = truths["planted"]["new_topic"]
    tag = planted.get("tag") or f"topic:{planted.get('group', 'guard')}"
    with connect(db, read_only=True) as con:
        shares = _tag_share(con, tag)
        report = compute_drift(con)  # default: latest week against the four before
    topic_clusters = set(shares.filter(pl.col("share") > 0.8)["cluster_id"].to_list())
    assert topic_clusters, "the new topic should have a cluster of its own"
    flagged = {c.cluster_id: c.shift.status for c in report.clusters}
    assert any(flagged[c] in ("new", "growing") for c in topic_clusters)
    assert report.drifted
    # and the new topic the novelty test names points at that cluster
    week = truths["planted"]["new_topic"]["week"]
    with connect(db, read_only=True) as con:
        first = compute_drift(con, _span(truths, week - 4, week - 1), _week(truths, week))
    assert first.new_topics and first.new_topics[0].cluster_id in topic_clusters
    # (the planted topic holds several intents, so it may own more than one cluster)
    with connect(db, read_only=True) as con:
        inside = con.execute(
            "SELECT avg((cluster_id IN (SELECT unnest(?::INT[])))::INT) FROM cluster_members "
            "WHERE event_id IN (SELECT unnest(?::VARCHAR[]))",
            [sorted(topic_clusters), first.new_topics[0].event_ids],
        ).fetchall()[0][0]
    assert inside >= 0.8, inside


def test_model_switch_is_a_quality_drop_inside_a_stable_cluster(demo) -> None:
    db, truths = demo
    sw = truths["planted"]["model_switch"]
    week = sw["week"]
    reference, current = _span(truths, week - 4, week - 1), _span(truths, week, week + 3)
    with connect(db, read_only=True) as con:
        shares = _tag_share(con, sw["affected_tag"])
        report = compute_drift(con, reference, current)
        quality = quality_change(con, reference, current)
    status = {c.cluster_id: c.shift.status for c in report.clusters}
    affected = set(shares.filter(pl.col("share") > 0.9)["cluster_id"].to_list())
    dropped = quality.filter(pl.col("up_q") < 0.05, pl.col("quality_drop") > 0)
    hits = [c for c in dropped["cluster_id"].to_list() if c in affected and status[c] == "stable"]
    assert hits, quality.sort("up_q").head(5)
    # and no unaffected cluster shows a significant drop
    assert set(dropped["cluster_id"].to_list()) <= affected


def test_windows_with_nothing_planted_flag_nothing(demo) -> None:
    db, truths = demo
    with connect(db, read_only=True) as con:
        report = compute_drift(con, _span(truths, 1, 4), _week(truths, 5))
    assert not report.overall.drifted, report.overall
    assert [c.cluster_id for c in report.clusters if c.shift.status != "stable"] == []


def test_truths_sidecar_names_what_we_checked(demo) -> None:
    _, truths = demo
    assert truths["planted"]["model_switch"]["week"] == 7
    planted = truths["planted"]["new_topic"]
    assert planted["week"] == 9, planted


def _topic_tag_share(con, event_ids: list[str], tag: str) -> float:
    return con.execute(
        "SELECT avg(list_contains(tags, ?)::INT) FROM events WHERE event_id IN "
        "(SELECT unnest(?::VARCHAR[]))", [tag, event_ids],
    ).fetchall()[0][0]


def test_the_planted_topic_is_the_first_new_topic_of_its_week(demo) -> None:
    db, truths = demo
    planted = truths["planted"]["new_topic"]
    week = planted["week"]
    with connect(db, read_only=True) as con:
        report = compute_drift(con, _span(truths, week - 4, week - 1), _week(truths, week))
        assert report.new_topics, report.novelty
        first = report.new_topics[0]
        assert _topic_tag_share(con, first.event_ids, planted["tag"]) >= 0.8, first.label


# Week 8 at three sampling seeds: it once named "it says link expired" (a question asked 56
# times there against 34-35 a week before) as new at seed 0 and nothing at seeds 1 and 2, the
# verdict of a tie-break among identical texts and of a thin reference sample (novelty.py).
@pytest.mark.parametrize(("week", "seed"), [(5, 0), (6, 0), (8, 0), (8, 1), (8, 2)])
def test_weeks_with_nothing_planted_show_no_new_topic(demo, week: int, seed: int) -> None:
    db, truths = demo
    # (week 7 switches the model, not the questions, so it is not listed)
    with connect(db, read_only=True) as con:
        report = compute_drift(con, _span(truths, week - 4, week - 1), _week(truths, week),
                               seed=seed)
    assert report.new_topics == [], (week, seed, [t.label for t in report.new_topics])

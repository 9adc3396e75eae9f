"""Trend facts, headline, series and "what moved" on small hand-written event sets."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.load.derived import refresh
from models import stats
from models.filters import NEGATIVE_SQL, EventFilter, where_sql
from models.trends import core as trends
from models.trends import moved as trends_moved
from models.trends import series as trends_series
from tests.models.trends_fixtures import add_events

W1 = dt.date(2026, 10, 5)  # a Monday
W2 = dt.date(2026, 10, 12)


@pytest.fixture
def planted(con):
    """Tag billing moves from model-a (10% negative) to model-b (30%) in W2; cards unchanged."""
    add_events(con, start=W1, n=600, tags=("topic:billing",), negative=0.10)
    add_events(con, start=W2, n=600, model="model-b", tags=("topic:billing",), negative=0.30)
    add_events(con, start=W1, n=600, tags=("topic:cards",), negative=0.10, judge=0.7)
    add_events(con, start=W2, n=600, tags=("topic:cards",), negative=0.10, judge=0.7)
    return con


def test_facts_agree_with_a_direct_join(planted) -> None:
    direct = planted.execute(
        f"SELECT count(DISTINCT f.event_id) FROM feedback f WHERE {NEGATIVE_SQL}"
    ).fetchall()[0][0]
    facts = planted.execute("SELECT count(*) FROM trend_facts WHERE negative").fetchall()[0][0]
    assert facts == direct > 0
    assert planted.execute("SELECT count(*) FROM trend_facts").fetchall()[0][0] == 2400


def test_late_feedback_refreshes_only_its_event(planted) -> None:
    event_id = planted.execute(
        "SELECT event_id FROM trend_facts WHERE NOT negative ORDER BY event_id LIMIT 1"
    ).fetchall()[0][0]
    planted.execute(
        "INSERT INTO feedback (feedback_id, event_id, name, kind, value, source)"
        " VALUES ('late', ?, 'edited', 'action', 0.8, 'user')",
        [event_id],
    )
    refresh(planted)
    row = planted.execute(
        "SELECT negative, heavy_edit, edit_size FROM trend_facts WHERE event_id = ?", [event_id]
    ).fetchall()[0]
    assert row == (True, True, pytest.approx(0.8))
    assert planted.execute("SELECT count(*) FROM trend_facts").fetchall()[0][0] == 2400


def _headline(con, flt: EventFilter, week: dt.date = W2) -> dict[str, trends.HeadlineRow]:
    periods = trends.week_periods(week)
    rows = trends.headline(
        trends.period_counts(con, flt, periods), trends.period_scores(con, flt, periods)
    )
    return {r.key: r for r in rows}


def test_headline_flags_the_planted_regression_and_filters_change_it(planted) -> None:
    rows = _headline(planted, EventFilter())
    neg = rows["negative"]
    assert neg.current.n == 1200 and neg.previous.n == 1200
    assert neg.current.value > neg.previous.value
    assert neg.vs_previous.significant and neg.verdict() == "worse"
    assert neg.current.lo < neg.current.value < neg.current.hi
    assert rows["error"].verdict() == stats.NO_CHANGE
    assert rows["score:llm_judge:helpfulness"].current.n == 300
    # The baseline (4 weeks before W2) holds only W1 here.
    assert neg.baseline.n == 1200
    cards = _headline(planted, EventFilter(tags=("topic:cards",)))
    assert cards["negative"].current.n == 600
    assert cards["negative"].verdict() == stats.NO_CHANGE


def test_min_n_guard_in_headline(con) -> None:
    add_events(con, start=W1, n=20, negative=0.1)
    add_events(con, start=W2, n=20, negative=0.9)
    rows = _headline(con, EventFilter())
    assert rows["negative"].verdict() == stats.TOO_LITTLE
    assert rows["negative"].current.n == 20


def test_series_has_intervals_and_thin_buckets(planted) -> None:
    add_events(planted, start=W2, n=10, model="model-c", tags=("topic:cards",))
    counts = trends_series.series_counts(planted, EventFilter(), "negative", "week", "model")
    frame = trends_series.with_intervals(counts, "rate")
    by = {(r["bucket"], r["split"]): r for r in frame.iter_rows(named=True)}
    b = by[(W2, "model-b")]
    assert b["n"] == 600 and b["lo"] < b["value"] < b["hi"] and not b["thin"]
    assert by[(W2, "model-c")]["thin"]
    assert (W1, "model-b") not in by
    tags = trends_series.series_counts(planted, EventFilter(), "latency", "day", "tag")
    assert set(tags["split"]) == {"topic:billing", "topic:cards"}
    assert tags["n"].sum() == 2410


def test_user_segment_split_and_score_series(planted) -> None:
    counts = trends_series.series_counts(planted, EventFilter(), "negative", "week", "user_segment")
    assert set(counts["split"]) == {"new user"}  # every fixture user is seen in one week only
    scores = trends_series.series_counts(
        planted, EventFilter(), "score:llm_judge:helpfulness", "week", "none"
    )
    assert scores["n"].to_list() == [300, 300]


def test_what_moved_finds_the_switch_and_nothing_else(planted) -> None:
    cur, prev, _ = trends.week_periods(W2)
    counts = trends_moved.segment_counts(planted, EventFilter(), "negative", cur, prev)
    res = trends_moved.what_moved(counts, better=trends.BETTER_DOWN)
    flagged = res.table.filter("flagged")
    labels = {(r["dims"], r["model"], r["tag"]) for r in flagged.iter_rows(named=True)}
    assert ("tag", None, "topic:billing") in labels
    assert (trends_moved.COMBO, "model-b", "topic:billing") in labels
    assert all(r["verdict"] == "worse" for r in flagged.iter_rows(named=True))
    assert not any(r["tag"] == "topic:cards" for r in flagged.iter_rows(named=True))
    combo = flagged.filter(pl_col_eq("model", "model-b")).row(0, named=True)
    assert combo["reference"] == trends_moved.NEW_MODEL and combo["n_ref"] == 600
    assert res.n_tested >= 5 and res.n_flagged == len(flagged)
    # Ranked by impact: the first flagged row moves the most events.
    impacts = [abs(v) for v in flagged["impact"]]
    assert impacts == sorted(impacts, reverse=True)
    flt = trends_moved.segment_filter(combo, EventFilter(), cur)
    assert flt.models == ("model-b",) and flt.tags == ("topic:billing",)
    assert flt.start == W2 and flt.end == W2 + dt.timedelta(days=6)


def pl_col_eq(name: str, value: str):
    import polars as pl

    return pl.col(name) == value


def test_first_appearance_markers(planted) -> None:
    firsts = trends.first_appearances(planted, EventFilter())
    assert firsts.filter(pl_col_eq("what", "model"))["value"].to_list() == ["model-b"]
    assert firsts["first_day"].to_list() == [W2]


def test_weeks_available(planted) -> None:
    assert trends.weeks_available(planted, EventFilter()) == [W2, W1]
    assert trends.weeks_available(planted, EventFilter(models=("model-b",))) == [W2]


def test_cluster_split_and_segments_once_clusters_exist(planted) -> None:
    assert not trends.has_clusters(planted)
    planted.execute(
        "INSERT INTO clusters (cluster_id, label, keywords, examples, size, centroid,"
        " embedder_id, active, first_run_id, last_run_id) VALUES"
        " (1, 'refunds', [], [], 0, [], 'fake', TRUE, 1, 1),"
        " (2, 'cards', [], [], 0, [], 'fake', TRUE, 1, 1)"
    )
    planted.execute(
        "INSERT INTO cluster_members SELECT event_id,"
        " CASE WHEN list_contains(tags, 'topic:billing') THEN 1 ELSE 2 END, 1.0"
        " FROM trend_facts"
    )
    assert trends.has_clusters(planted)
    counts = trends_series.series_counts(planted, EventFilter(), "negative", "week", "cluster")
    assert set(counts["split"]) == {"refunds", "cards"}
    assert set(counts["split_id"]) == {1, 2}
    cur, prev, _ = trends.week_periods(W2)
    res = trends_moved.what_moved(
        trends_moved.segment_counts(planted, EventFilter(), "negative", cur, prev),
        better=trends.BETTER_DOWN,
    )
    clusters = res.table.filter(pl_col_eq("dims", "cluster"))
    by_label = {r["cluster_label"]: r for r in clusters.iter_rows(named=True)}
    assert by_label["refunds"]["flagged"] and not by_label["cards"]["flagged"]
    flt = trends_moved.segment_filter(by_label["refunds"], EventFilter(), cur)
    assert flt.cluster_id == 1


def test_series_means_match_direct_sql(planted) -> None:
    frame = trends_series.series_counts(planted, EventFilter(), "latency", "week", "tag")
    direct = planted.execute(
        "SELECT week, tag, count(*), avg(latency_ms), stddev_samp(latency_ms) FROM"
        " (SELECT week, unnest(tags) AS tag, latency_ms FROM trend_facts) GROUP BY ALL"
    ).fetchall()
    got = {(r["bucket"], r["split"]): r for r in frame.iter_rows(named=True)}
    assert len(got) == len(direct) == 4
    for week, tag, n, mean, sd in direct:
        row = got[(week, tag)]
        assert row["n"] == n
        assert row["mean"] == pytest.approx(mean) and row["sd"] == pytest.approx(sd)


def test_combinations_identical_to_their_tag_are_not_tested_twice(planted) -> None:
    cur, prev, _ = trends.week_periods(W2)
    res = trends_moved.what_moved(
        trends_moved.segment_counts(planted, EventFilter(), "negative", cur, prev)
    )
    # (model-a, v1, topic:cards) holds exactly the events of topic:cards in both weeks.
    combos = res.table.filter(pl_col_eq("dims", trends_moved.COMBO))
    assert "topic:cards" not in set(combos["tag"])
    assert res.n_duplicates >= 1
    # The new model's combination is kept: it is compared with its predecessor.
    assert "model-b" in set(combos["model"])


def test_facts_filter_means_what_the_shared_filter_means(planted) -> None:
    add_events(planted, start=W2, n=40, tags=("topic:cards", "lang:de"))
    texts = add_events(planted, start=W2, n=30, tags=())
    # A text filter that matches some events, so it is compared on a count that is not 0.
    planted.execute(
        "UPDATE events SET input_text = 'please refund my card' WHERE event_id LIKE ? || '-1%'",
        [texts],
    )
    for flt in (
        EventFilter(tags=("topic:cards",)),
        EventFilter(tags=("lang:de", "topic:billing")),
        EventFilter(tags=("topic:cards",), models=("model-a",), start=W2),
        EventFilter(text="refund my"),
        EventFilter(text="nothing matches this"),
    ):
        ours, params = trends.facts_where(flt)
        theirs, their_params = where_sql(flt, "e")
        got = planted.execute(
            f"SELECT count(*) FROM trend_facts t WHERE {ours}", params
        ).fetchall()[0][0]
        want = planted.execute(
            f"SELECT count(*) FROM events e WHERE {theirs}", their_params
        ).fetchall()[0][0]
        assert got == want, flt
        assert (want > 0) == (flt.text != "nothing matches this"), flt

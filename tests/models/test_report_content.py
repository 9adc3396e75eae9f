"""The weekly report's content on a planted warehouse: the regression leads, the new topic
shows, the quiet week says so, and its numbers agree with scipy/statsmodels on the same counts."""

from __future__ import annotations

import datetime as dt

import pytest
from scipy.stats import fisher_exact
from statsmodels.stats.proportion import proportion_confint

from ingest.db import connect
from models.report.build import build_report
from models.report.model import (
    ReportError,
    from_dict,
    parse_week,
    to_dict,
    week_bounds,
)
from tests.models.report_fixtures import (
    NEW_TAG,
    NEW_TOPIC_WEEK,
    QUIET_WEEK,
    REGRESSION_WEEK,
    insert,
    plant,
)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "planted.duckdb"
    with connect(path) as con:
        plant(con)
    return path


@pytest.fixture
def ro(planted):
    with connect(planted, read_only=True) as con:
        yield con


def test_regression_week_leads_with_the_planted_regression(ro):
    report = build_report(ro, REGRESSION_WEEK, base_url="http://review.example:9000")
    assert not report.quiet
    assert report.summary[0].startswith("Regression in tag intent:billing")
    assert "gpt-4.1-mini" in report.summary[0]  # the model switch behind it is named
    top = report.regressions[0]
    assert top.key == "tag=intent:billing"
    billing = {s.metric: s for s in report.regressions if s.key == top.key}
    assert billing["thumbs_up"].value < billing["thumbs_up"].prev_value
    assert billing["negative"].value > billing["negative"].prev_value
    assert all(s.q_value < 0.05 for s in billing.values())
    assert billing["thumbs_up"].models_now == "gpt-4.1-mini 100%"
    # untouched groups are not flagged
    flagged = {s.key for s in (*report.regressions, *report.improvements)}
    assert "tag=intent:shipping" not in flagged and "tag=intent:account" not in flagged
    # worst-rated examples: this week's, from the segment, badly rated, linked to the app
    assert top.examples
    start, end = week_bounds(REGRESSION_WEEK)
    for ex in top.examples:
        assert "intent:billing" in ex.event_id
        assert start <= dt.datetime.fromisoformat(ex.ts) < end
        assert "thumbs down" in ex.signal
        assert ex.url.startswith("http://review.example:9000/events?event=")


def test_new_topic_week_shows_the_new_topic(ro):
    report = build_report(ro, NEW_TOPIC_WEEK, base_url="http://localhost:8501")
    new = [c for c in report.clusters if c.status == "new"]
    assert [c.label for c in new] == [NEW_TAG]
    assert any(NEW_TAG in line for line in report.summary)
    assert not report.regressions


def test_quiet_week_says_it_was_quiet(ro):
    report = build_report(ro, QUIET_WEEK, base_url="http://localhost:8501")
    assert report.quiet
    assert not (report.regressions or report.improvements or report.clusters)
    assert report.summary[0].startswith("A quiet week")
    assert report.segments_tested > 0  # quiet after testing, not for lack of tests


def test_headline_numbers_agree_with_reference_implementations(ro):
    report = build_report(ro, REGRESSION_WEEK, base_url="http://localhost:8501")
    start, end = week_bounds(REGRESSION_WEEK)
    prev_start, _ = week_bounds("2026-W43")

    def thumbs(lo, hi):
        return ro.execute(
            "SELECT count(*), sum(f.value) FROM feedback f JOIN events e USING (event_id) "
            "WHERE f.name = 'thumbs' AND e.ts >= ? AND e.ts < ?",
            [lo, hi],
        ).fetchone()

    n, up = thumbs(start, end)
    n0, up0 = thumbs(prev_start, start)
    m = {x.key: x for x in report.headline}["thumbs_up"]
    assert m.n == n and m.value == pytest.approx(up / n)
    lo, hi = proportion_confint(up, n, method="wilson")
    assert (m.lo, m.hi) == (pytest.approx(lo), pytest.approx(hi))
    p = fisher_exact([[int(up), n - int(up)], [int(up0), n0 - int(up0)]]).pvalue
    assert m.p_value == pytest.approx(p)
    assert m.verdict == "worse"


def test_round_trip_through_json_is_exact(ro):
    report = build_report(ro, REGRESSION_WEEK, base_url="http://localhost:8501")
    assert from_dict(to_dict(report)) == report


def test_reruns_and_verdicts_are_counted(db_path):
    with connect(db_path) as con:
        plant(con, per_group=40)
        monday = parse_week(REGRESSION_WEEK)
        ts = dt.datetime.combine(monday, dt.time(12), dt.UTC)
        originals = [
            r[0]
            for r in con.execute(
                "SELECT event_id FROM events WHERE ts >= ? ORDER BY event_id LIMIT 3", [ts]
            ).fetchall()
        ]
        reruns = [
            {
                "event_id": f"rr-{i}",
                "ts": ts,
                "model": "gpt-5",
                "tags": [],
                "status": st,
                "environment": "playground",
                "rerun_of": orig,
                "input_text": "q",
                "output_text": "a",
                "prompt_version": None,
                "latency_ms": 1.0,
                "cost_usd": 0.0,
            }
            for i, (orig, st) in enumerate(zip(originals, ("ok", "ok", "error"), strict=True))
        ]
        verdicts = [
            {
                "feedback_id": f"v{i}",
                "event_id": f"rr-{i}",
                "name": "verdict",
                "kind": "label",
                "label": label,
                "source": "reviewer",
                "ts": ts,
            }
            for i, label in enumerate(("better", "worse"))
        ]
        insert(con, reruns, verdicts)
        report = build_report(con, REGRESSION_WEEK, base_url="http://localhost:8501")
    (row,) = report.reruns
    assert (row.model, row.reruns, row.originals, row.errors) == ("gpt-5", 3, 3, 1)
    assert (row.better, row.same, row.worse, row.no_verdict) == (1, 0, 1, 1)
    # reruns are reported apart, never counted as production traffic
    assert report.n_events == 40 * 3


def test_empty_week_and_bad_week(db_path):
    with connect(db_path) as con:
        report = build_report(con, "2026-W10", base_url="http://localhost:8501")
        assert report.n_events == 0
        assert report.summary == ("No LLM events were logged in 2026-W10.",)
        with pytest.raises(ReportError, match="ISO week"):
            build_report(con, "2026-46")

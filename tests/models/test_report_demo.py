"""The weekly report on the shared demo data (ingest/demo/sample.py) against its planted truths: the
model-switch week leads with the planted regression, the new-topic week shows the new topic,
the error-spike week leads with the error rate, and unplanted weeks say they were quiet."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from ingest.demo.generate import generate
from models.report.build import build_report

URL = "http://localhost:8501"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report_demo")
    result = generate(tmp / "demo.jsonl", events=50_000, seed=0, end_date=dt.date(2026, 11, 22))
    db = tmp / "warehouse.duckdb"
    res = CliRunner().invoke(app, ["ingest", str(result.path), "--db", str(db)])
    assert res.exit_code == 0, res.output
    return db, result.truths


def _report(db, week):
    with connect(db, read_only=True) as con:
        return build_report(con, week, base_url=URL)


def test_model_switch_week_leads_with_the_planted_regression(demo):
    db, truths = demo
    planted = truths["planted"]["model_switch"]
    report = _report(db, planted["iso_week"])
    tag = planted["affected_tag"]
    assert report.summary[0].startswith(f"Regression in tag {tag}:")
    top = report.regressions[0]
    assert top.key == f"tag={tag}" and top.direction == "regression"
    assert top.models_now.startswith(planted["to_model"])
    assert top.models_before.startswith(planted["from_model"])
    flagged = {s.key for s in report.regressions}
    assert not flagged & {f"tag={t}" for t in planted["unaffected_tags"]}
    assert all(ex.model == planted["to_model"] for ex in top.examples)


def test_new_topic_week_shows_the_new_topic(demo):
    db, truths = demo
    planted = truths["planted"]["new_topic"]
    report = _report(db, planted["iso_week"])
    new = [c for c in report.clusters if c.status == "new"]
    assert [c.label for c in new] == [planted["tag"]]
    assert any(planted["tag"] in line for line in report.summary)


def test_error_spike_week_leads_with_the_error_rate(demo):
    db, truths = demo
    report = _report(db, truths["planted"]["error_spike"]["iso_week"])
    assert report.summary[0].startswith("Error rate got worse")
    assert {m.key: m for m in report.headline}["error"].verdict == "worse"


def test_unplanted_weeks_say_they_were_quiet(demo):
    db, truths = demo
    planted = {p["week"] for p in truths["planted"].values()}
    near = planted | {w + 1 for w in planted}  # the week after a change shows it reverting
    growing_from = truths["planted"]["new_topic"]["week"]  # the new topic keeps growing
    quiet = [
        c["iso_week"]
        for c in truths["calendar"]
        if 1 < c["week"] < growing_from and c["week"] not in near
    ]
    assert len(quiet) >= 3
    for week in quiet:
        report = _report(db, week)
        assert report.quiet, (week, report.summary)
        assert report.summary[0].startswith("A quiet week")

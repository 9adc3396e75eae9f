"""Freezing: a frozen report reopens with identical numbers after late feedback and new events,
and a comparison with a fresh regeneration shows exactly what changed since."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from models.report import snapshot
from models.report.build import build_report
from models.report.model import ReportError, parse_week, report_numbers
from tests.models.report_fixtures import REGRESSION_WEEK, insert, plant

URL = "http://localhost:8501"


@pytest.fixture
def planted(db_path):
    with connect(db_path) as con:
        plant(con, per_group=120)
    return db_path


def _late_downvotes(con, week: str, k: int) -> int:
    """Thumbs down arriving late on k voteless billing events of the week; returns k."""
    monday = parse_week(week)
    start = dt.datetime.combine(monday, dt.time(), dt.UTC)
    ids = [
        r[0]
        for r in con.execute(
            "SELECT event_id FROM events e WHERE e.ts >= ? AND e.ts < ? "
            "AND list_contains(e.tags, 'intent:billing') "
            "AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.event_id = e.event_id) "
            "ORDER BY event_id LIMIT ?",
            [start, start + dt.timedelta(days=7), k],
        ).fetchall()
    ]
    insert(
        con,
        [],
        [
            {
                "feedback_id": f"late-{i}",
                "event_id": i,
                "name": "thumbs",
                "kind": "vote",
                "value": 0.0,
                "source": "user",
                "ts": start + dt.timedelta(days=20),
            }
            for i in ids
        ],
    )
    return len(ids)


def _new_events(con, week: str, k: int) -> None:
    ts = dt.datetime.combine(parse_week(week), dt.time(9), dt.UTC)
    insert(
        con,
        [
            {
                "event_id": f"late-ev-{i}",
                "ts": ts,
                "model": "gpt-4o",
                "prompt_version": "v1",
                "input_text": "q",
                "output_text": "a",
                "tags": ["intent:shipping"],
                "status": "error",
                "latency_ms": 10.0,
                "cost_usd": 0.0,
                "environment": "production",
            }
            for i in range(k)
        ],
        [],
    )


def test_reopen_gives_identical_numbers_after_late_data(planted):
    with connect(planted) as con:
        frozen = snapshot.generate_and_freeze(con, REGRESSION_WEEK, base_url=URL)
        before = snapshot.frozen_numbers(con, frozen.report_id)
        assert {r.key for r in before} == {r.key for r in report_numbers(frozen.report)}
        late = _late_downvotes(con, REGRESSION_WEEK, 25)
        _new_events(con, REGRESSION_WEEK, 7)
    assert late == 25
    with connect(planted, read_only=True) as con:
        again = snapshot.reopen(con, frozen.report_id)
        assert again.report == frozen.report
        assert snapshot.frozen_numbers(con, frozen.report_id) == before
        fresh = build_report(con, REGRESSION_WEEK, base_url=URL)
        diff = snapshot.compare(con, frozen.report_id, fresh)
    old = {m.key: m for m in frozen.report.headline}
    new = {m.key: m for m in fresh.headline}
    assert new["thumbs_up"].n == old["thumbs_up"].n + 25
    changes = {c.key: c for c in diff.changes}
    thumbs = changes["headline/thumbs_up"]
    assert thumbs.before == pytest.approx(old["thumbs_up"].value)
    assert thumbs.after == pytest.approx(new["thumbs_up"].value)
    assert changes["events/n"].after - changes["events/n"].before == 7
    assert "headline/error" in changes
    assert diff.events_added == 7 and diff.events_removed == 0
    assert diff.late_feedback == 25
    assert not diff.unchanged


def test_compare_without_new_data_shows_no_change(planted):
    with connect(planted) as con:
        frozen = snapshot.generate_and_freeze(con, REGRESSION_WEEK, base_url=URL)
        diff = snapshot.compare(
            con, frozen.report_id, build_report(con, REGRESSION_WEEK, base_url=URL)
        )
    assert diff.unchanged and diff.changes == () and diff.late_feedback == 0


def test_each_generation_is_a_new_snapshot_and_listed(planted):
    with connect(planted) as con:
        a = snapshot.generate_and_freeze(con, REGRESSION_WEEK, base_url=URL)
        b = snapshot.generate_and_freeze(con, "2026-W45", base_url=URL)
        listed = snapshot.list_reports(con)
        stored = con.execute(
            "SELECT count(*) FROM report_events WHERE report_id = ? AND role <> 'example'",
            [a.report_id],
        ).fetchone()[0]
        with pytest.raises(ReportError, match="not 2026-W45"):
            snapshot.compare(con, a.report_id, build_report(con, "2026-W45", base_url=URL))
        with pytest.raises(ReportError, match="no frozen report 999"):
            snapshot.reopen(con, 999)
    assert listed["report_id"].to_list() == [b.report_id, a.report_id]
    assert listed["lead"][1].startswith("Regression in tag intent:billing")
    # the ids behind the numbers: this week's and the previous week's events
    assert stored == 2 * 3 * 120


def test_cli_freezes_reopens_and_diffs(planted, tmp_path):
    runner = CliRunner()
    out = tmp_path / "w44.html"
    res = runner.invoke(
        app,
        [
            "report",
            "--week",
            REGRESSION_WEEK,
            "--db",
            str(planted),
            "--out",
            str(out),
            "--base-url",
            URL,
        ],
    )
    assert res.exit_code == 0, res.output
    assert "frozen as report #1" in res.output
    assert "Regression in tag intent:billing" in out.read_text()
    with connect(planted) as con:
        _late_downvotes(con, REGRESSION_WEEK, 10)
    res = runner.invoke(app, ["report", "--reopen", "1", "--diff", "--db", str(planted)])
    assert res.exit_code == 0, res.output
    assert "Frozen report #1" in res.output
    assert "## What changed since the meeting" in res.output
    assert "10 late feedback rows" in res.output
    assert "| Thumbs-up rate (of voted events) |" in res.output
    res = runner.invoke(app, ["report", "--list", "--db", str(planted)])
    assert res.exit_code == 0 and f"#1  {REGRESSION_WEEK}" in res.output
    res = runner.invoke(
        app, ["report", "--week", REGRESSION_WEEK, "--no-freeze", "--db", str(planted)]
    )
    assert res.exit_code == 0 and "frozen as" not in res.output
    with connect(planted, read_only=True) as con:
        assert snapshot.list_reports(con).height == 1
    res = runner.invoke(app, ["report", "--db", str(planted)])
    assert isinstance(res.exception, ReportError)
    res = runner.invoke(
        app,
        [
            "report",
            "--week",
            REGRESSION_WEEK,
            "--db",
            str(planted),
            "--out",
            str(tmp_path / "x.pdf"),
            "--no-freeze",
        ],
    )
    assert isinstance(res.exception, ReportError)

"""The stored live report (models.report.stored): the Weekly page reads it while the warehouse is
unchanged, rebuilds after any write, never stores a report built across a write, and gives the
links the reader's address."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from dashboard.queries import weekly
from ingest.db import connect
from models.report import stored
from models.report.build import build_report
from models.report.model import to_dict, week_bounds
from tests.models import report_fixtures

WEEK = report_fixtures.REGRESSION_WEEK
BASE = "http://10.1.2.3:8600"


@pytest.fixture()
def planted(tmp_path):
    path = tmp_path / "planted.duckdb"
    with connect(path) as con:
        report_fixtures.plant(con, per_group=120)
    return path


def _live(path, week=WEEK, base=BASE):
    with connect(path, read_only=True) as con:
        return weekly.live_report(con, week, base)


def _comparable(report) -> dict:
    data = to_dict(report)
    data.pop("generated_at")
    return data


def test_first_open_builds_and_stores_then_the_file_is_what_is_read(planted):
    first = _live(planted)
    file = stored.folder(planted) / f"{WEEK}.json"
    assert file.exists()
    with connect(planted, read_only=True) as con:
        fresh = build_report(con, WEEK, base_url=BASE)
    assert _comparable(first) == _comparable(fresh)  # storing changes nothing in the report

    # The second open reads the file: a mark written into it shows up.
    body = json.loads(file.read_text())
    body["report"]["summary"] = ["read from the stored file"]
    file.write_text(json.dumps(body))
    assert _live(planted).summary == ("read from the stored file",)


def test_links_carry_the_readers_address_not_the_placeholder(planted):
    _live(planted, base=BASE)
    text = (stored.folder(planted) / f"{WEEK}.json").read_text()
    assert stored.PLACEHOLDER in text and BASE not in text
    other = "https://review.example.com/rd/"
    report = _live(planted, base=other)
    dumped = json.dumps(to_dict(report))
    assert stored.PLACEHOLDER not in dumped
    assert report.base_url == other.rstrip("/")
    urls = [x.url for r in report.regressions for x in r.examples]
    urls += [r.explorer_url for r in report.regressions]
    assert urls and all(u.startswith(other.rstrip("/") + "/events?") for u in urls)


def test_any_write_makes_the_stored_report_stale(planted):
    _live(planted)
    file = stored.folder(planted) / f"{WEEK}.json"
    body = json.loads(file.read_text())
    body["report"]["summary"] = ["stale"]
    file.write_text(json.dumps(body))
    with connect(planted) as con:  # a late thumbs-down on one of the week's events
        start, end = week_bounds(WEEK)
        eid = con.execute(
            "SELECT event_id FROM events WHERE ts >= ? AND ts < ? ORDER BY event_id LIMIT 1",
            [start, end],
        ).fetchall()[0][0]
        report_fixtures.insert(con, [], [{
            "feedback_id": "late-1", "event_id": eid, "name": "thumbs", "kind": "vote",
            "value": 0.0, "source": "user", "ts": end + dt.timedelta(days=3),
        }])
    again = _live(planted)
    assert again.summary != ("stale",)
    assert json.loads(file.read_text())["stamp"] != body["stamp"]  # rebuilt and stored anew


def test_a_report_built_across_a_write_is_not_stored(planted, monkeypatch):
    real = stored.build_report

    def build_while_a_writer_commits(con, week, **kw):
        report = real(con, week, **kw)
        # The stamp moves mid-build, as when an ingest commits meanwhile (a file write stands
        # in for it: a second process cannot write while this one reads).
        wal = planted.with_name(planted.name + ".wal")
        wal.write_bytes(wal.read_bytes() if wal.exists() else b"")
        planted.touch()
        return report

    monkeypatch.setattr(stored, "build_report", build_while_a_writer_commits)
    with connect(planted, read_only=True) as con:
        _, kept = stored.build_and_store(con, planted, WEEK)
    assert not kept
    assert not (stored.folder(planted) / f"{WEEK}.json").exists()


def test_an_unreadable_or_foreign_file_is_a_miss_not_an_error(planted):
    folder = stored.folder(planted)
    folder.mkdir()
    (folder / f"{WEEK}.json").write_text("{ not json")
    assert stored.load(planted, WEEK, BASE) is None
    report = _live(planted)  # rebuilds and replaces the broken file
    assert report.week == WEEK
    body = json.loads((folder / f"{WEEK}.json").read_text())
    body["format"] = "weekly-report/0"
    (folder / f"{WEEK}.json").write_text(json.dumps(body))
    assert stored.load(planted, WEEK, BASE) is None


def test_in_memory_warehouse_builds_without_storing():
    import duckdb

    from ingest.migrations import migrate

    con = duckdb.connect()
    migrate(con)
    report_fixtures.plant(con, per_group=40)
    assert stored.database_path(con) is None
    assert weekly.live_report(con, WEEK, BASE).week == WEEK


def test_a_partial_weeks_report_is_good_only_until_the_week_ends(planted):
    _live(planted)
    file = stored.folder(planted) / f"{WEEK}.json"
    body = json.loads(file.read_text())
    start, end = week_bounds(WEEK)
    body["valid_until"] = end.isoformat()  # as stored for a partial week
    file.write_text(json.dumps(body))
    assert stored.load(planted, WEEK, BASE, now=end - dt.timedelta(seconds=1)) is not None
    assert stored.load(planted, WEEK, BASE, now=end) is None

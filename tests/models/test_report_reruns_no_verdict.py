"""A week whose reruns have no reviewer verdict yet still reports them (count_if over no rows is
NULL in DuckDB 2.0; the report must count it as zero, not crash)."""

from ingest.db import connect
from models.report.build import build_report
from tests.e2e.seed import HOSTILE_RERUN_ID, seed


def test_reruns_without_verdicts_are_counted_as_unreviewed(tmp_path):
    db = seed(tmp_path / "w.duckdb", n=30)
    with connect(db) as con:
        con.execute("DELETE FROM feedback WHERE name = 'verdict'")
        week = con.execute(
            "SELECT strftime(ts, '%G-W%V') FROM events WHERE event_id = ?", [HOSTILE_RERUN_ID]
        ).fetchone()[0]
        report = build_report(con, week)
    rows = report.reruns
    assert sum(r.reruns for r in rows) >= 1
    assert sum(r.no_verdict for r in rows) == sum(r.reruns for r in rows)
    assert sum(r.better + r.same + r.worse for r in rows) == 0

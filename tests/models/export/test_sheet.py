"""CSV sheets for a filter: the rows the filter matches, feedback folded in, and logged text that
a spreadsheet would run as a formula kept as text."""

from __future__ import annotations

import csv
import json

from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from tests.models.export.export_data import copy_db


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_csv_for_a_filter_matches_the_warehouse(demo_db, tmp_path):
    db = copy_db(demo_db, tmp_path)
    with connect(db) as con:
        eid = con.execute("SELECT event_id FROM events WHERE status = 'ok' ORDER BY ts LIMIT 1"
                          ).fetchone()[0]
        con.execute("UPDATE events SET output_text = '=HYPERLINK(\"http://x\")' "
                    "WHERE event_id = ?", [eid])
        con.execute("INSERT INTO feedback (feedback_id, event_id, name, kind, value, source, ts)"
                    " VALUES ('down1', ?, 'thumbs', 'vote', 0, 'user', now())", [eid])
    out = tmp_path / "sheets"
    res = CliRunner().invoke(app, ["export", "csv", "--where", "feedback=thumbs_down",
                                   "--out", str(out), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    with connect(db, read_only=True) as con:
        expected = {r[0] for r in con.execute(
            "SELECT DISTINCT e.event_id FROM events e JOIN feedback f USING (event_id)"
            " WHERE f.name = 'thumbs' AND f.value = 0 AND e.kind = 'llm' AND e.rerun_of IS NULL"
        ).fetchall()}
        n_feedback = con.execute(
            "SELECT count(*) FROM feedback WHERE event_id IN (SELECT unnest(?))",
            [sorted(expected)]).fetchone()[0]
    events = _read(out / "events.csv")
    assert {r["event_id"] for r in events} == expected and len(events) == len(expected)
    assert summary["rows"] == {"events": len(expected), "feedback": n_feedback}
    assert len(_read(out / "feedback.csv")) == n_feedback
    row = next(r for r in events if r["event_id"] == eid)
    assert row["output_text"] == "'=HYPERLINK(\"http://x\")"
    assert row["negative"] == "true" and row["thumbs"] == "0.0"
    assert "topic:" in row["tags"] and "[" not in row["tags"]
    assert set(events[0]) >= {"ts", "model", "input_text", "cost_usd", "latency_ms", "cluster"}

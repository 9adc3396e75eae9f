"""The loader's guarantees: idempotent, incremental, the dedup rule, late feedback, foreign rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from ingest.db import connect
from ingest.load.loader import load_parsed, load_source
from ingest.load.read import Source
from ingest.records import ParsedFile, Reject


def event(i: int, **extra) -> dict:
    return {
        "event_id": f"e{i}",
        "ts": "2026-11-02T09:00:00Z",
        "model": "m",
        "input_messages": [{"role": "user", "content": f"q{i}"}],
        **extra,
    }


def write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def load(db_path: Path, path: Path):
    return load_source(db_path, Source(str(path), path))


def snapshot(db_path: Path) -> dict[str, list]:
    with connect(db_path, read_only=True) as con:
        return {
            t: con.execute(f"SELECT * EXCLUDE (ingested_at) FROM {t} ORDER BY ALL").fetchall()
            for t in ("events", "feedback")
        } | {"rejects": con.execute("SELECT * FROM rejects ORDER BY ALL").fetchall()}


def test_same_file_twice_changes_nothing_and_new_files_append(db_path, tmp_path):
    a = write(
        tmp_path / "a.jsonl",
        [event(1, feedback=[{"name": "thumbs", "value": 0}]), event(2), {"bad": 1}],
    )
    first = load(db_path, a)
    before = snapshot(db_path)
    again = load(db_path, a)
    assert again.skipped and not first.skipped
    copy = tmp_path / "copy-of-a.jsonl"
    copy.write_bytes(a.read_bytes())
    assert load(db_path, copy).skipped  # known by content, whatever the name
    assert snapshot(db_path) == before

    b = write(tmp_path / "b.jsonl", [event(2), event(3)])
    result = load(db_path, b)
    assert (result.read, result.events_inserted, result.duplicate) == (2, 1, 1)
    with connect(db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(3,)]
        files = con.execute(
            "SELECT path, lines_read, events_inserted, feedback_inserted, duplicates, rejected "
            "FROM ingested_files ORDER BY file_id"
        ).fetchall()
    assert files == [(str(a), 3, 2, 1, 0, 1), (str(b), 2, 1, 0, 1, 0)]


def test_duplicate_ids_identical_are_counted_different_are_rejected(db_path, tmp_path):
    load(db_path, write(tmp_path / "a.jsonl", [event(1), event(2)]))
    result = load(
        db_path,
        write(
            tmp_path / "b.jsonl",
            [
                event(1),  # same as in the warehouse → duplicate
                event(2, model="other"),  # differs from the warehouse → reject, warehouse wins
                event(3),
                event(3),  # repeated in the batch, identical → one duplicate
                event(4),
                event(4, model="x"),  # repeated, different → the first wins
            ],
        ),
    )
    assert (result.events_inserted, result.duplicate, result.rejected) == (2, 2, 2)
    with connect(db_path, read_only=True) as con:
        models = dict(con.execute("SELECT event_id, model FROM events").fetchall())
        rejects = con.execute("SELECT line_no, reason FROM rejects ORDER BY line_no").fetchall()
    assert models == {"e1": "m", "e2": "m", "e3": "m", "e4": "m"}
    assert rejects == [
        (2, "duplicate event_id with different content"),
        (6, "duplicate event_id with different content"),
    ]


def test_feedback_resent_is_a_duplicate_and_a_changed_id_row_is_rejected(db_path, tmp_path):
    vote = {"type": "feedback", "event_id": "e1", "name": "thumbs", "value": 1}
    named = {"type": "feedback", "feedback_id": "f1", "event_id": "e1", "name": "copied"}
    load(db_path, write(tmp_path / "a.jsonl", [vote, named]))
    result = load(db_path, write(tmp_path / "b.jsonl", [vote, dict(named, value=0.5)]))
    assert (result.feedback_inserted, result.duplicate, result.rejected) == (0, 1, 1)
    with connect(db_path, read_only=True) as con:
        reasons = con.execute("SELECT reason FROM rejects").fetchall()
        n = con.execute("SELECT count(*) FROM feedback").fetchall()
    assert reasons == [("duplicate feedback_id with different content",)] and n == [(2,)]


def test_feedback_arriving_before_its_event_attaches_when_the_event_arrives(db_path, tmp_path):
    late = [
        {"type": "feedback", "event_id": "e7", "name": "thumbs", "value": 0},
        {"type": "feedback", "event_id": "e7", "name": "regenerated"},
    ]
    load(db_path, write(tmp_path / "feedback.jsonl", late))
    query = (
        "SELECT e.event_id, count(f.feedback_id) FROM events e "
        "JOIN feedback f USING (event_id) GROUP BY ALL"
    )
    with connect(db_path, read_only=True) as con:
        assert con.execute(query).fetchall() == []
    load(db_path, write(tmp_path / "events.jsonl", [event(7)]))
    with connect(db_path, read_only=True) as con:
        assert con.execute(query).fetchall() == [("e7", 2)]


def test_rows_from_a_foreign_reader_get_the_same_rules(db_path):
    ts = datetime(2026, 11, 2, 9, tzinfo=UTC)
    parsed = ParsedFile(
        source_format="otlp",
        events=[
            {
                "event_id": "s1",
                "ts": ts,
                "input_messages": [{"role": "user", "content": "hi"}],
                "raw": {"span": 1},
                "tags": ["a"],
            },
            {"event_id": "s1", "ts": ts, "model": "changed"},
        ],
        feedback=[
            {
                "event_id": "s1",
                "name": "helpfulness",
                "kind": "score",
                "value": 0.5,
                "source": "llm_judge",
            }
        ],
        rejects=[Reject(3, "span without a start time", "{...}")],
        records_read=3,
    )
    result = load_parsed(db_path, parsed, label="spans.json", content_hash="h1")
    assert (result.read, result.events_inserted, result.feedback_inserted) == (3, 1, 1)
    assert result.rejected == 2
    with connect(db_path, read_only=True) as con:
        got = con.execute("SELECT source_format, raw, input_messages, tags FROM events").fetchall()
        fb_id = con.execute("SELECT feedback_id FROM feedback").fetchall()[0][0]
    assert got[0][0] == "otlp" and json.loads(got[0][1]) == {"span": 1}
    assert json.loads(got[0][2]) == [{"role": "user", "content": "hi"}] and got[0][3] == ["a"]
    assert fb_id.startswith("fb_")
    assert load_parsed(db_path, parsed, label="again", content_hash="h1").skipped

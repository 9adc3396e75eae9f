"""Native lines whose optional keys are null: the JSON Schema accepts them, the loader loads them,
and a cost given without a cost_source is recorded as 'provided' (docs/schema.md)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from ingest.db import connect
from ingest.load.loader import load_source
from ingest.load.read import Source

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "ingest" / "load" / "native_event.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text())
OPTIONAL_EVENT_KEYS = [
    k for k in SCHEMA["$defs"]["event"]["properties"] if k not in ("event_id", "ts")
]
OPTIONAL_FEEDBACK_KEYS = ["feedback_id", "kind", "value", "label", "source", "comment",
                          "correction", "author", "ts"]  # fmt: skip


def _load(db_path: Path, tmp_path: Path, lines: list[dict]):
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return load_source(db_path, Source(str(path), path))


def test_every_optional_key_null_validates_and_loads(db_path: Path, tmp_path: Path) -> None:
    ev = {"event_id": "e1", "ts": "2026-11-02T09:00:00Z", **dict.fromkeys(OPTIONAL_EVENT_KEYS)}
    fb = {"type": "feedback", "event_id": "e1", "name": "thumbs",
          **dict.fromkeys(OPTIONAL_FEEDBACK_KEYS)}  # fmt: skip
    for line in (ev, fb):
        jsonschema.validate(line, SCHEMA)
    r = _load(db_path, tmp_path, [ev, fb])
    assert (r.events_inserted, r.feedback_inserted, r.rejected) == (1, 1, 0)
    with connect(db_path, read_only=True) as con:
        row = con.execute(
            "SELECT kind, status, params, input_messages, tags, tokens_in, cost_source, raw "
            "FROM events"
        ).fetchall()
    assert row == [("llm", "ok", None, None, None, None, None, None)]


def test_cost_without_source_is_provided(db_path: Path, tmp_path: Path) -> None:
    lines = [
        {"event_id": "a", "ts": "2026-11-02T09:00:00Z", "cost_usd": 0.25},
        {"event_id": "b", "ts": "2026-11-02T09:00:00Z", "cost_usd": 0.25,
         "cost_source": "computed"},
        {"event_id": "c", "ts": "2026-11-02T09:00:00Z"},
        # A numeric string and a compact timestamp: the lenient conversions keep the default.
        {"event_id": "d", "ts": "20261102T090000Z", "cost_usd": "0.5"},
    ]  # fmt: skip
    r = _load(db_path, tmp_path, lines)
    assert (r.events_inserted, r.rejected) == (4, 0)
    with connect(db_path, read_only=True) as con:
        got = con.execute("SELECT event_id, cost_source FROM events ORDER BY event_id").fetchall()
    assert got == [("a", "provided"), ("b", "computed"), ("c", None), ("d", "provided")]

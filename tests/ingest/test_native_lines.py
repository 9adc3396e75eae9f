"""Native JSONL: what each kind of line becomes, and that a good line is never lost."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.db import connect
from ingest.load.loader import load_source
from ingest.load.read import Source


def event(i: int, **extra) -> dict:
    return {
        "event_id": f"e{i}",
        "ts": "2026-11-02T09:00:00Z",
        "model": "gpt-4o-mini",
        "input_messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": f"question {i}"},
        ],
        "output_messages": [{"role": "assistant", "content": f"answer {i}"}],
        "tokens_in": 10 + i,
        "cost_usd": 0.001,
        "tags": ["topic:x"],
        **extra,
    }


def write(path: Path, lines: list) -> Path:
    with open(path, "wb") as fh:
        for line in lines:
            if isinstance(line, bytes):
                fh.write(line + b"\n")
            elif isinstance(line, str):
                fh.write(line.encode() + b"\n")
            else:
                fh.write(json.dumps(line).encode() + b"\n")
    return path


def load(db_path: Path, path: Path, **kw):
    return load_source(db_path, Source(str(path), path), **kw)


def rows(db_path: Path, sql: str, params=()) -> list[tuple]:
    with connect(db_path, read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_good_lines_survive_every_kind_of_bad_neighbour(db_path, tmp_path):
    huge = event(90, output_messages=[{"role": "assistant", "content": "x" * 3_000_000}])
    lines = [
        event(1),
        b'{"event_id": "bad-utf8", "ts": "2026-11-02T09:00:00Z", "model": "\xff\xfe"}',
        event(2),
        '{"event_id": "e-broken", "ts": ',
        event(3, tokens_in="many"),
        event(4),
        {"ts": "2026-11-02T09:00:00Z"},
        {"event_id": "no-ts"},
        '{"event_id": "nan", "ts": "2026-11-02T09:00:00Z", "latency_ms": NaN}',
        '{"event_id": "inf", "ts": "2026-11-02T09:00:00Z", "cost_usd": Infinity}',
        "",
        "   ",
        "[1, 2, 3]",
        huge,
        event(5, ts="not a time"),
        event(6, input_messages={"role": "user"}),
        event(7, kind="robot"),
        event(8, tokens_out=2.5),
        event(9),
    ]
    path = write(tmp_path / "mixed.jsonl", lines)
    result = load(db_path, path)

    ids = {r[0] for r in rows(db_path, "SELECT event_id FROM events")}
    assert ids == {"e1", "e2", "e4", "e90", "e9"}
    rejects = dict(rows(db_path, "SELECT line_no, reason FROM rejects"))
    assert rejects == {
        2: "invalid UTF-8",
        4: "malformed JSON",
        5: "tokens_in: expected an integer",
        7: "missing event_id",
        8: "missing ts",
        9: "latency_ms: expected a finite number",
        10: "cost_usd: expected a finite number",
        13: "not a JSON object",
        15: "ts: not an ISO-8601 timestamp or Unix time",
        16: "input_messages: expected an array of messages",
        17: "kind: expected one of llm, tool, agent, chain, retrieval, embedding, other",
        18: "tokens_out: expected an integer",
    }
    assert (result.read, result.events_inserted, result.rejected) == (17, 5, 12)
    long_text = rows(db_path, "SELECT length(output_text) FROM events WHERE event_id = 'e90'")
    assert long_text == [(3_000_000,)]
    raw_texts = rows(db_path, "SELECT raw_text FROM rejects WHERE line_no = 4")
    assert raw_texts == [('{"event_id": "e-broken", "ts": ',)]


def test_columns_derived_text_and_raw_hold_what_the_format_promises(db_path, tmp_path):
    lines = [
        event(1, app_build="2026.11", **{"a/b": {"deep": [1]}}),
        {
            "event_id": 42,
            "ts": 1762074000,  # 2025-11-02T09:00:00Z
            "input_messages": [
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "reply"},
                {"role": "user", "content": [{"type": "text", "text": "last "}, "turn"]},
            ],
            "error_type": "timeout",
            "params": {"temperature": 0.2},
        },
    ]
    load(db_path, write(tmp_path / "a.jsonl", lines))
    got = rows(
        db_path,
        "SELECT event_id, ts, input_text, output_text, raw, status, kind, source_format, tags, "
        "params FROM events ORDER BY event_id",
    )
    assert got[0][0] == "42"
    assert got[0][1] == datetime(2025, 11, 2, 9, tzinfo=UTC)
    assert got[0][2] == "last turn"  # the LAST user turn, its text parts joined
    assert got[0][3] is None and got[0][4] is None  # no output, no unknown keys → no raw
    assert (got[0][5], got[0][6], got[0][7]) == ("error", "llm", "native")
    assert json.loads(got[0][9]) == {"temperature": 0.2}
    assert got[1][2:4] == ("question 1", "answer 1")
    assert json.loads(got[1][4]) == {"app_build": "2026.11", "a/b": {"deep": [1]}}
    assert got[1][8] == ["topic:x"]


_EPOCH = int(datetime(2026, 11, 2, 9, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-02T10:00:00+01:00",
        "2026-11-02T09:00:00Z",
        "2026-11-02t09:00:00z",
        "2026-11-02 09:00:00",
        "2026-11-02T11:00:00+0200",
        "2026-11-02 04:00:00.000000000 -0500",
        "20261102T090000Z",
        _EPOCH,
        _EPOCH * 1000,
        _EPOCH * 1_000_000_000,
    ],
)
def test_timestamps_in_odd_but_valid_forms_are_normalised_to_utc(db_path, tmp_path, text):
    load(db_path, write(tmp_path / "t.jsonl", [event(1, ts=text)]))
    assert rows(db_path, "SELECT ts FROM events") == [(datetime(2026, 11, 2, 9, tzinfo=UTC),)]


def test_fast_and_slow_paths_store_the_same_row(db_path, tmp_path):
    # A JSON null sends a line through the key-by-key path; the row must not differ for it.
    base = event(1, tokens_out="7", latency_ms=True, user_id=12, extra_key=[1, "a"])
    slow = dict(base, event_id="e2", error_type=None)
    load(db_path, write(tmp_path / "p.jsonl", [base, slow]))
    with connect(db_path, read_only=True) as con:
        a, b = (
            con.execute(
                f"SELECT * EXCLUDE (event_id) FROM events WHERE event_id = '{i}'"
            ).fetchall()
            for i in ("e1", "e2")
        )
    assert a == b and len(a) == 1


def test_feedback_embedded_and_on_its_own_lines(db_path, tmp_path):
    lines = [
        event(1, feedback=[{"name": "thumbs", "value": True}, {"name": "mystery"}]),
        {"type": "feedback", "event_id": "e1", "name": "helpfulness", "kind": "score",
         "value": 0.8, "source": "llm_judge", "comment": "fine"},
        {"type": "feedback", "event_id": "e1", "name": "helpfulness", "value": "high"},
        {"type": "survey", "event_id": "e1"},
    ]  # fmt: skip
    load(db_path, write(tmp_path / "f.jsonl", lines))
    fb = rows(db_path, "SELECT name, kind, value, source FROM feedback ORDER BY name")
    assert fb == [("helpfulness", "score", 0.8, "llm_judge"), ("thumbs", "vote", 1.0, "user")]
    rejects = rows(db_path, "SELECT line_no, reason FROM rejects ORDER BY line_no")
    assert rejects == [
        (1, "feedback[1]: missing kind; missing source"),
        (3, "value: expected a finite number; missing kind; missing source"),
        (4, 'type: expected "event" or "feedback"'),
    ]


def test_gzip_and_crlf_files(db_path, tmp_path):
    body = (json.dumps(event(1)) + "\r\n" + json.dumps(event(2)) + "\r\n").encode()
    path = tmp_path / "log.jsonl.gz"
    path.write_bytes(gzip.compress(body))
    result = load(db_path, path)
    assert (result.events_inserted, result.rejected) == (2, 0)
    assert rows(db_path, "SELECT count(*) FROM events WHERE model = 'gpt-4o-mini'") == [(2,)]

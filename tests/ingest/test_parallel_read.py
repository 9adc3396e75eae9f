"""A big OTLP JSON Lines file read in several processes loads exactly as read in one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.db import connect
from ingest.formats import read_foreign
from ingest.load import parallel_read
from ingest.load.loader import load_parsed, load_source
from ingest.load.read import Source
from tests.ingest.test_formats_otlp import doc, kv, span


def _lines() -> list[bytes]:
    evaluation = {"name": "gen_ai.evaluation.result", "timeUnixNano": "1700000002000000000",
                  "attributes": [kv("gen_ai.evaluation.name", "Relevance"),
                                 kv("gen_ai.evaluation.score.value", 0.5)]}  # fmt: skip
    lines = []
    for i in range(40):
        spans = []
        for j in range(3):
            n = i * 3 + j
            message = {"role": "user", "parts": [{"type": "text", "content": f"q{n}"}]}
            attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                     "gen_ai.usage.input_tokens": 10 + n, "gen_ai.usage.output_tokens": 5,
                     "gen_ai.input.messages": json.dumps([message])}  # fmt: skip
            spans.append(
                span(attrs, span_id=f"{n + 1:016x}", events=[evaluation] if j == 0 else [])
            )
        lines.append(json.dumps(doc(*spans)).encode())
    # Late in the file, in a worker's slice: a line that is not JSON, a span without an id, the
    # same span again (a duplicate) and a span id reused with other content (a reject).
    lines[33] = b'{"resourceSpans": [truncated'
    lines[35] = json.dumps(doc(span({"gen_ai.operation.name": "chat"}, spanId=""))).encode()
    lines[37] = lines[2]
    lines[38] = json.dumps(
        doc(span({"gen_ai.request.model": "other"}, span_id=f"{4:016x}"))
    ).encode()
    return lines


def _tables(db: Path) -> dict[str, list[tuple]]:
    with connect(db, read_only=True) as con:
        return {
            "events": con.execute(
                "SELECT * EXCLUDE (file_id, ingested_at) FROM events ORDER BY event_id"
            ).fetchall(),
            "feedback": con.execute(
                "SELECT * EXCLUDE (file_id, ingested_at) FROM feedback ORDER BY feedback_id"
            ).fetchall(),
            "rejects": con.execute(
                "SELECT line_no, reason FROM rejects ORDER BY line_no, reason"
            ).fetchall(),
            "files": con.execute(
                "SELECT lines_read, events_inserted, feedback_inserted, duplicates, rejected "
                "FROM ingested_files"
            ).fetchall(),
        }


def test_pieces_and_processes_load_what_one_piece_loads(tmp_path, monkeypatch):
    path = tmp_path / "spans.jsonl"
    path.write_bytes(b"\n".join(_lines()) + b"\n")
    # The reference: the whole file read in one piece, then loaded.
    reference = tmp_path / "reference.duckdb"
    with connect(reference):
        pass
    data = path.read_bytes()
    load_parsed(reference, read_foreign("otlp", path, data), label=str(path), content_hash="x")
    results = {}
    calls = []
    real = parallel_read.read_otlp
    monkeypatch.setattr(
        parallel_read, "read_otlp", lambda *a: calls.append(a[2]) or real(*a), raising=True
    )
    monkeypatch.setattr(parallel_read, "MIN_BYTES", 0)
    # This process reads its slice in pieces of ~3 lines; workers use their own default.
    monkeypatch.setattr(parallel_read, "PIECE_BYTES", 3 * len(data) // 40)
    for processes in ("1", "3"):
        monkeypatch.setenv("REVIEWDECK_INGEST_PROCESSES", processes)
        db = tmp_path / f"w{processes}.duckdb"
        with connect(db):
            pass
        load_source(db, Source(str(path), path))
        results[processes] = _tables(db)
    assert calls == [1, 3]  # both loads went through the sliced reader
    one = _tables(reference)
    assert results["1"] == one and results["3"] == one
    assert len(one["events"]) == 40 * 3 - 4 * 3  # four lines of three spans replaced
    reasons = dict(one["rejects"])
    assert "not JSON" in reasons[34] and "spanId" in reasons[36]
    assert any("duplicate event_id with different content" in r for r in reasons.values())
    assert one["files"][0][3] == 3 + 1  # the repeated line's three spans and its evaluation
    assert len(one["feedback"]) == 40 - 4  # one evaluation per original line


def test_pieces_cut_at_newlines_and_number_lines():
    data = b"".join(f'{{"n": {i}}}\n'.encode() * (i % 3 + 1) for i in range(50))
    cuts = parallel_read.pieces(data, 30)
    assert len(cuts) > 5 and b"".join(data[lo:hi] for _, lo, hi in cuts) == data
    assert all(data[hi - 1 : hi] == b"\n" for _, _, hi in cuts)
    assert all(hi - lo >= 30 for _, lo, hi in cuts[:-1])  # at least the size, up to a newline
    for (first, lo, hi), (nxt, _, _) in zip(cuts, cuts[1:], strict=False):
        assert nxt == first + data.count(b"\n", lo, hi)
    assert cuts[0][0] == 1
    # The last piece keeps a final line without a newline.
    assert parallel_read.pieces(b'{"a": 1}\n{"b": 2}', 4)[-1][1:] == (9, 17)


@pytest.mark.parametrize("value", ["0", "two"])
def test_bad_process_count_is_named(monkeypatch, value):
    monkeypatch.setenv("REVIEWDECK_INGEST_PROCESSES", value)
    if value == "two":
        with pytest.raises(ValueError, match="REVIEWDECK_INGEST_PROCESSES"):
            parallel_read.worker_count()
    else:
        assert parallel_read.worker_count() == 1


def test_a_broken_first_line_fails_the_file_as_in_one_piece(tmp_path, monkeypatch):
    from ingest.errors import InputError

    lines = _lines()
    lines[0] = lines[0][:-2] + b" }"  # still looks like one object, but is not JSON
    path = tmp_path / "spans.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(parallel_read, "MIN_BYTES", 0)
    assert parallel_read.splittable(path.read_bytes())
    messages = []
    for processes in ("1", "2"):
        monkeypatch.setenv("REVIEWDECK_INGEST_PROCESSES", processes)
        db = tmp_path / f"w{processes}.duckdb"
        with pytest.raises(InputError, match="line 1 is not JSON") as err:
            load_source(db, Source(str(path), path))
        messages.append(str(err.value))
    assert all(str(path) in m for m in messages)

"""Native JSONL carries the feedback columns of evaluators and reviewers (migration 006):
evaluator_version, judge_model, cost_usd, queue_id and tags, on embedded rows and feedback
lines, by the fast path and the slow one; a bad value is a reject naming the key."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.db import connect
from ingest.load.loader import load_source
from ingest.load.read import Source

JUDGE = {"name": "resolves_issue", "kind": "score", "value": 0.0, "label": "fail",
         "source": "llm_judge", "author": "gpt-4.1", "evaluator_version": "1",
         "judge_model": "gpt-4.1", "cost_usd": 0.0012}  # fmt: skip
REVIEW = {"type": "feedback", "event_id": "e1", "feedback_id": "rv1", "name": "resolves_issue",
          "kind": "label", "value": 0.0, "label": "fail", "source": "reviewer",
          "author": "maria.k", "queue_id": 7, "tags": ["hallucination", "incomplete"],
          "ts": "2026-11-03T10:00:00Z"}  # fmt: skip


def _event(i: int, feedback: list) -> dict:
    return {"event_id": f"e{i}", "ts": "2026-11-02T09:00:00Z", "input_text": f"q{i}",
            "output_text": f"a{i}", "feedback": feedback}  # fmt: skip


def _load(db: Path, path: Path, lines: list) -> None:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    load_source(db, Source(str(path), path))


def _rows(db: Path, sql: str) -> list[tuple]:
    with connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_new_columns_are_stored_from_embedded_rows_and_lines(db_path, tmp_path) -> None:
    _load(db_path, tmp_path / "a.jsonl", [_event(1, [{**JUDGE, "feedback_id": "j1"}]), REVIEW])
    got = _rows(db_path, "SELECT feedback_id, evaluator_version, judge_model, cost_usd, queue_id,"
                         " tags FROM feedback ORDER BY feedback_id")  # fmt: skip
    assert got == [("j1", "1", "gpt-4.1", 0.0012, None, None),
                   ("rv1", None, None, None, 7, ["hallucination", "incomplete"])]  # fmt: skip
    assert _rows(db_path, "SELECT count(*) FROM rejects") == [(0,)]


def test_the_derived_id_ignores_them(db_path, tmp_path) -> None:
    """A row's id without feedback_id is a hash of the pre-006 parts, so ids of older files
    do not change: two rows that differ only in the new columns get the same id."""
    plain = {k: v for k, v in JUDGE.items() if k not in ("evaluator_version", "judge_model",
                                                          "cost_usd")}  # fmt: skip
    _load(db_path, tmp_path / "a.jsonl", [_event(1, [plain, JUDGE])])
    assert _rows(db_path, "SELECT evaluator_version FROM feedback") == [(None,)]
    assert _rows(db_path, "SELECT reason FROM rejects") == [
        ("duplicate feedback_id with different content",)]


def test_bad_values_are_rejects_naming_the_key(db_path, tmp_path) -> None:
    bad_queue = {**REVIEW, "feedback_id": "rv2", "queue_id": "seven"}
    bad_tags = {**REVIEW, "feedback_id": "rv3", "tags": "hallucination"}
    bad_cost = {**JUDGE, "feedback_id": "j9", "cost_usd": "lots"}
    _load(db_path, tmp_path / "a.jsonl", [_event(1, [bad_cost]), bad_queue, bad_tags, REVIEW])
    reasons = sorted(r for (r,) in _rows(db_path, "SELECT reason FROM rejects"))
    assert reasons == ["feedback[0]: cost_usd: expected a finite number",
                       "queue_id: expected an integer", "tags: expected an array of strings"]
    assert _rows(db_path, "SELECT feedback_id FROM feedback") == [("rv1",)]

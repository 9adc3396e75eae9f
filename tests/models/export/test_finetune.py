"""The fine-tune file: every line a valid OpenAI chat example ending in an assistant turn; the
newest correction replaces the answer; failed and unusable calls are left out and counted."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from models.export.finetune import export_finetune, validate_line
from models.filters import parse_where
from tests.models.export.export_data import copy_db

SYSTEM = {"role": "system", "content": "You are a bank assistant."}
TOOLS = [{"type": "function", "function": {"name": "card_status", "parameters": {
    "type": "object", "properties": {"card": {"type": "string"}}}}}]


def _event(con, eid, inputs, outputs, *, status="ok", params=None, output_text=None, day=1):
    con.execute(
        "INSERT INTO events (event_id, ts, model, input_messages, output_messages, output_text,"
        " params, status, source_format, tags) VALUES (?, ?, 'gpt-4o', ?, ?, ?, ?, ?, 'native',"
        " ['topic:cards'])",
        [eid, f"2026-11-{day:02d} 10:00+00", json.dumps(inputs), json.dumps(outputs),
         output_text, json.dumps(params or {"temperature": 0.2}), status])


def _correction(con, eid, text, ts):
    con.execute(
        "INSERT INTO feedback (feedback_id, event_id, name, kind, value, source, correction, ts)"
        " VALUES (?, ?, 'correction', 'correction', 0.4, 'reviewer', ?, ?)",
        [f"c-{eid}-{ts}", eid, text, ts])


@pytest.fixture
def hand_db(db_path):
    user = {"role": "user", "content": "Why was my card declined?"}
    with connect(db_path) as con:
        _event(con, "plain", [SYSTEM, user], [{"role": "assistant", "content": "Old answer."}])
        _event(con, "fixed", [SYSTEM, user], [{"role": "assistant", "content": "Wrong."}], day=2)
        _correction(con, "fixed", "First fix.", "2026-11-03 09:00+00")
        _correction(con, "fixed", "The newest fix.", "2026-11-04 09:00+00")
        _correction(con, "fixed", "   ", "2026-11-05 09:00+00")  # blank: not an answer
        _event(con, "failed", [user], [], status="error", day=3)
        _correction(con, "failed", "A fix for a failed call.", "2026-11-04 09:00+00")
        _event(con, "empty", [user], [{"role": "assistant", "content": ""}], day=4)
        _event(con, "image", [{"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}],
            [{"role": "assistant", "content": "A card."}], day=5)
        _event(con, "system_only", [SYSTEM], [{"role": "assistant", "content": "Hi"}], day=6)
        _event(con, "tools", [SYSTEM, user, {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "card_status", "arguments": {"card": "visa"}}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "blocked"},
            {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]}],
            [{"role": "assistant", "content": "Your card is blocked. Key sk-" + "x9" * 12}],
            params={"temperature": 0, "tools": TOOLS}, day=7)
    return db_path


def test_lines_corrections_tools_and_what_is_left_out(hand_db, tmp_path):
    out = tmp_path / "ft.jsonl"
    res = CliRunner().invoke(app, ["export", "finetune", "--where", "start=2026-11-01",
                                   "--out", str(out), "--db", str(hand_db), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["left_out"] == {"empty_output": 1, "error": 1, "no_user_turn": 1,
                                   "non_text_content": 1}
    assert set(summary["left_out_reasons"]) == set(summary["left_out"])
    assert (summary["written"], summary["corrected"], summary["with_tools"]) == (3, 1, 1)
    assert summary["redacted"] == 1

    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 3
    for line in lines:
        assert validate_line(line) == []
        assert line["messages"][-1]["role"] == "assistant"
        assert all(m["role"] in ("system", "user", "assistant", "tool") for m in line["messages"])
    plain, fixed, tools = lines
    assert plain["messages"] == [SYSTEM, {"role": "user", "content": "Why was my card declined?"},
                                 {"role": "assistant", "content": "Old answer."}]
    assert fixed["messages"][-1] == {"role": "assistant", "content": "The newest fix."}
    assert tools["tools"] == TOOLS
    call = tools["messages"][2]
    assert call["tool_calls"][0]["function"] == {"name": "card_status",
                                                 "arguments": '{"card": "visa"}'}
    assert "content" not in call
    assert tools["messages"][3] == {"role": "tool", "tool_call_id": "call_1", "content": "blocked"}
    assert tools["messages"][4] == {"role": "system", "content": "Be brief."}  # developer
    assert tools["messages"][-1]["content"] == "Your card is blocked. Key [redacted]"

    text = CliRunner().invoke(app, ["export", "finetune", "--out", str(out),
                                    "--db", str(hand_db)])
    assert "left out 4 event(s):" in text.output
    assert "1  error: the call failed (status error)" in text.output


def test_validate_line_names_what_is_wrong():
    assert validate_line({"messages": [{"role": "user", "content": "q"}]}) == [
        "the last message must be a non-empty assistant turn"]
    assert "message 0: role must be one of system, user, assistant, tool" in validate_line(
        {"messages": [{"role": "robot", "content": "q"},
                      {"role": "assistant", "content": "a"}]})
    assert "message 0: content must be a string" in validate_line(
        {"messages": [{"role": "user", "content": ["q"]}, {"role": "assistant", "content": "a"}]})
    assert "no user message" in validate_line({"messages": [{"role": "assistant", "content": "a"}]})
    assert validate_line({"messages": [{"role": "user", "content": "q"},
                                       {"role": "assistant", "content": "a"}]}) == []


def test_demo_set_every_line_valid_and_every_event_accounted(demo_db, tmp_path):
    db = copy_db(demo_db, tmp_path)
    where = "tag=topic:billing"
    result = export_finetune(db, parse_where(where), tmp_path / "ft.jsonl", page=50)
    with connect(db, read_only=True) as con:
        n, errors, corrected = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'error'),"
            " count(*) FILTER (WHERE status = 'ok' AND event_id IN (SELECT event_id FROM"
            " feedback WHERE kind = 'correction')) FROM events"
            " WHERE list_contains(tags, 'topic:billing') AND kind = 'llm' AND rerun_of IS NULL"
        ).fetchone()
    assert n > 100 and errors > 0  # several pages, and failures to leave out
    assert result.written + sum(result.left_out.values()) == n
    assert result.left_out.get("error") == errors
    assert result.corrected == corrected > 0
    lines = (tmp_path / "ft.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == result.written
    assert all(validate_line(json.loads(x)) == [] for x in lines)

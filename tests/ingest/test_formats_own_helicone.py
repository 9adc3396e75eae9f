"""Helicone request exports (tests/data/helicone/requests.jsonl, assembled by make_helicone.py
in Helicone's documented export schema around the real openai SDK's traffic through a recording
proxy: no package writes this export). Every field of every record, scores as feedback, and bad
records that cost only themselves."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.db import connect
from ingest.errors import InputError
from ingest.formats import detect_format, read_foreign
from ingest.records import ParsedFile
from tests.conftest import DATA
from tests.ingest.weather_exchange import ANSWER, CALLS, HISTORY, NOT_FOUND, TEST, pick

PATH = DATA / "helicone" / "requests.jsonl"
SESSION = "5a1e9d0c-3f43-4b6e-9d59-0c7a2b1e5f11"


def records() -> list[dict]:
    return [json.loads(line) for line in PATH.read_text().splitlines()]


def parse(path: Path = PATH) -> ParsedFile:
    data = path.read_bytes()
    assert detect_format(path, data[:65536]) == "helicone", path
    return read_foreign("helicone", path, data)


def clickhouse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)


def test_every_field_of_every_record():
    parsed = parse()
    assert (parsed.records_read, parsed.rejects) == (4, [])
    missing, stream, answer, tools = parsed.events  # the export is newest first
    for row, rec, n in zip(parsed.events, records(), (4, 3, 2, 1), strict=True):
        assert row["event_id"] == rec["request_id"] == f"1e11c0e0-0000-0000-0000-00000000000{n}"
        assert (row["trace_id"], row["session_id"], row["parent_id"]) == (SESSION, SESSION, None)
        assert row["ts"] == clickhouse(rec["request_created_at"])
        assert row["ts_end"] == clickhouse(rec["response_created_at"])
        assert (row["latency_ms"], row["ttft_ms"]) == (
            float(rec["delay_ms"]), float(rec["time_to_first_token"]))  # fmt: skip
        assert (row["kind"], row["provider"], row["name"]) == ("llm", "openai", "chat.completions")
        assert (row["user_id"], row["environment"], row["tags"]) == (
            "user-9", "fixtures", ["Feature:weather-bot"])  # fmt: skip
        assert row["source_format"] == "helicone" and row["raw"] == rec
    assert (answer["prompt_name"], answer["prompt_version"]) == ("weather-answer", "3")
    assert all(r["prompt_name"] is None and r["prompt_version"] is None
               for r in (missing, stream, tools))  # fmt: skip

    ok = {"status": "ok", "error_type": None, "error_message": None}
    assert pick(tools) == {
        "model": "gpt-4o-mini-2024-07-18", "model_requested": "gpt-4o-mini",
        "input_messages": HISTORY[:2],
        "output_messages": [{"role": "assistant", "content": None, "tool_calls": CALLS}],
        "input_text": "Weather in Paris?", "output_text": None,
        "params": {"max_tokens": 100, "temperature": 0.2}, "tokens_in": 18, "tokens_out": 24,
        "tokens_cache_read": 0, "tokens_reasoning": 0, "cost_source": "computed", **ok}  # fmt: skip
    assert tools["cost_usd"] == pytest.approx((18 * 0.15 + 24 * 0.60) / 1e6)
    assert pick(answer) == {
        "model": "gpt-4o-mini-2024-07-18", "model_requested": "gpt-4o-mini",
        "input_messages": HISTORY, "output_messages": [{"role": "assistant", "content": ANSWER}],
        "input_text": "Weather in Paris?", "output_text": ANSWER,
        "params": {"max_tokens": 100, "temperature": 0.2}, "tokens_in": 144, "tokens_out": 10,
        "tokens_cache_read": 0, "tokens_reasoning": 0, "cost_source": "computed", **ok}  # fmt: skip
    assert answer["cost_usd"] == pytest.approx((144 * 0.15 + 10 * 0.60) / 1e6)
    assert pick(stream) == {
        "model": "gpt-4", "model_requested": "gpt-4", "input_messages": TEST,
        "output_messages": [{"role": "assistant", "content": "This is a test."}],
        "input_text": "Say this is a test", "output_text": "This is a test.",
        "params": {"stream": True}, "tokens_in": 9, "tokens_out": 5, "tokens_cache_read": 0,
        "tokens_reasoning": 0, "cost_source": "computed", **ok}  # fmt: skip
    assert stream["cost_usd"] == pytest.approx((9 * 30 + 5 * 60) / 1e6)
    # a 404: Helicone's zero token columns on a failed call are no count
    assert pick(missing) == {
        "model": "this-model-does-not-exist", "model_requested": "this-model-does-not-exist",
        "input_messages": TEST, "output_messages": None, "input_text": "Say this is a test",
        "output_text": None, "params": None, "tokens_in": None, "tokens_out": None,
        "tokens_cache_read": None, "tokens_reasoning": None, "cost_source": None,
        "status": "error", "error_type": "model_not_found", "error_message": NOT_FOUND}  # fmt: skip
    assert missing["cost_usd"] is None and missing["raw"]["response_status"] == 404


def test_scores_become_feedback():
    parsed = parse()
    answer = parsed.events[2]
    when = clickhouse(records()[2]["updated_at"])
    assert sorted(parsed.feedback, key=lambda f: f["name"]) == [
        {"feedback_id": f"{answer['event_id']}:accuracy", "event_id": answer["event_id"],
         "trace_id": None, "name": "accuracy", "kind": "score", "value": 90.0, "label": None,
         "source": "code", "comment": None, "ts": when, "source_format": "helicone"},
        {"feedback_id": f"{answer['event_id']}:helicone-score-feedback",
         "event_id": answer["event_id"], "trace_id": None, "name": "thumbs", "kind": "vote",
         "value": 1.0, "label": "up", "source": "user", "comment": None, "ts": when,
         "source_format": "helicone"},
    ]  # fmt: skip


def write(tmp_path: Path, rows: list, name: str = "export.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_variants_the_export_writes(tmp_path):
    """A streamed body kept only as its chunks, an export without --include-body, Helicone's
    own cost, a legacy feedback rating, and a JSON array file (`--format json`)."""
    tools, answer, stream = records()[3], records()[2], records()[1]
    chunks_only = {**stream, "request_id": "r-chunks",
                   "response_body": {"streamed_data": stream["response_body"]["streamed_data"]}}
    placeholder = {"helicone_message": "fetching body from signed_url... contact engineering"}
    no_body = {**tools, "request_id": "r-no-body", "request_body": placeholder,
               "response_body": placeholder, "cost": 0.000123,
               "scores": {"grounded-hcone-bool": 0},
               "feedback_rating": False, "feedback_id": "fb-1",
               "feedback_created_at": "2026-01-02 03:04:05.000"}  # fmt: skip
    path = tmp_path / "export.json"
    path.write_text(json.dumps([chunks_only, no_body], indent=2))
    parsed = parse(path)
    assert parsed.rejects == []
    chunked, bare = parsed.events
    assert chunked["output_messages"] == [{"role": "assistant", "content": "This is a test."}]
    assert (chunked["tokens_in"], chunked["tokens_out"]) == (9, 5)
    # no bodies: Helicone's columns give the model and the tokens, its cost is kept
    assert (bare["input_messages"], bare["output_messages"]) == (None, None)
    assert (bare["model"], bare["model_requested"]) == ("gpt-4o-mini", "gpt-4o-mini")
    assert (bare["tokens_in"], bare["tokens_out"], bare["tokens_cache_read"]) == (18, 24, 0)
    assert (bare["cost_usd"], bare["cost_source"]) == (0.000123, "provided")
    grounded, rating = parsed.feedback
    # a boolean score: Helicone's "-hcone-bool" key suffix, stored as 1/0
    assert (grounded["name"], grounded["kind"], grounded["value"], grounded["label"]) == (
        "grounded", "score", 0.0, "false")  # fmt: skip
    assert (rating["feedback_id"], rating["name"], rating["kind"], rating["value"]) == (
        "fb-1", "thumbs", "vote", 0.0)  # fmt: skip
    assert rating["ts"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    del answer


def test_bad_records_are_rejected_with_their_line_and_the_rest_kept(tmp_path):
    good = records()
    rows = [
        good[0],
        "{truncated",
        {**good[1], "request_id": None},
        {**good[2], "request_id": "r-no-time", "request_created_at": None},
        "17",
        {**good[3], "request_id": "r-bad-score", "scores": {"accuracy": "high"}},
        {**good[3], "request_id": "r-bad-body", "request_body": [1, 2]},
        {**good[3], "request_id": "r-bad-props", "properties": "x", "request_properties": "x"},
        good[3],
    ]
    parsed = parse(write(tmp_path, rows))
    assert [r["event_id"] for r in parsed.events] == [good[0]["request_id"],
                                                      good[3]["request_id"]]  # fmt: skip
    reasons = [(r.line_no, r.reason) for r in parsed.rejects]
    assert reasons[0][0] == 2 and reasons[0][1].startswith("not JSON (")
    assert reasons[1:] == [
        (3, "record has no request_id"),
        (4, "request r-no-time: record has no request_created_at"),
        (5, "record is not a JSON object"),
        (6, "request r-bad-score: score 'accuracy' is not a number: 'high'"),
        (7, "request r-bad-body: request_body is not a JSON object"),
        (8, "request r-bad-props: properties is not an object"),
    ]
    assert parsed.records_read == 9


def test_a_truncated_json_export_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(records(), indent=2)[:-40])
    with pytest.raises(InputError, match=r"export\.json: malformed or truncated JSON"):
        read_foreign("helicone", path, path.read_bytes())


def test_end_to_end_through_the_cli_with_secrets_scrubbed(tmp_path, db_path):
    from typer.testing import CliRunner

    from dashboard.cli import app

    rows = records()
    rows[0]["request_properties"]["api_key"] = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"
    rows[0]["request_body"]["user"] = "Bearer abcdefghijklmnopqrstuvwxyz0123"
    path = write(tmp_path, rows)
    result = CliRunner().invoke(app, ["ingest", "--db", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    with connect(db_path, read_only=True) as con:
        got = con.execute(
            "SELECT event_id, status, tokens_in, session_id FROM events ORDER BY ts"
        ).fetchall()
        assert [g[1:] for g in got] == [("ok", 18, SESSION), ("ok", 144, SESSION),
                                        ("ok", 9, SESSION), ("error", None, SESSION)]
        raw = con.execute(
            "SELECT raw FROM events WHERE event_id = ?", [rows[0]["request_id"]]
        ).fetchone()[0]
        assert json.loads(raw)["request_properties"]["api_key"] == "[redacted]"
        assert "abcdefghijklmnop" not in raw
        fb = con.execute("SELECT name, kind, value, source FROM feedback ORDER BY 1").fetchall()
        assert fb == [("accuracy", "score", 90.0, "code"), ("thumbs", "vote", 1.0, "user")]

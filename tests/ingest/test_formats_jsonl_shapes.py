"""JSON Lines shapes written around one real record: Langfuse observations and scores of every
data type (around an observation from the project's own Langfuse fixture), OpenAI Responses logs
and streamed chunk lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.formats import detect_format, read_foreign
from tests.conftest import DATA


def load(tmp_path: Path, name: str, records: list) -> tuple[str, object]:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    fmt = detect_format(path, path.read_bytes())
    return fmt, read_foreign(fmt, path, path.read_bytes())


def test_langfuse_observations_and_scores_jsonl(tmp_path):
    export = json.loads((DATA / "langfuse/trace_export.json").read_text())
    generation = next(o for o in export["observations"] if o["usageDetails"]
                      and o["usageDetails"]["input"] == 144)  # fmt: skip
    gid = generation["id"]
    scores = [
        {"id": "s1", "traceId": "t", "observationId": gid, "name": "ok",
         "value": 1, "stringValue": "True", "dataType": "BOOLEAN", "source": "API"},
        {"id": "s2", "traceId": "t", "name": "tone", "value": 0, "stringValue": "polite",
         "dataType": "CATEGORICAL", "source": "ANNOTATION", "authorUserId": "ann"},
        {"id": "s3", "traceId": "t", "name": "quality", "value": 0.25, "dataType": "NUMERIC",
         "source": "EVAL", "comment": "meh", "timestamp": "2025-01-01T00:00:00.000Z"},
        {"id": "s4", "name": "broken", "dataType": "NUMERIC"},
    ]  # fmt: skip
    fmt, parsed = load(tmp_path, "lf.jsonl", [generation, *scores])
    assert fmt == "langfuse"
    (row,) = parsed.events
    assert (row["event_id"], row["kind"], row["tokens_in"], row["tokens_out"]) == (
        gid,
        "llm",
        144,
        10,
    )
    assert row["output_text"] == "It is rainy in Paris, 14°C."
    fb = {f["feedback_id"]: f for f in parsed.feedback}
    assert (fb["s1"]["event_id"], fb["s1"]["trace_id"], fb["s1"]["value"]) == (gid, None, 1.0)
    assert (fb["s1"]["source"], fb["s1"]["label"]) == ("code", "True")
    assert (fb["s2"]["kind"], fb["s2"]["label"], fb["s2"]["source"]) == (
        "label",
        "polite",
        "reviewer",
    )
    assert (fb["s3"]["kind"], fb["s3"]["value"], fb["s3"]["source"]) == ("score", 0.25, "llm_judge")
    assert fb["s3"]["trace_id"] == "t" and fb["s3"]["comment"] == "meh"
    (reject,) = parsed.rejects
    assert "s4" not in fb and "no observationId or traceId" in reject.reason
    assert parsed.records_read == 5


def test_openai_responses_and_streamed_chunks(tmp_path):
    responses = {
        "request": {"model": "gpt-4.1", "instructions": "Be short.", "input": "Hi there",
                    "max_output_tokens": 50, "metadata": {"user_id": "u1", "session_id": "s1",
                                                          "topic": "greeting"}},
        "response": {"id": "resp_1", "object": "response", "created_at": 1750000000,
                     "model": "gpt-4.1-2025-04-14",
                     "output": [{"type": "message", "role": "assistant",
                                 "content": [{"type": "output_text", "text": "Hello!"}]}],
                     "usage": {"input_tokens": 20, "output_tokens": 3,
                               "input_tokens_details": {"cached_tokens": 10},
                               "output_tokens_details": {"reasoning_tokens": 0}}},
    }  # fmt: skip
    chunk = {"id": "c9", "object": "chat.completion.chunk", "created": 1750000001,
             "model": "gpt-4o-mini-2024-07-18"}  # fmt: skip
    streamed = {
        "request": {"model": "gpt-4o-mini", "stream": True,
                    "messages": [{"role": "user", "content": "weather?"}]},
        "response": [
            {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [
                {"index": 0, "id": "call_1", "function": {"name": "get", "arguments": '{"ci'}}]}}]},
            {**chunk, "choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "function": {"arguments": 'ty": 1}'}}]},
                "finish_reason": "tool_calls"}]},
            {**chunk, "choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": 4}},
        ],
    }  # fmt: skip
    fmt, parsed = load(tmp_path, "oai.jsonl", [responses, streamed])
    assert fmt == "openai" and parsed.rejects == []
    resp, stream = parsed.events
    assert resp["input_messages"] == [{"role": "system", "content": "Be short."},
                                      {"role": "user", "content": "Hi there"}]  # fmt: skip
    assert (resp["output_text"], resp["tokens_in"], resp["tokens_cache_read"]) == ("Hello!", 20, 10)
    assert (resp["user_id"], resp["session_id"], resp["tags"]) == ("u1", "s1", ["topic:greeting"])
    assert resp["params"] == {"max_tokens": 50}
    # gpt-4.1: $2 in, $0.50 cached, $8 out per 1M
    assert resp["cost_usd"] == pytest.approx((10 * 2 + 10 * 0.5 + 3 * 8) / 1e6)
    (call,) = stream["output_messages"][0]["tool_calls"]
    assert call == {"id": "call_1", "type": "function",
                    "function": {"name": "get", "arguments": '{"city": 1}'}}  # fmt: skip
    assert (stream["event_id"], stream["tokens_in"], stream["tokens_out"]) == ("c9", 8, 4)

"""The project's own OpenAI fixtures (tests/data/openai, made by tests/data/make_openai.py with
the openai SDK against a local server): request/response logs (Chat Completions, Responses,
streamed chunks, an error, a response alone), VCR cassettes vcrpy recorded, a Batch pair."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.formats import detect_format, read_foreign
from ingest.records import ParsedFile
from tests.conftest import DATA

ANSWER = "It is rainy in Paris, 14°C."
NOT_FOUND = ("The model `this-model-does-not-exist` does not exist or you do not have access "
             "to it.")  # fmt: skip
CREATED = datetime(2026, 1, 1, tzinfo=UTC)  # the local server's clock


def parse(rel: str, fmt: str = "openai") -> ParsedFile:
    path = DATA / rel
    data = path.read_bytes()
    assert detect_format(path, data[:65536]) == fmt, rel
    parsed = read_foreign(fmt, path, data)
    assert parsed.rejects == [], rel
    return parsed


def test_request_response_logs():
    parsed = parse("openai/logs.jsonl")
    assert parsed.records_read == 6
    tools, answer, responses, stream, error, alone = parsed.events
    # Chat Completions with two tool calls; user, session and tags from the request
    assert (tools["event_id"], tools["model"], tools["model_requested"]) == (
        "chatcmpl-local0003", "gpt-4o-mini-2024-07-18", "gpt-4o-mini")  # fmt: skip
    assert (tools["tokens_in"], tools["tokens_out"], tools["ts"]) == (8, 24, CREATED)
    calls = tools["output_messages"][0]["tool_calls"]
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in calls] == [
        ("call_0001", "get_weather", '{"city": "Paris"}'),
        ("call_0002", "get_population", '{"city": "Paris"}'),
    ]
    assert (tools["user_id"], tools["session_id"], tools["tags"]) == (
        "user-7", "sess-1", ["topic:weather"])  # fmt: skip
    assert tools["params"] == {"user": "user-7"}
    assert [m["role"] for m in answer["input_messages"]] == ["user", "assistant", "tool", "tool"]
    assert answer["input_messages"][2] == {"role": "tool", "content": "rainy, 14°C",
                                           "tool_call_id": "call_0001"}  # fmt: skip
    assert (answer["output_text"], answer["tokens_in"], answer["tokens_out"]) == (ANSWER, 134, 10)
    assert answer["cost_usd"] == pytest.approx((134 * 0.15 + 10 * 0.60) / 1e6)
    # Responses API: instructions become the system message
    assert (responses["event_id"], responses["name"], responses["model"]) == (
        "resp_0007", "responses", "gpt-4.1-2025-04-14")  # fmt: skip
    assert responses["input_messages"] == [
        {"role": "system", "content": "Be short."},
        {"role": "user", "content": "Write a haiku about ducks."},
    ]
    assert responses["output_text"] == (
        "Still pond at dawn,\nducks draw lines on silver glass,\nripples"
    )
    assert (responses["tokens_in"], responses["tokens_out"], responses["params"]) == (
        9, 13, {"max_tokens": 50})  # fmt: skip
    assert (responses["user_id"], responses["session_id"]) == ("user-8", "sess-2")
    assert responses["cost_usd"] == pytest.approx((9 * 2 + 13 * 8) / 1e6)
    # streamed chunks: tool-call fragments joined, the usage chunk kept
    (call,) = stream["output_messages"][0]["tool_calls"]
    assert call == {
        "id": "call_0010",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    assert (stream["event_id"], stream["tokens_in"], stream["tokens_out"]) == (
        "chatcmpl-local0011", 8, 12)  # fmt: skip
    assert stream["params"] == {"stream": True}
    # the error the SDK raised, logged with its body
    assert (error["status"], error["error_type"], error["error_message"]) == (
        "error", "model_not_found", NOT_FOUND)  # fmt: skip
    assert error["ts"] == datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)
    assert error["event_id"].startswith("openai:") and error["cost_usd"] is None
    # a response object alone: no request, so no input and no requested model
    assert (alone["event_id"], alone["output_text"], alone["model_requested"]) == (
        "chatcmpl-local0014", "This is a test.", None)  # fmt: skip
    assert alone["cost_usd"] == pytest.approx((9 * 2.5 + 5 * 10) / 1e6)


def test_cassette_tool_calls():
    (row,) = parse("openai/cassette_tool_calls.yaml").events
    assert (row["event_id"], row["model"], row["tokens_in"], row["tokens_out"]) == (
        "chatcmpl-local0003", "gpt-4o-mini-2024-07-18", 8, 24)  # fmt: skip
    assert row["input_text"] == "Weather in Paris?" and row["latency_ms"] == 250.0
    calls = row["output_messages"][0]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_population"]
    # headers are not kept: the cassette's request is stored without them
    assert "headers" not in row["raw"]["request"]


def test_cassette_streaming_reassembled():
    (row,) = parse("openai/cassette_streaming.yaml").events
    assert (row["event_id"], row["output_messages"]) == (
        "chatcmpl-local0005", [{"role": "assistant", "content": "This is a test."}])  # fmt: skip
    assert (row["tokens_in"], row["tokens_out"], row["model"]) == (9, 5, "gpt-4")
    assert (row["params"], row["ts"]) == ({"stream": True}, CREATED)
    assert row["cost_usd"] == pytest.approx((9 * 30 + 5 * 60) / 1e6)


def test_cassette_404_is_model_not_found():
    (row,) = parse("openai/cassette_404.yaml").events
    assert (row["status"], row["error_type"], row["error_message"]) == (
        "error", "model_not_found", NOT_FOUND)  # fmt: skip
    assert row["event_id"] == "req_0007"  # the x-request-id header
    assert row["ts"] == datetime(2026, 12, 1, 21, 47, 55, tzinfo=UTC)  # the Date header
    assert row["cost_usd"] is None and row["output_messages"] is None


def test_batch_pair_joined_on_custom_id():
    parsed = parse("openai/batch/batch_output.jsonl", "openai_batch")
    assert parsed.records_read == 4 and all(e["raw"]["joined"] for e in parsed.events)
    ok = parsed.events[:3]
    assert [e["name"] for e in parsed.events] == [f"batch request-{i}" for i in range(1, 5)]
    assert [(e["tokens_in"], e["tokens_out"]) for e in ok] == [(16, 10), (17, 5), (18, 13)]
    assert [e["output_text"] for e in ok] == [
        ANSWER,
        "This is a test.",
        "Still pond at dawn,\nducks draw lines on silver glass,\nripples",
    ]
    for row in ok:
        assert (row["model"], row["model_requested"]) == ("gpt-4o-2024-08-06", "gpt-4o")
        assert row["params"] == {"max_tokens": 200, "temperature": 0}
        assert row["input_messages"][0] == {"role": "system", "content": "You are terse."}
        assert row["ts"] == CREATED
    # gpt-4o at half price (Batch API)
    assert sum(e["cost_usd"] for e in ok) == pytest.approx((51 * 2.5 + 28 * 10) / 1e6 / 2)
    failed = parsed.events[3]
    assert (failed["status"], failed["error_type"], failed["error_message"]) == (
        "error", "model_not_found", NOT_FOUND)  # fmt: skip
    assert failed["params"] == {"max_tokens": 200} and failed["input_text"] == "hi"
    inputs = parse("openai/batch/batch_input.jsonl", "openai_batch")
    assert inputs.records_read == 4 and inputs.events == []

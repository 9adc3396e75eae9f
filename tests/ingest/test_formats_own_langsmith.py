"""The project's own LangSmith fixtures (tests/data/langsmith, captured by
tests/data/make_langsmith.py from the langsmith SDK): {post, patch} batch payloads, the same runs
as JSON Lines, and feedback."""

from __future__ import annotations

import json

import pytest

from ingest.formats import detect_format, read_foreign
from ingest.records import ParsedFile
from tests.conftest import DATA


def parse(rel: str) -> ParsedFile:
    path = DATA / rel
    data = path.read_bytes()
    assert detect_format(path, data[:65536]) == "langsmith", rel
    parsed = read_foreign("langsmith", path, data)
    assert parsed.rejects == [], rel
    return parsed


def test_the_payloads_split_a_run_into_post_and_patch():
    payloads = [json.loads(line) for line in (DATA / "langsmith/runs_batch.jsonl").open()]
    posted = {r["id"] for p in payloads for r in p.get("post") or []}
    patched = {r["id"] for p in payloads for r in p.get("patch") or []}
    assert len(posted) == 6 and len(patched) == 1 and patched <= posted


@pytest.mark.parametrize("rel", ["langsmith/runs_batch.jsonl", "langsmith/runs.jsonl"])
def test_runs_merged_by_id(rel):
    parsed = parse(rel)
    assert parsed.records_read == 6 and len(parsed.events) == 6 and parsed.feedback == []
    chain, tool, *llm = parsed.events
    # the chain was posted unfinished and patched later: the merge has both ends
    assert (chain["name"], chain["kind"], chain["parent_id"]) == ("answer", "chain", None)
    assert chain["ts_end"] is not None and chain["latency_ms"] > 1500
    assert (tool["name"], tool["kind"]) == ("get_weather", "tool")
    for row in parsed.events:
        assert row["trace_id"] == chain["event_id"]
        assert (row["user_id"], row["session_id"], row["tags"]) == (
            "user-9", "thread-1", ["fixtures"])  # fmt: skip
        assert row is chain or row["parent_id"] == chain["event_id"]
    got = [
        (
            e["name"],
            e["provider"],
            e["model"],
            e["model_requested"],
            e["tokens_in"],
            e["tokens_out"],
            e["input_text"],
            e["output_text"],
            e["status"],
        )
        for e in llm
    ]
    assert got == [
        ("ChatOpenAI", "openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini", 18, 24,
         "Weather in Paris?", None, "ok"),
        ("ChatOpenAI", "openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini", 144, 10,
         "Weather in Paris?", "It is rainy in Paris, 14°C.", "ok"),
        ("ChatOpenAI", "openai", "gpt-4", "gpt-4", 9, 5, "Say this is a test", "This is a test.",
         "ok"),
        ("ChatOpenAI", "openai", "this-model-does-not-exist", "this-model-does-not-exist", None,
         None, "Say this is a test", None, "error"),
    ]  # fmt: skip
    tools, answer, stream, missing = llm
    assert [c["function"]["name"] for c in tools["output_messages"][0]["tool_calls"]] == [
        "get_weather", "get_population"]  # fmt: skip
    assert [m["role"] for m in answer["input_messages"]] == [
        "system", "user", "assistant", "tool", "tool"]  # fmt: skip
    assert answer["params"] == {"max_tokens": 100, "temperature": 0.2}
    assert answer["tokens_cache_read"] == 0
    assert answer["cost_usd"] == pytest.approx((144 * 0.15 + 10 * 0.60) / 1e6)
    assert stream["params"] == {"stream": True}
    assert stream["cost_usd"] == pytest.approx((9 * 30 + 5 * 60) / 1e6)
    assert missing["error_message"].startswith(
        "NotFoundError('Error code: 404 - The model `this-model-does-not-exist` does not exist"
    )


def test_feedback_from_create_feedback():
    runs = parse("langsmith/runs_batch.jsonl").events
    chain, _, first, answer, *_ = runs
    parsed = parse("langsmith/feedback.jsonl")
    assert parsed.events == [] and parsed.records_read == 3
    by_name = {f["name"]: f for f in parsed.feedback}
    judged, rating, edited = by_name["correctness"], by_name["user_rating"], by_name["edited"]
    assert (judged["event_id"], judged["kind"], judged["value"]) == (
        answer["event_id"],
        "score",
        1.0,
    )
    assert (judged["source"], judged["comment"]) == ("llm_judge", "matches the tool result")
    # feedback on the root run: on that run's id (LangSmith has no trace-only feedback)
    assert (rating["event_id"], rating["value"], rating["label"]) == (chain["event_id"], 0.0,
                                                                      "too long")  # fmt: skip
    assert rating["source"] == "code"
    assert (edited["event_id"], edited["kind"], edited["value"]) == (
        first["event_id"], "correction", None)  # fmt: skip
    assert edited["correction"] == '{"content":"Rain."}'

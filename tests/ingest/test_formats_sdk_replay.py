"""OTLP files made by the real OpenTelemetry SDK + OpenAI instrumentation (openai-v2) driving the
openai SDK against a local server (tests/data/make_otlp.py), in the current and the deprecated
GenAI conventions: spans, and the log events beside them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.formats import detect_format, read_foreign

DATA = Path(__file__).resolve().parent.parent / "data" / "otlp"
SPAN_IDS = ("0000000000001002", "0000000000001004", "0000000000001006", "0000000000001008")


def parse(path: Path):
    data = path.read_bytes()
    name = detect_format(path, data[:65536])
    assert name == "otlp"
    return read_foreign(name, path, data)


def by_id(parsed):
    return {e["event_id"]: e for e in parsed.events}


@pytest.mark.parametrize("mode", ["current", "deprecated"])
def test_recorded_calls(mode):
    parsed = parse(DATA / f"openai_v2_{mode}.traces.jsonl")
    assert parsed.rejects == [] and sorted(by_id(parsed)) == list(SPAN_IDS)
    tools, answer, stream, missing = (by_id(parsed)[i] for i in SPAN_IDS)
    # (1) a question answered with two parallel tool calls
    assert (tools["model"], tools["model_requested"]) == ("gpt-4o-mini-2024-07-18", "gpt-4o-mini")
    assert (tools["tokens_in"], tools["tokens_out"], tools["name"]) == (18, 24, "chat gpt-4o-mini")
    assert [m["role"] for m in tools["input_messages"]] == ["system", "user"]
    calls = tools["output_messages"][0]["tool_calls"]
    assert [(c["id"], c["function"]["name"]) for c in calls] == [
        ("call_0001", "get_weather"), ("call_0002", "get_population")]  # fmt: skip
    assert tools["cost_usd"] == pytest.approx((18 * 0.15 + 24 * 0.60) / 1e6)
    # (2) the tool results answered in text
    assert [m["role"] for m in answer["input_messages"]] == [
        "system", "user", "assistant", "tool", "tool"]  # fmt: skip
    assert (answer["output_text"], answer["tokens_in"], answer["tokens_out"]) == (
        "It is rainy in Paris, 14°C.", 144, 10)  # fmt: skip
    # (3) the streamed answer, reassembled by the instrumentation
    assert stream["output_text"] == "This is a test."
    assert (stream["tokens_in"], stream["tokens_out"], stream["model"]) == (9, 5, "gpt-4")
    # (4) the 404
    assert (missing["status"], missing["error_type"]) == ("error", "NotFoundError")
    assert missing["error_message"] == (
        "Error code: 404 - The model `this-model-does-not-exist` does not exist or you do not "
        "have access to it."
    )
    assert missing["input_text"] == "Say this is a test" and missing["tokens_in"] is None


def test_current_and_deprecated_agree():
    cur = by_id(parse(DATA / "openai_v2_current.traces.jsonl"))
    dep = by_id(parse(DATA / "openai_v2_deprecated.traces.jsonl"))
    same = ("kind", "provider", "model", "model_requested", "input_text", "output_text",
            "tokens_in", "tokens_out", "cost_usd", "status", "error_type", "name")  # fmt: skip
    for span_id in SPAN_IDS:
        assert {k: cur[span_id][k] for k in same} == {k: dep[span_id][k] for k in same}
    # the deprecated spans carry no content: it came from the log events beside them
    assert cur["0000000000001004"]["input_messages"] == dep["0000000000001004"]["input_messages"]
    # the deprecated instrumentation logged the service tier as a request attribute
    assert dep["0000000000001002"]["params"] == {
        "temperature": 0.2, "max_tokens": 100, "service_tier": "default"}  # fmt: skip
    assert cur["0000000000001002"]["params"] == {"temperature": 0.2, "max_tokens": 100}


@pytest.mark.parametrize("mode", ["current", "deprecated"])
def test_logs_file_beside_its_traces_adds_no_duplicate_rows(mode):
    parsed = parse(DATA / f"openai_v2_{mode}.logs.jsonl")
    assert parsed.events == [] and parsed.rejects == []
    assert parsed.records_read == {"current": 4, "deprecated": 12}[mode]


@pytest.mark.parametrize("mode", ["current", "deprecated"])
def test_logs_file_alone_gives_the_calls(tmp_path, mode):
    alone = tmp_path / "calls.logs.jsonl"
    shutil.copy(DATA / f"openai_v2_{mode}.logs.jsonl", alone)
    rows = by_id(parse(alone))
    assert sorted(rows) == list(SPAN_IDS)
    assert rows["0000000000001006"]["input_text"] == "Say this is a test"
    assert rows["0000000000001006"]["output_text"] == "This is a test."
    assert rows["0000000000001004"]["output_text"] == "It is rainy in Paris, 14°C."
    assert rows["0000000000001002"]["output_messages"][0]["tool_calls"][1]["function"]["name"] == (
        "get_population"
    )
